"""VALL-E: autoregressive over the first codebook (KV cache), NAR for the other codebooks; or,
for a model with a depth head over a latent-RVQ codec, every codebook from the ar model itself."""

from __future__ import annotations

import torch

from palette.codec import FrameKind
from palette.models.families.base import (
    Family,
    autoregressive_length,
    steps,
)
from palette.models.families.completion import complete_codebooks
from palette.models.families.kalle import latent_refiner, refined
from palette.models.generate import ARGenerator
from palette.models.sampling import SamplingOptions
from palette.models.speculative import SpeculativeARGenerator, SpeculativeOptions
from palette.models.speculative_depth import SpeculativeDepthGenerator


class ARFamily(Family):
    name = "ar"
    stages = ("ar",)
    # a depth-head model also refines with the refine stage where there is one (par's row lists
    # it, which keeps the table's stage order: ar, nar, par, refine, kalle)
    optional_stages = ("nar",)
    options = frozenset(
        {
            "temperature",
            "top_k",
            "top_p",
            "ras_window",
            "ras_threshold",
            "speculative",
            "draft_tokens",
            "tau_ctc",
            "tau_lm",
            "speed",
            "duration",
            "refine_iterations",
            "refine_quantile",
        }
    )  # speed/duration: aligned models; refine_*: depth-head models with a refine stage
    summary = (
        "VALL-E-style autoregressive codes (+ NAR for the other codebooks, or every codebook "
        "through a depth head), optionally self-speculative"
    )

    def frame_kind(self, models):
        return FrameKind.CODES

    @staticmethod
    def sampling(options) -> SamplingOptions:
        return SamplingOptions(
            temperature=options.temperature,
            top_k=options.top_k,
            top_p=options.top_p,
            ras_window=options.ras_window,
            ras_threshold=options.ras_threshold,
        )

    @staticmethod
    def speculative(options) -> SpeculativeOptions:
        return SpeculativeOptions(
            mode=options.speculative,
            draft_tokens=options.draft_tokens,
            tau_ctc=options.tau_ctc,
            tau_lm=options.tau_lm,
        )

    def pieces(self, request, models, options, whole):
        model = models["ar"]
        cap, durations = autoregressive_length(model, request, options)
        depth = model.config.depth  # every codebook from the ar model itself: no NAR
        prompt = request.prompt_frames(FrameKind.CODES)
        prompt = prompt[: model.config.num_codebooks] if depth else prompt[0]
        if options.speculative and depth:
            generator = SpeculativeDepthGenerator(
                model,
                request.text,
                prompt,
                cap,
                self.sampling(options),
                self.speculative(options),
                options.seed,
                durations,
                request.speaker_for(model),
            )
        elif options.speculative:
            generator = SpeculativeARGenerator(
                model,
                request.text,
                prompt,
                cap,
                self.sampling(options),
                self.speculative(options),
                request.target_start,
                options.seed,
                durations,
                request.speaker_for(model),
            )
        else:
            generator = ARGenerator(
                model,
                request.text,
                prompt,
                cap,
                self.sampling(options),
                options.seed,
                durations=durations,
                speaker=request.speaker_for(model),
            )
        if depth:
            refiner = latent_refiner(models, options, whole)
            if refiner is None:
                return steps(generator)
            return iter([refined_codes(generator, refiner, request, options, durations)])
        return complete_codebooks(steps(generator), request, models, options.chunk_frames)


def refined_codes(generator, refiner, request, options, durations) -> torch.Tensor:
    """A depth-head model's finished sentence ``[Q, T]`` after NAR refinement of its
    lowest-confidence frames, as kalle's (``kalle.refined``): over the latents its codes stand
    for, quantised back to codes as the codec quantises."""
    frames = generator.model.frames
    codes = generator.generate()
    latents = refined(
        frames.latents(codes[None])[0], generator.confidence, refiner, request, options, durations
    )
    return frames.quantize(latents[None])[0]
