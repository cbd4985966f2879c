"""KALL-E: autoregressive next-distribution prediction over codec latents (a Gaussian per
frame, stop logit), optionally self-speculative with its Gaussian draft head."""

from __future__ import annotations

from palette.codec import FrameKind
from palette.models.families.base import (
    Family,
    autoregressive_length,
    steps,
)
from palette.models.generate import ARGenerator, GaussianSampling
from palette.models.speculative import SpeculativeOptions
from palette.models.speculative_gaussian import SpeculativeGaussianGenerator


class KalleFamily(Family):
    name = "kalle"
    stages = ("kalle",)
    options = frozenset(
        {"temperature", "speculative", "draft_tokens", "tau_lm", "speed", "duration"}
    )  # speed/duration: aligned models
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
        return steps(generator)
