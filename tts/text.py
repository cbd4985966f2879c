"""English text normalisation and sentence splitting.

``normalize`` turns written text into the words a reader would say. It reads in three passes:

1. **our rules first** (``palette.tts.text_rules``) for the classes where they measurably read
   better than the library: money with any decimals and ISO codes, numeric dates in every order,
   month names, decades, times with a.m./p.m. and time zones, international phone numbers, URLs
   and e-mail addresses, roman numerals in context, very long numbers, abbreviations;
2. **the FST library** (``wetext``, see ``palette.tts.library_normalizer``) for what is left
   where it holds a digit or a symbol: cardinals, ordinals, decimals, units, phone numbers,
   fractions, ranges, serials, states, plain times; ordinary words never reach it. If it
   raises, hangs past its time limit or returns nothing, that piece is read with our rules
   instead, with a warning — no sentence is lost;
3. **our rules after it**: digits it left, capitalised acronyms spelled (``EST`` -> "e s t"),
   symbols, characters that cannot be spoken dropped (with a warning naming them), lower case.

``read_spans`` returns the same reading as spans, each saying which path read it (``palette
text`` shows them).

    >>> normalize("Dr. Smith paid $3.50 on March 5th, 2024.")
    'doctor smith paid three dollars and fifty cents on march fifth, twenty twenty-four.'
"""

from __future__ import annotations

import re
import unicodedata
import warnings
from dataclasses import dataclass

from palette.tts import text_rules
from palette.tts.library_normalizer import LibraryFailure, LibraryNormalizer, default_library
from palette.tts.text_clean import clean_control, describe, drop_foreign_letters
from palette.tts.word_tables import SYMBOLS

# kept for callers of the old module
ABBREVIATIONS = text_rules.ABBREVIATIONS
MONTHS = text_rules.MONTHS
# characters kept after normalisation besides letters (any script) and spaces
SPOKEN_PUNCTUATION = set(".,!?;:'\"-()")
# capitalised acronyms said as words, not spelled
SAID_AS_WORDS = {
    "NASA",
    "NATO",
    "UNESCO",
    "UNICEF",
    "LASER",
    "RADAR",
    "SCUBA",
    "AIDS",
    "COVID",
    "FIFA",
    "OPEC",
    "NASDAQ",
    "GIF",
    "JPEG",
    "PIN",
    "SIM",
    "LED",
    "OK",
    "IKEA",
    "ASCII",
    "SARS",
    "UEFA",
    "INTERPOL",
    "WIFI",
    "YAML",
    "JSON",
    "SQL",
    "LOL",
    "ASAP",
    "RAM",
    "ROM",
    "DOS",
    "SIMD",
    "PEP",
    "NOAA",
    "CERN",
}
# short words written in capitals for emphasis, said as words
EMPHASIS_WORDS = set(
    "NOT YES ALL AND THE BUT FOR YOU ARE WAS HAS HAD CAN DID BIG BAD NEW OLD ONE TWO NOW HOW WHY "
    "WHO OUT OFF OUR HIS HER SHE HIM ITS GET GOT LET WOW YAY HEY BOO OH NO GO SO DO UP IT IS IN "
    "ON AT TO OF OR BE WE HE ME MY BY AN AS IF AH HA HI YO OK WAY TOO ANY END SEE SAY RUN TRY "
    "YET NOR".split()
)
PLAIN, RULES, LIBRARY, FALLBACK = "plain", "rules", "library", "fallback"


@dataclass(frozen=True)
class NormalizeOptions:
    """How ``normalize`` reads a text."""

    library: bool = True  # read with the FST library where our rules do not (False: rules only)
    timeout_s: float = 1.0  # time limit of one library call; past it, our rules read the piece
    max_library_chars: int = 400  # longer pieces go to the library in parts of at most this
    library_context_words: int = 4  # words either side of a number or symbol the library sees


@dataclass(frozen=True)
class Span:
    """A piece of the input and how it is read."""

    written: str  # the input piece
    spoken: str  # what is said for it (before lower-casing and final clean-up)
    path: (
        str  # PLAIN (kept as written), RULES, LIBRARY, or FALLBACK (rules after a library failure)
    )
    cls: str = ""  # class that read it: money, date, cardinal, ... ("" for plain text)


