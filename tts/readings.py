"""Compare spoken readings and load the normalisation test cases.

Two readings are the same when they would be spoken the same: case, hyphens, commas and sentence
punctuation do not count, ``and`` after a scale word (``one hundred and five``) is optional, and
``oh`` and ``zero`` read a digit alike. Everything else must match word for word.

The case file (``tests/tts/data/normalization_cases.tsv``) holds one case a line:
``class<TAB>written<TAB>spoken``, with several acceptable readings separated by `` | ``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_SCALE_AND = re.compile(r"\b(hundred|thousand|million|billion|trillion)\s+and\b")
_DROP = re.compile(r"[,.!?;:\"()\[\]]")


@dataclass(frozen=True)
class Case:
    cls: str  # class of the case: cardinal, money, plain, ...
    written: str
    readings: tuple[str, ...]  # acceptable spoken forms


def canonical(text: str) -> str:
    """The form two readings are compared in (see module doc)."""
    text = text.lower().replace("-", " ").replace("\u2019", "'")
    text = _DROP.sub(" ", text)
    text = _SCALE_AND.sub(r"\1", text)
    text = re.sub(r"\boh\b", "zero", text)
    return " ".join(text.split())


def same_reading(spoken: str, case: Case) -> bool:
    got = canonical(spoken)
    return any(got == canonical(r) for r in case.readings)


def load_cases(path: str | Path) -> list[Case]:
    cases = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 3:
            raise ValueError(f"{path}:{n}: expected class<TAB>written<TAB>spoken, got {line!r}")
        cls, written, spoken = parts
        cases.append(Case(cls, written, tuple(r.strip() for r in spoken.split(" | "))))
    return cases
