"""Word error rate: text normalisation for scoring, per-utterance errors, corpus WER.

Both sides go through the same normaliser before they are compared: ``tts.text.normalize``
spells out numbers, dates, currency and abbreviations (so Whisper's "25%" and a reference's
"twenty-five percent" agree), then case, accents, punctuation and apostrophes are folded away
and hyphens split words. Alignment and counts come from ``jiwer``.
"""

from __future__ import annotations

import re
import unicodedata
import warnings
from collections.abc import Iterable
from dataclasses import dataclass

from palette.recipes.evaluation.metrics.deps import require

_NOT_WORD = re.compile(r"[^\w\s]|_")
_SPACES = re.compile(r"\s+")


def normalize_for_wer(text: str) -> str:
    """Written English -> lower-case words separated by single spaces, for scoring only.

    >>> normalize_for_wer("Dr. Smith's 2 cats -- well-fed!")
    'doctor smiths two cats well fed'
    """
    from palette.tts.text import normalize

    with warnings.catch_warnings():  # unspeakable characters are dropped either way
        warnings.simplefilter("ignore")
        text = normalize(text)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.replace("'", "").replace("-", " ")
    text = _NOT_WORD.sub(" ", text.lower())
    return _SPACES.sub(" ", text).strip()


@dataclass(frozen=True)
class WordErrors:
    """Edit operations aligning a hypothesis to a reference (both already normalised)."""

    substitutions: int
    deletions: int
    insertions: int
    words: int  # reference length in words

    @property
    def errors(self) -> int:
        return self.substitutions + self.deletions + self.insertions

    @property
    def wer(self) -> float | None:
        """errors / reference words; None for an empty reference (undefined)."""
        return self.errors / self.words if self.words else None


def word_errors(reference: str, hypothesis: str, normalize: bool = True) -> WordErrors:
    """Count substitutions, deletions and insertions turning ``reference`` into ``hypothesis``.

    >>> word_errors("the cat sat on the mat", "the cat sit on mat").wer  # 1 sub + 1 del
    0.3333333333333333
    """
    if normalize:
        reference, hypothesis = normalize_for_wer(reference), normalize_for_wer(hypothesis)
    ref_words, hyp_words = reference.split(), hypothesis.split()
    if not ref_words or not hyp_words:  # jiwer needs words on both sides
        return WordErrors(0, len(ref_words), len(hyp_words), len(ref_words))
    jiwer = require("jiwer", "jiwer", "WER scoring")
    out = jiwer.process_words(" ".join(ref_words), " ".join(hyp_words))
    return WordErrors(out.substitutions, out.deletions, out.insertions, len(ref_words))


def wer(reference: str, hypothesis: str) -> float | None:
    """Word error rate of one utterance after normalisation (None for an empty reference)."""
    return word_errors(reference, hypothesis).wer


def corpus_wer(counts: Iterable[WordErrors]) -> float | None:
    """Corpus-level WER: total errors / total reference words (None when there are no words)."""
    counts = list(counts)
    words = sum(c.words for c in counts)
    return sum(c.errors for c in counts) / words if words else None