_NEEDS_LIBRARY = re.compile(r"\d|[½¼¾⅓⅔⅛⅜⅝⅞¹²³%&@/+=#°×~^$€£¥₹₩‰]|,\s[A-Z]{2}\b")
_TENS = "twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety"
_UNITS = (
    "one|two|three|four|five|six|seven|eight|nine|"
    "first|second|third|fourth|fifth|sixth|seventh|eighth|ninth"
)
_SMALL = (
    _UNITS + "|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|"
    "nineteen|" + _TENS + "|tenth|eleventh|twelfth|thirteenth|fourteenth|fifteenth|"
    "sixteenth|seventeenth|eighteenth|nineteenth|twentieth|thirtieth|fortieth|fiftieth|"
    "sixtieth|seventieth|eightieth|ninetieth"
)
_HUNDRED = re.compile(rf"\bhundred (?=(?:{_SMALL})\b)", re.I)
_THOUSAND = re.compile(rf"\bthousand (?=(?:{_SMALL})\b(?!\s+hundred))", re.I)
_COMPOUND = re.compile(rf"\b({_TENS}) ({_UNITS})\b", re.I)
_LEADING_SCALE = re.compile(r"^(hundred|thousand|million|billion|trillion)\b", re.I)
_ACRONYM = re.compile(r"\b[A-Z]{2,5}\b")
_library_override: LibraryNormalizer | None = None  # set by tests and benchmarks
_warned_off = False  # the library is off for good and we said so once


def _library() -> LibraryNormalizer:
    return _library_override or default_library()


def _is_spelled(word: str) -> bool:
    """Whether a word in capitals is said letter by letter: it has no vowel (HTTPS, NW, PST), or
    it is two or three letters long (USA, EST, TV) and not a common word in capitals for
    emphasis (NOT, YES, ALL); longer ones with vowels are words (WELL, NASA, STOP)."""
    if word in SAID_AS_WORDS or word in EMPHASIS_WORDS:
        return False
    return not re.search("[AEIOUY]", word) or len(word) <= 3


def _shouting(text: str) -> bool:
    """A text mostly in capitals: its capitalised words are not acronyms."""
    tokens = re.findall(r"[A-Za-z]{2,}", text)
    return len(tokens) > 2 and sum(t.isupper() for t in tokens) * 2 > len(tokens)


def _spell_acronyms(text: str) -> str:
    """'at 9 PM EST' -> 'at 9 p m e s t'."""
    return _ACRONYM.sub(lambda m: " ".join(m[0].lower()) if _is_spelled(m[0]) else m[0], text)


def _fix_library_span(written: str, spoken: str, cls: str = "") -> str:
    """Our corrections after the library, each one a measured difference: 'thousand two
    hundred' for 1,234 gets its 'one'; number words follow num2words' style, the convention of
    the rest of the project ('negative' -> 'minus', 'forty two' -> 'forty-two', 'hundred one'
    -> 'hundred and one', 'thousand five' -> 'thousand and five'); escaped quotes lose their
    backslash."""
    spoken = spoken.replace('\\"', '"')
    if _LEADING_SCALE.match(spoken) and re.match(r"\D*1\D", written + " "):
        spoken = "one " + spoken
    if written.lstrip().startswith("-"):
        spoken = re.sub(r"^negative\b", "minus", spoken)
    spoken = _HUNDRED.sub("hundred and ", spoken)
    spoken = _THOUSAND.sub("thousand and ", spoken)
    return _COMPOUND.sub(r"\1-\2", spoken)


def _parts(text: str, limit: int) -> list[str]:
    """Cut text longer than ``limit`` at white space into parts of at most ``limit``."""
    if len(text) <= limit:
        return [text]
    parts, current = [], ""
    for word in re.split(r"(?<=\s)", text):
        if current and len(current) + len(word) > limit:
            parts.append(current)
            current = ""
        current += word
    return parts + [current] if current else parts


