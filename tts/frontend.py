"""The text front end: raw text -> normalised text -> IPA tokens -> symbol ids."""

from __future__ import annotations

from dataclasses import dataclass

from palette.codec.files import UserError
from palette.tts.phonemes import phonemize
from palette.tts.symbols import SymbolTable
from palette.tts.text import normalize, split_sentences


@dataclass(frozen=True)
class FrontendOutput:
    text: str  # the input as given
    normalized: str  # spoken form (English normalisation for English languages)
    phonemes: list[str]  # single-character IPA tokens, " " between words
    ids: list[int]  # symbol ids ``[N]`` in the table of the model


class TextFrontend:
    """``TextFrontend(language)(text) -> FrontendOutput``; ``.sentences(text)`` splits long text
    first. English normalisation applies to ``en*`` languages; others go to espeak-ng as is."""

    def __init__(self, language: str = "en-us", symbols: SymbolTable | None = None):
        self.language = language
        self.symbols = symbols or SymbolTable.default()

    def normalize(self, text: str) -> str:
        if self.language.startswith("en"):
            return normalize(text)
        return " ".join(text.split())

    def __call__(self, text: str) -> FrontendOutput:
        if not text or not text.strip():
            raise UserError("the text is empty")
        normalized = self.normalize(text)
        if not any(ch.isalpha() for ch in normalized):
            raise UserError(f"nothing speakable in the text {text!r}")
        phonemes = phonemize(normalized, self.language)
        return FrontendOutput(text, normalized, phonemes, self.symbols.encode(phonemes))

    def sentences(self, text: str, max_chars: int = 250) -> list[FrontendOutput]:
        """Split ``text`` into sentences and run each through the front end."""
        if not text or not text.strip():
            raise UserError("the text is empty")
        return [self(s) for s in split_sentences(text, max_chars) if any(c.isalnum() for c in s)]
