"""KALL-E: autoregressive next-distribution prediction over codec latents (a Gaussian per
frame, stop logit), optionally self-speculative with its Gaussian draft head; where the model
directory has a ``refine`` stage (the PALLE family's NAR refiner, trained on the same latents),
whole sentences then have their lowest-confidence frames re-predicted by it, as PALLE's are."""

from __future__ import annotations

import torch

from palette.codec import FrameKind
from palette.models.families.base import (
    Family,
    autoregressive_length,
    steps,
)
from palette.models.families.par import PARFamily
from palette.models.generate import ARGenerator, GaussianSampling
from palette.models.par_generate import PARGenerator
from palette.models.speculative import SpeculativeOptions
from palette.models.speculative_gaussian import SpeculativeGaussianGenerator


class KalleFamily(Family):
    name = "kalle"
    stages = ("kalle",)
    optional_stages = ("refine",)
    options = frozenset(
        {
            "temperature",
            "speculative",
            "draft_tokens",
            "tau_lm",
            "speed",
            "duration",  # speed/duration: aligned models
            "refine_iterations",  # refine_*: with a refine stage
            "refine_quantile",
            "top_p",
        }
    )
    summary = (
        "KALL-E-style continuous autoregression (a Gaussian per latent frame), "
        "optionally self-speculative"
    )

    def frame_kind(self, models):
        return FrameKind.LATENTS

    def pieces(self, request, models, options, whole):
        model = models["kalle"]
        cap, durations = autoregressive_length(model, request, options)
        prompt = request.prompt_frames(FrameKind.LATENTS)
        sampling = GaussianSampling(temperature=options.temperature)
        if options.speculative:
            spec = SpeculativeOptions(
                mode=options.speculative, draft_tokens=options.draft_tokens, tau_lm=options.tau_lm
            )
            generator = SpeculativeGaussianGenerator(
                model,
                request.text,
                prompt,
                cap,
                sampling,
                spec,
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
                sampling,
                options.seed,
                durations=durations,
                speaker=request.speaker_for(model),
            )
        refiner = latent_refiner(models, options, whole)
        if refiner is None:
            return steps(generator)
        frames = generator.generate()
        return iter([refined(frames, generator.confidence, refiner, request, options, durations)])


def latent_refiner(models, options, whole: bool):
    """The refine stage that re-predicts a finished sentence's latents, or None: none asked for
    (a streamed sentence, ``refine_iterations`` 0), none in the model, or one over codes (a
    codes refiner cannot take latents)."""
    refiner = models.get("refine") if whole and options.refine_iterations else None
    return refiner if refiner is not None and refiner.continuous else None


def refined(frames, confidence, refiner, request, options, durations) -> torch.Tensor:
    """A finished sentence's latents ``frames [D, T]`` after NAR refinement of its
    lowest-confidence frames (``confidence [T]``; ``PARGenerator.refine``; the same temperature
    and top-p, the durations the AR pass was aligned to)."""
    stage_two = PARGenerator(
        refiner,
        request.text,
        request.prompt_frames(FrameKind.LATENTS),
        frames.shape[-1],
        PARFamily.par_options(options),  # refinement reads all but span
        seed=options.seed,
        target_start=request.target_start,
        speaker=request.speaker_for(refiner),
        durations=durations,
    )
    stage_two.fill(frames, confidence)
    stage_two.refine(refiner)
    return stage_two.generated