def _read_with_library(text: str, options: NormalizeOptions) -> list[Span]:
    """Read a piece none of our span rules took: plain, or the library (our rules if it fails)."""
    if not text.strip():
        return [Span(text, text, PLAIN)]
    if not _NEEDS_LIBRARY.search(text):
        return [Span(text, text, PLAIN)]
    if not options.library:
        return [Span(text, text_rules.apply_rules(text), RULES)]
    spans: list[Span] = []
    pos = 0
    for start, end in _windows(text, options.library_context_words):
        if start > pos:
            spans.append(Span(text[pos:start], text[pos:start], PLAIN))
        for part in _parts(text[start:end], options.max_library_chars):
            spans += _read_part(part, options)
        pos = end
    if pos < len(text):
        spans.append(Span(text[pos:], text[pos:], PLAIN))
    return spans


def _windows(text: str, context: int) -> list[tuple[int, int]]:
    """Character ranges the library reads: each word with a digit or a symbol (or a state code
    after a comma) with ``context`` words either side, overlapping ranges merged. The library's
    time grows with the length of what it reads, so ordinary words far from any number are left
    out."""
    words = [(m.start(), m.end()) for m in re.finditer(r"\S+", text)]
    merged: list[list[int]] = []
    for i, (start, end) in enumerate(words):
        word = text[start:end]
        hot = _NEEDS_LIBRARY.search(word) or (
            i and re.fullmatch(r"[A-Z]{2}\W*", word) and text[:start].rstrip().endswith(",")
        )
        if not hot:
            continue
        lo, hi = max(0, i - context), min(len(words) - 1, i + context)
        if merged and lo <= merged[-1][1] + 1:
            merged[-1][1] = hi
        else:
            merged.append([lo, hi])
    return [(words[lo][0], words[hi][1]) for lo, hi in merged]


def _read_part(text: str, options: NormalizeOptions) -> list[Span]:
    lead = text[: len(text) - len(text.lstrip())]
    trail = text[len(text.rstrip()) :]
    core = " ".join(text.split())  # the library trips over runs of spaces
    library = _library()
    library.timeout_s = options.timeout_s
    try:
        reading = library.read(core)
    except LibraryFailure as e:
        global _warned_off
        if not (e.permanent and _warned_off):  # "it is off for good" is said once
            warnings.warn(
                f"the normaliser library failed on {core!r} ({e}); read with our rules instead",
                stacklevel=4,
            )
        _warned_off = _warned_off or e.permanent
        return [Span(text, text_rules.apply_rules(text), FALLBACK)]
    spans = [Span(lead, lead, PLAIN)] if lead else []
    if not reading.spans:  # no mapping: the whole piece as the library read it
        spoken = _fix_library_span(core, reading.text)
        spans.append(Span(core, spoken, LIBRARY if spoken != core else PLAIN))
    pos = 0
    for s in reading.spans:
        if s.start > pos:
            spans.append(Span(core[pos : s.start], core[pos : s.start], PLAIN))
        written = core[s.start : s.end]
        spans.append(Span(written, _fix_library_span(written, s.spoken, s.cls), LIBRARY, s.cls))
        pos = s.end
    if reading.spans and pos < len(core):
        spans.append(Span(core[pos:], core[pos:], PLAIN))
    if trail:
        spans.append(Span(trail, trail, PLAIN))
    # digits the library left unread: our rules read them
    return [
        Span(s.written, text_rules.apply_rules(s.spoken), RULES, s.cls or "cardinal")
        if s.path == PLAIN and re.search(r"\d", s.spoken)
        else s
        for s in spans
    ]


def read_spans(text: str, options: NormalizeOptions | None = None) -> list[Span]:
    """The reading of ``text`` as spans that cover it in order (see module doc)."""
    options = options or NormalizeOptions()
    text = drop_foreign_letters(clean_control(text))
    spans: list[Span] = []
    pos = 0
    for start, end, spoken, cls in text_rules.find_spans(text):
        spans += _read_with_library(text[pos:start], options)
        spans.append(Span(text[start:end], spoken, RULES, cls))
        pos = end
    spans += _read_with_library(text[pos:], options)
    return [s for s in spans if s.written]


