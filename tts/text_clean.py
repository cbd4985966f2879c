"""Cleaning raw text before it is split and normalised.

- ``clean_control``: Unicode NFC, typographic quotes and dashes made plain, control and format
  characters (NUL, BEL, zero-width spaces, byte-order marks, soft hyphens) removed; line breaks
  and tabs stay, they are white space.
- ``drop_foreign_letters``: letters of scripts English cannot speak (Chinese, Arabic, Cyrillic,
  ...) are dropped with one warning that names them, instead of espeak-ng spelling them out as
  "chinese letter" (the front end raises ``UserError`` for a text with nothing left, naming the
  scripts with ``foreign_scripts``).
"""

from __future__ import annotations

import re
import unicodedata
import warnings

_TRANSLATE = str.maketrans(
    {
        "’": "'",
        "‘": "'",
        "“": '"',
        "”": '"',
        "–": "-",
        "—": " - ",
        "−": "-",
        "…": "...",
        "\u00a0": " ",
        "\u2009": " ",
        "\u202f": " ",
        "℃": "°C",
        "℉": "°F",
    }
)
_GLUED_FRACTION = re.compile(r"(\d)([½¼¾⅓⅔⅛⅜⅝⅞])")
_FEET_INCHES = re.compile(r"(?<![\w'])(\d+)'\s?(\d{1,2})\"")
_INCHES = re.compile(r"(?<![\w\"])(\d+(?:/\d+)?)\"(?=[\s,.;:!?)-]|$)")
_KEPT_CONTROLS = set("\n\t\r")
# letters English readers say although they are not Latin
_SPEAKABLE_OTHER = {"µ", "μ", "π", "Ω", "ª", "º"}


def clean_control(text: str) -> str:
    """NFC, plain quotes/dashes, control and format characters removed (see module doc)."""
    text = unicodedata.normalize("NFC", text).translate(_TRANSLATE)
    text = _GLUED_FRACTION.sub(r"\1 \2", text)  # 5½ -> 5 ½ (a mixed number)
    text = _FEET_INCHES.sub(r"\1 feet \2 inches", text)  # 5'11"
    text = _INCHES.sub(r"\1 inch", text)  # a 1/4" bit, a 12" screen
    return "".join(
        ch
        for ch in text
        if ch in _KEPT_CONTROLS or unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn")
    )


def _script(ch: str) -> str:
    """The script word of a character's Unicode name: 'CJK', 'ARABIC', 'CYRILLIC', ..."""
    return unicodedata.name(ch, "UNKNOWN").split()[0]


def _foreign(ch: str) -> bool:
    return ch.isalpha() and _script(ch) != "LATIN" and ch not in _SPEAKABLE_OTHER


def foreign_scripts(text: str) -> list[str]:
    """Scripts of the letters ``drop_foreign_letters`` would drop: ['arabic', 'cjk', ...]."""
    return sorted({_script(ch).lower() for ch in text if _foreign(ch)})


def describe(chars) -> str:
    return ", ".join(
        f"{c!r} ({unicodedata.name(c, f'U+{ord(c):04X}')})" for c in sorted(set(chars))
    )


def drop_foreign_letters(text: str, max_named: int = 8) -> str:
    """Drop letters (and marks on them) that are not Latin script (see module doc)."""
    kept, dropped = [], []
    for ch in text:
        if _foreign(ch):
            dropped.append(ch)
            kept.append(" ")
        else:
            kept.append(ch)
    if not dropped:
        return text
    distinct = sorted(set(dropped))
    scripts = sorted({_script(c).lower() for c in distinct})
    named = describe(distinct[:max_named]) + (
        f" and {len(distinct) - max_named} more" if len(distinct) > max_named else ""
    )
    out = "".join(kept)
    warnings.warn(
        f"dropped {len(dropped)} letters of scripts English cannot speak "
        f"({'/'.join(scripts)}): {named}",
        stacklevel=3,
    )
    return out
