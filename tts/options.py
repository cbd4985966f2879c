"""``SynthesisOptions``: every knob of one synthesis call, in one frozen dataclass."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass


@dataclass(frozen=True)
class SynthesisOptions:
    family: str | None = None  # "ar", "par" or "kalle"; None = the bundle's default
    temperature: float | None = None  # sampling temperature (kalle, latent par: scale on the
    # sampled noise); None = the model's recommendation (bundle.json "sampling"), else 0.8
    top_k: int = 0  # ar: keep the k most likely codes (0 = all)
    top_p: float = 0.9  # ar/par: nucleus sampling
    ras_window: int = 10  # ar: repetition-aware sampling window (0 = off)
    ras_threshold: float = 0.1  # ar: repetition ratio that triggers resampling
    span: int | None = None  # par: frames committed per step; None = the model's, else 8
    refine_iterations: int = 2  # par: refinement passes (needs a refine model)
    refine_quantile: float = 0.1  # par: fraction of frames re-masked per pass
    speed: float = 1.0  # par: speaking rate relative to the prompt
    duration: float | None = None  # par: length of each sentence in seconds (overrides speed)
    seed: int = 0  # random seed; the same seed gives the same audio
    sentence_pause: float = 0.2  # seconds of silence between sentences
    max_sentence_chars: int = 250  # longer sentences are split at clauses
    chunk_frames: int = 10  # frames per streamed chunk, and per NAR completion step
    context_frames: int = 50  # codec frames of left context when decoding a chunk

    def ignored_by(self, family) -> list[str]:
        """Messages for the options set away from their defaults that ``family`` (a
        ``palette.models.families.Family``) does not read (whisper's option check)."""
        from palette.models.families import FAMILIES, LOOP_OPTIONS

        messages = []
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name in LOOP_OPTIONS or f.name in family.options or value == f.default:
                continue
            users = [name for name, other in FAMILIES.items() if f.name in other.options]
            messages.append(f"option {f.name}={value!r} has no effect with the {family.name} "
                            f"family (it is used by {', '.join(users) or 'no family'})")
        return messages


FALLBACK = {"temperature": 0.8, "span": 8}  # for options left unset that a model does not recommend


def resolve_options(options: SynthesisOptions, recommended: dict) -> SynthesisOptions:
    """Fill the options left at ``None`` from ``recommended`` (a model's ``bundle.json``
    ``"sampling"`` entry for the family), then from ``FALLBACK``."""
    merged = FALLBACK | recommended
    unset = {k: v for k, v in merged.items() if getattr(options, k) is None}
    return dataclasses.replace(options, **unset)
