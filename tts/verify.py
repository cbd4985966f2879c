"""Takes checked for content: a generated sentence is heard back by Whisper and compared word by
word with what it should say; a take that skips, repeats or garbles words is redone with another
seed (a bounded number of times), and the best take is kept.

    checker = WhisperChecker()
    score = checker(audio, 24000, "the text it should say")   # -> TakeScore
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

import numpy as np

_NOT_WORD = re.compile(r"[^a-z0-9' ]+")


def words(text: str) -> list[str]:
    """Normalised text -> lower-case words (accents, punctuation and apostrophes dropped)."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower().replace("-", " ")
    return _NOT_WORD.sub(" ", text).replace("'", "").split()


@dataclass(frozen=True)
class TakeScore:
    """How a take's words compare with the text: edit operations on words."""

    substituted: int
    skipped: int  # words of the text that are missing (deletions)
    inserted: int  # words heard that the text does not have
    repeated: int  # insertions that repeat a neighbouring word
    words: int  # words in the text

    @property
    def errors(self) -> int:
        return self.substituted + self.skipped + self.inserted

    @property
    def wer(self) -> float:
        return self.errors / max(1, self.words)

    @property
    def rank(self) -> tuple[int, int]:
        """Lower is better: skipped and repeated words first (the model's own content errors),
        then every error (a substitution may be the recogniser mishearing an odd voice)."""
        return (self.skipped + self.repeated, self.errors)

    def acceptable(self, max_wer: float) -> bool:
        """A take to keep: no skipped or repeated word, and a word error rate within ``max_wer``."""
        return self.skipped == 0 and self.repeated == 0 and self.wer <= max_wer


def score_take(reference: list[str], heard: list[str]) -> TakeScore:
    """Word-level edit distance with its operations counted (dynamic programming)."""
    n, m = len(reference), len(heard)
    cost = np.zeros((n + 1, m + 1), dtype=np.int64)
    cost[:, 0], cost[0, :] = np.arange(n + 1), np.arange(m + 1)
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            same = reference[i - 1] == heard[j - 1]
            cost[i, j] = min(
                cost[i - 1, j - 1] + (not same), cost[i - 1, j] + 1, cost[i, j - 1] + 1
            )
    sub = dele = ins = rep = 0
    i, j = n, m
    while i or j:
        if i and j and cost[i, j] == cost[i - 1, j - 1] + (reference[i - 1] != heard[j - 1]):
            sub += reference[i - 1] != heard[j - 1]
            i, j = i - 1, j - 1
        elif i and cost[i, j] == cost[i - 1, j] + 1:
            dele, i = dele + 1, i - 1
        else:
            neighbours = {
                heard[j - 2] if j > 1 else None,
                reference[i - 1] if i else None,
                reference[i] if i < n else None,
            }
            rep += heard[j - 1] in neighbours
            ins, j = ins + 1, j - 1
    return TakeScore(sub, dele, ins, rep, n)


@dataclass
class WhisperChecker:
    """Scores takes with the Whisper tiny.en model of the ``asr`` extra; the synthesizer logs
    every take it heard in ``log`` as ``(sentence index, score)``."""

    log: list[tuple[int, TakeScore]] = field(default_factory=list)

    def __call__(self, audio: np.ndarray, sample_rate: int, text: str) -> TakeScore:
        from palette.codec.files import UserError
        from palette.tts.audio import resample
        from palette.tts.transcribe import _whisper

        if len(audio) == 0:
            return score_take(words(text), [])
        try:
            whisper = _whisper()
        except UserError:
            raise UserError(
                "verify hears takes back with Whisper: install it with "
                "pip install 'palette-tts[asr]'"
            ) from None
        segments, _ = whisper.transcribe(
            resample(audio, sample_rate, 16000), beam_size=1, language="en"
        )
        heard = " ".join(s.text.strip() for s in segments)
        if not heard.strip():
            return score_take(words(text), [])
        import warnings

        from palette.tts.text import normalize

        with warnings.catch_warnings():  # what Whisper writes may hold symbols we drop
            warnings.simplefilter("ignore")
            return score_take(words(text), words(normalize(heard)))