def _finish(spoken: str, dropped: list[str], shouting: bool = False) -> str:
    """Our rules after the library: acronyms spelled (unless the whole text is ``shouting``),
    symbols said, unspeakable characters dropped (collected in ``dropped``)."""
    spoken = spoken if shouting else _spell_acronyms(spoken)
    for sym, said in SYMBOLS.items():
        spoken = spoken.replace(sym, said)
    kept = []
    for ch in spoken:
        if ch.isalpha() or ch.isspace() or ch in SPOKEN_PUNCTUATION:
            kept.append(ch)
        elif unicodedata.category(ch)[0] == "M" and kept and kept[-1].isalpha():
            kept.append(ch)  # combining accent on a letter
        else:
            dropped.append(ch)
            kept.append(" ")
    return "".join(kept)


def _tidy(text: str) -> str:
    text = re.sub(r"\s+([,.!?;:)\]])", r"\1", text)
    text = re.sub(r"([(\[])\s+", r"\1", text)
    return re.sub(r"\s+", " ", text).strip().lower()


def finished_spans(text: str, options: NormalizeOptions | None = None) -> list[Span]:
    """``read_spans`` with each span's spoken form finished as ``normalize`` says it (lower
    case, symbols said); a warning names characters that cannot be spoken."""
    dropped: list[str] = []
    shouting = _shouting(text)
    spans = []
    for s in read_spans(text, options):
        spoken = _finish(s.spoken, dropped, shouting).lower()
        spans.append(
            Span(s.written, spoken if s.path == PLAIN else " ".join(spoken.split()), s.path, s.cls)
        )
    if dropped:
        warnings.warn(
            f"dropped characters that cannot be spoken: {describe(dropped)}", stacklevel=3
        )
    return spans


def normalize(text: str, options: NormalizeOptions | None = None) -> str:
    """Written English -> lower-case spoken words with punctuation kept (see module doc)."""
    spans = finished_spans(text, options)
    out: list[str] = []
    for i, s in enumerate(spans):
        spoken = s.spoken
        if s.path != PLAIN and spoken:  # keep a read span apart from letters glued to it
            after = spans[i + 1].spoken[:1] if i + 1 < len(spans) else ""
            before = out[-1][-1:] if out and out[-1] else ""
            spoken = (" " if before.isalnum() else "") + spoken + (" " if after.isalnum() else "")
        out.append(spoken)
    return _tidy("".join(out))


_SENTENCE_END = re.compile(r"(?<=[.!?。！？])[\"')\]]*\s+(?=[\"'(\[]?[\w$€£¥₹₩])")
_PROTECT = re.compile(text_rules.ABBR_RE, re.I)


def split_sentences(text: str, max_chars: int = 250) -> list[str]:
    """Split text into sentences; sentences longer than ``max_chars`` are split further at
    clause punctuation (, ; :) and, failing that, between words.

    Works on raw text (known abbreviations like "Dr." and decimals do not end a sentence) and
    on normalised text. Control characters are removed first.
    """
    text = clean_control(text)
    protected = _PROTECT.sub(lambda m: m[0].replace(".", "\0"), text)
    pieces = []
    for sentence in _SENTENCE_END.split(protected):
        sentence = sentence.replace("\0", ".").strip()
        if sentence:
            pieces.extend(_split_long(sentence, max_chars))
    return pieces


def _split_long(sentence: str, max_chars: int) -> list[str]:
    """Greedily pack clauses (then words, for over-long clauses) into pieces <= max_chars."""
    if len(sentence) <= max_chars:
        return [sentence]
    units = []
    for clause in re.split(r"(?<=[,;:])\s+", sentence):
        units.extend([clause] if len(clause) <= max_chars else clause.split())
    out, current = [], ""
    for unit in units:
        if current and len(current) + 1 + len(unit) > max_chars:
            out.append(current)
            current = unit
        else:
            current = f"{current} {unit}".strip()
    return out + [current] if current else out
