"""The text front end: raw text -> normalised text -> IPA tokens -> symbol ids."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

from palette.codec.files import UserError
from palette.tts.phonemes import phonemize
from palette.tts.symbols import SymbolTable
from palette.tts.text import normalize, split_sentences
from palette.tts.text_clean import clean_control, foreign_scripts


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
        return " ".join(clean_control(text).split())

    def __call__(self, text: str) -> FrontendOutput:
        if not text or not text.strip():
            raise UserError("the text is empty")
        normalized = self.normalize(text)
        if not any(ch.isalpha() for ch in normalized):
            scripts = foreign_scripts(text)
            hint = f" (its {'/'.join(scripts)} letters are not {self.language})" if scripts else ""
            raise UserError(f"nothing speakable in the text {text!r}{hint}")
        phonemes = phonemize(normalized, self.language)
        return FrontendOutput(text, normalized, phonemes, self.symbols.encode(phonemes))

    def sentences(self, text: str, max_chars: int = 250) -> list[FrontendOutput]:
        """Split ``text`` into sentences and run each through the front end. A sentence with
        nothing speakable (only letters of another script, say) is skipped with a warning; a
        text with nothing speakable at all is an error."""
        if not text or not text.strip():
            raise UserError("the text is empty")
        outputs, first_error = [], None
        for sentence in split_sentences(text, max_chars):
            if not any(c.isalnum() for c in sentence):
                continue
            try:
                outputs.append(self(sentence))
            except UserError as err:
                if not str(err).startswith("nothing speakable"):
                    raise
                warnings.warn(f"skipped a sentence: {err}", stacklevel=2)
                first_error = first_error or err
        if not outputs and first_error is not None:
            raise first_error
        return outputs
