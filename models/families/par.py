"""PALLE: pseudo-autoregressive span commits over a fixed length, then NAR refinement of the
lowest-confidence frames (the ``refine`` stage); over first-codebook codes (+ NAR completion)
or over codec latents (optionally frame-aligned with a duration head)."""

from __future__ import annotations

from palette.codec import FrameKind
from palette.models.families.base import Family, steps, target_frames
from palette.models.families.completion import complete_codebooks
from palette.models.par_generate import PARGenerator, PAROptions


def scaled(speaker, scale: float | None):
    """The speaker embedding ``[E]`` times ``scale`` (None: unscaled; no embedding stays None)."""
    return speaker if speaker is None or scale is None else speaker * scale


class PARFamily(Family):
    name = "par"
    stages = ("par",)
    optional_stages = ("refine", "nar")
    options = frozenset(
        {
            "temperature",
            "top_p",
            "span",
            "refine_iterations",
            "refine_quantile",
            "speed",
            "duration",
            "speaker_scale",
        }
    )
    summary = "PALLE-style pseudo-autoregressive spans + NAR refinement"

    def frame_kind(self, models):
        return FrameKind.LATENTS if models["par"].continuous else FrameKind.CODES

    @staticmethod
    def par_options(options) -> PAROptions:
        return PAROptions(
            span=options.span,
            temperature=options.temperature,
            top_p=options.top_p,
            refine_iterations=options.refine_iterations,
            refine_quantile=options.refine_quantile,
        )

    def pieces(self, request, models, options, whole):
        model = models["par"]
        kind = self.frame_kind(models)
        prompt = request.prompt_frames(kind)
        prompt = prompt if kind is FrameKind.LATENTS else prompt[0]
        generator = PARGenerator(
            model,
            request.text,
            prompt,
            target_frames(request, options),
            self.par_options(options),
            seed=options.seed,
            target_start=request.target_start,
            speaker=scaled(request.speaker_for(model), options.speaker_scale),
        )
        refiner = models.get("refine") if whole else None
        first = steps(generator) if refiner is None else iter([generator.generate(refiner)])
        if kind is FrameKind.LATENTS:
            return first
        return complete_codebooks(first, request, models, options.chunk_frames)
