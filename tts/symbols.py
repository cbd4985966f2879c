"""The versioned symbol table: phoneme tokens <-> integer ids.

Every model saves its table (``to_dict``) in its ``config.json`` and encodes with it, so a model
never meets an id it was not trained on. Tokens are single characters of espeak-ng's IPA output
(letters, stress and length marks, diacritics), punctuation, the word boundary ``" "`` and a few
special tokens. Version 1 fixes the inventory below; a new inventory gets a new version.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field

from palette.codec.files import UserError

PAD, BOS, EOS, PAUSE = "<pad>", "<bos>", "<eos>", "<pause>"
SPECIALS = (PAD, BOS, EOS, PAUSE)
PUNCTUATION = " .,!?;:-'\"()"


def _ipa_inventory() -> list[str]:
    """Latin letters, Latin-1 letters, IPA extensions, spacing modifiers, combining diacritics
    and the Greek/phonetic letters espeak-ng uses."""
    ranges = [
        (0x61, 0x7A),  # a-z
        (0xE0, 0xFF),  # à-ÿ (æ ç ð ø ...)
        (0x100, 0x17F),  # Latin Extended-A (ħ ŋ œ ...)
        (0x250, 0x2AF),  # IPA Extensions
        (0x2B0, 0x2FF),  # Spacing Modifier Letters (ˈ ˌ ː ʰ ʲ ...)
        (0x300, 0x36F),  # Combining Diacritical Marks
        (0x3B2, 0x3B2),
        (0x3B8, 0x3B8),
        (0x3C7, 0x3C7),  # β θ χ
        (0x1D7B, 0x1D7B),
        (0x1D7D, 0x1D7D),  # ᵻ ᵽ
        (0x2191, 0x2191),
        (0x2193, 0x2193),
        (0x2197, 0x2198),  # tone arrows
        (0x203F, 0x203F),  # ‿ linking
    ]
    chars = [chr(c) for lo, hi in ranges for c in range(lo, hi + 1)]
    return [c for c in chars if c not in ("\u00f7", "\u00d7")]  # ÷ × are not letters


@dataclass(frozen=True)
class SymbolTable:
    """Token list; the id of a token is its index. ``version`` names the inventory."""

    symbols: tuple[str, ...]
    version: int = 1
    _index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        if len(set(self.symbols)) != len(self.symbols):
            raise ValueError("symbol table has duplicate symbols")
        object.__setattr__(self, "_index", {s: i for i, s in enumerate(self.symbols)})

    @classmethod
    def default(cls) -> SymbolTable:
        """Version-1 table: specials, punctuation, IPA characters."""
        return cls(tuple(SPECIALS) + tuple(PUNCTUATION) + tuple(_ipa_inventory()), version=1)

    def __len__(self) -> int:
        return len(self.symbols)

    def __contains__(self, token: str) -> bool:
        return token in self._index

    def id(self, token: str) -> int:
        return self._index[token]

    def encode(self, tokens: Iterable[str]) -> list[int]:
        """Tokens -> ids. Tokens outside the table are dropped with a warning naming them."""
        ids, unknown = [], []
        for tok in tokens:
            if tok in self._index:
                ids.append(self._index[tok])
            else:
                unknown.append(tok)
        if unknown:
            names = ", ".join(repr(t) for t in sorted(set(unknown)))
            warnings.warn(
                f"dropped symbols unknown to table v{self.version}: {names}", stacklevel=2
            )
        return ids

    def decode(self, ids: Iterable[int]) -> list[str]:
        """Ids -> tokens; an id outside the table is an error."""
        out = []
        for i in ids:
            if not 0 <= int(i) < len(self.symbols):
                raise UserError(f"symbol id {i} outside table v{self.version} (size {len(self)})")
            out.append(self.symbols[int(i)])
        return out

    def to_dict(self) -> dict:
        """JSON-ready form saved in a model's config.json."""
        return {"version": self.version, "symbols": list(self.symbols)}

    @classmethod
    def from_dict(cls, data: dict) -> SymbolTable:
        return cls(tuple(data["symbols"]), version=int(data["version"]))
