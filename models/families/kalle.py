"""KALL-E: autoregressive next-distribution prediction over codec latents (a Gaussian per
frame, stop logit)."""

from __future__ import annotations

from palette.codec import FrameKind
from palette.models.families.base import (
    Family,
    frame_cap,
    predicted_durations,
    steps,
    target_frames,
)
from palette.models.generate import ARGenerator, GaussianSampling, length_cap


class KalleFamily(Family):
    name = "kalle"
    stages = ("kalle",)
    options = frozenset({"temperature", "speed", "duration"})  # speed/duration: aligned models
    summary = "KALL-E-style continuous autoregression (a Gaussian per latent frame)"

    def frame_kind(self, models):
        return FrameKind.LATENTS

    def pieces(self, request, models, options, whole):
        model = models["kalle"]
        cap = frame_cap(request, length_cap(request.target_tokens, request.frame_rate))
        durations = None
        if model.config.aligned:  # explicit durations fix the length, as for PAR
            cap = target_frames(request, options)
            durations = predicted_durations(model, request, cap)
        prompt = request.prompt_frames(FrameKind.LATENTS)
        sampling = GaussianSampling(temperature=options.temperature)
        return steps(
            ARGenerator(
                model, request.text, prompt, cap, sampling, options.seed, durations=durations
            )
        )
