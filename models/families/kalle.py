"""KALL-E: autoregressive next-distribution prediction over codec latents (a Gaussian per
frame, stop logit)."""

from __future__ import annotations

from palette.codec import FrameKind
from palette.models.families.base import (
    Family,
    autoregressive_length,
    steps,
)
from palette.models.generate import ARGenerator, GaussianSampling


class KalleFamily(Family):
    name = "kalle"
    stages = ("kalle",)
    options = frozenset({"temperature", "speed", "duration"})  # speed/duration: aligned models
    summary = "KALL-E-style continuous autoregression (a Gaussian per latent frame)"

    def frame_kind(self, models):
        return FrameKind.LATENTS

    def pieces(self, request, models, options, whole):
        model = models["kalle"]
        cap, durations = autoregressive_length(model, request, options)
        prompt = request.prompt_frames(FrameKind.LATENTS)
        sampling = GaussianSampling(temperature=options.temperature)
        return steps(
            ARGenerator(
                model, request.text, prompt, cap, sampling, options.seed, durations=durations
            )
        )
