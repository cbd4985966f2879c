"""The family table: every model family palette-tts can speak with, by name.

A new family is one module (a ``Family`` subclass) plus one row here; the facade, CLI, recipes
and benchmarks read this table instead of spelling family names.
"""

from __future__ import annotations

from palette.codec import UserError
from palette.models.families.ar import ARFamily
from palette.models.families.base import (
    LOOP_OPTIONS,
    Family,
    Models,
    SentenceRequest,
    rechunk,
    steps,
)
from palette.models.families.kalle import KalleFamily
from palette.models.families.par import PARFamily

FAMILIES: dict[str, Family] = {f.name: f for f in (ARFamily(), PARFamily(), KalleFamily())}

# every stage a model directory may hold, in a stable order
STAGES: tuple[str, ...] = tuple(
    dict.fromkeys(s for f in FAMILIES.values() for s in f.stages + f.optional_stages)
)


def get_family(name: str) -> Family:
    if name not in FAMILIES:
        raise UserError(f"unknown model family {name!r}; one of {', '.join(FAMILIES)}")
    return FAMILIES[name]


__all__ = [
    "FAMILIES",
    "LOOP_OPTIONS",
    "STAGES",
    "Family",
    "Models",
    "SentenceRequest",
    "get_family",
    "rechunk",
    "steps",
]
