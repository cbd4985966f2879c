"""VALL-E: autoregressive over the first codebook (KV cache), NAR for the other codebooks."""

from __future__ import annotations

from palette.codec import FrameKind
from palette.models.families.base import (
    Family,
    autoregressive_length,
    steps,
)
from palette.models.families.completion import complete_codebooks
from palette.models.generate import ARGenerator
from palette.models.sampling import SamplingOptions
from palette.models.speculative import SpeculativeARGenerator, SpeculativeOptions


class ARFamily(Family):
    name = "ar"
    stages = ("ar",)
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
        }
    )  # speed/duration: aligned models
    summary = "VALL-E-style autoregressive codes (+ NAR for the other codebooks), optionally self-speculative"

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

    def pieces(self, request, models, options, whole):
        model = models["ar"]
        cap, durations = autoregressive_length(model, request, options)
        prompt = request.prompt_frames(FrameKind.CODES)[0]
        if options.speculative:
            spec = SpeculativeOptions(
                mode=options.speculative,
                draft_tokens=options.draft_tokens,
                tau_ctc=options.tau_ctc,
                tau_lm=options.tau_lm,
            )
            generator = SpeculativeARGenerator(
                model,
                request.text,
                prompt,
                cap,
                self.sampling(options),
                spec,
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
        return complete_codebooks(steps(generator), request, models, options.chunk_frames)
