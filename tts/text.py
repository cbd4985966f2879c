"""English text normalisation and sentence splitting.

``normalize`` turns written text into the words a reader would say: numbers, ordinals, years,
decimals, currency, percentages, times, dates, common abbreviations and symbols are spelled out
(number words come from ``num2words``). Characters that cannot be spoken are dropped with a
warning that names them. The result is lower case.

    >>> normalize("Dr. Smith paid $3.50 on March 5th, 2024.")
    'doctor smith paid three dollars and fifty cents on march fifth, twenty twenty-four.'
"""

from __future__ import annotations

import re
import unicodedata
import warnings

from num2words import num2words

MONTHS = [
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
]  # fmt: skip
_MONTH_ABBR = {m[:3]: m for m in MONTHS} | {"sept": "september"}

# abbreviation (lower case, without its final period) -> spoken form
ABBREVIATIONS = {
    "dr": "doctor", "mr": "mister", "mrs": "missus", "ms": "miz", "prof": "professor",
    "jr": "junior", "sr": "senior", "st": "saint", "mt": "mount", "capt": "captain",
    "gen": "general", "col": "colonel", "lt": "lieutenant", "sgt": "sergeant", "gov": "governor",
    "rev": "reverend", "vs": "versus", "etc": "et cetera", "approx": "approximately",
    "dept": "department", "inc": "incorporated", "ltd": "limited", "co": "company",
    "ave": "avenue", "blvd": "boulevard", "rd": "road", "no": "number",
}  # fmt: skip
# multi-dot abbreviations, matched case-insensitively
DOTTED = {"e.g.": "for example", "i.e.": "that is", "a.m.": "a m", "p.m.": "p m"}
SYMBOLS = {"&": " and ", "%": " percent ", "+": " plus ", "@": " at ", "=": " equals ",
           "#": " number ", "°": " degrees ", "×": " times ", "/": " slash "}  # fmt: skip
CURRENCIES = {  # symbol -> (unit, units, subunit, subunits)
    "$": ("dollar", "dollars", "cent", "cents"),
    "€": ("euro", "euros", "cent", "cents"),
    "£": ("pound", "pounds", "penny", "pence"),
}
SCALES = {"thousand", "million", "billion", "trillion"}
# characters kept after normalisation besides letters (any script) and spaces
SPOKEN_PUNCTUATION = set(".,!?;:'\"-()")
_TRANSLATE = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": " - ",
                            "…": "...", "\u00a0": " "})  # fmt: skip


def _words(n: int | float, **kw) -> str:
    return num2words(n, lang="en", **kw)


def _cardinal(text: str) -> str:
    """'1,234' -> 'one thousand, two hundred and thirty-four' style words, '3.14' -> 'three
    point one four'."""
    text = text.replace(",", "")
    if "." in text:
        whole, frac = text.split(".", 1)
        head = _words(int(whole)) if whole else "zero"
        return f"{head} point " + " ".join(_words(int(d)) for d in frac)
    return _words(int(text))


def _year(n: int) -> str:
    return _words(n, to="year") if 1000 <= n <= 2999 and n % 1000 >= 10 or n >= 2010 else _words(n)


def _currency(match: re.Match) -> str:
    unit, units, sub, subs = CURRENCIES[match["sym"]]
    whole, cents, scale = match["whole"].replace(",", ""), match["cents"], match["scale"]
    if scale:  # $1.5 million -> one point five million dollars
        return f"{_cardinal(whole + ('.' + cents if cents else ''))} {scale} {units}"
    amount = int(whole or 0)
    parts = [f"{_words(amount)} {unit if amount == 1 else units}"] if amount or not cents else []
    if cents:
        c = int(cents.ljust(2, "0")[:2])
        if c or not parts:
            parts.append(f"{_words(c)} {sub if c == 1 else subs}")
    return " and ".join(parts)


def _time(match: re.Match) -> str:
    hour, minute = int(match["h"]), int(match["m"] or 0)
    spoken = _words(hour)
    if minute == 0:
        spoken += "" if match["ampm"] else " o'clock"
    elif minute < 10:
        spoken += f" oh {_words(minute)}"
    else:
        spoken += f" {_words(minute)}"
    if match["ampm"]:
        spoken += " " + " ".join(match["ampm"].lower().replace(".", ""))
    return spoken


def _month(name: str) -> str:
    """'Mar' / 'march' / 'Sept' -> 'march' / 'march' / 'september'."""
    name = name.lower()
    return name if name in MONTHS else _MONTH_ABBR[name]


def _month_day(month: str, day: str) -> str:
    return f"{month} {_words(int(day), to='ordinal')}"


def _date_numeric(match: re.Match) -> str:
    """US order 03/05/2024 and ISO 2024-03-05 -> 'march fifth, twenty twenty-four'."""
    if match["iy"]:
        y, m, d = int(match["iy"]), int(match["im"]), int(match["id"])
    else:
        m, d, y = int(match["um"]), int(match["ud"]), int(match["uy"])
    if not (1 <= m <= 12 and 1 <= d <= 31):
        return match[0].replace("/", " slash ").replace("-", " ")
    return f"{_month_day(MONTHS[m - 1], str(d))}, {_year(y)}"


_MONTH_RE = "|".join(sorted(MONTHS + list(_MONTH_ABBR), key=len, reverse=True))
_RULES: list[tuple[re.Pattern, object]] = [
    # dates: ISO 2024-03-05, US 3/5/2024
    (re.compile(r"\b(?P<iy>\d{4})-(?P<im>\d{1,2})-(?P<id>\d{1,2})\b|"
                r"\b(?P<um>\d{1,2})/(?P<ud>\d{1,2})/(?P<uy>\d{4})\b"), _date_numeric),
    # March 5th / Mar. 5 / 5 March
    (re.compile(rf"\b(?P<mon>{_MONTH_RE})\.?\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\b", re.I),
     lambda m: _month_day(_month(m["mon"]), m["day"])),
    (re.compile(rf"\b(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<mon>{_MONTH_RE})\b", re.I),
     lambda m: f"the {_words(int(m['day']), to='ordinal')} of {_month(m['mon'])}"),
    # times: 10:30, 7:05 pm, 7 pm
    (re.compile(r"\b(?P<h>[01]?\d|2[0-3]):(?P<m>[0-5]\d)(?:\s*(?P<ampm>[ap]\.m\.|[ap]m\b))?(?![\w:])", re.I), _time),
    (re.compile(r"\b(?P<h>1[0-2]|0?[1-9])(?P<m>)\s*(?P<ampm>[ap]\.m\.|[ap]m\b)", re.I), _time),
    # currency: $3.50, €20, £1,000, $1.5 million
    (re.compile(r"(?P<sym>[$€£])\s?(?P<whole>\d[\d,]*|)(?:\.(?P<cents>\d+))?"
                r"(?:\s+(?P<scale>" + "|".join(SCALES) + r"))?\b"), _currency),
    # percentages: 50%, 3.5 %
    (re.compile(r"(?P<n>\d[\d,]*(?:\.\d+)?)\s?%"), lambda m: f"{_cardinal(m['n'])} percent"),
    # ordinals: 1st, 22nd, 103rd
    (re.compile(r"\b(?P<n>\d[\d,]*)(?:st|nd|rd|th)\b", re.I),
     lambda m: _words(int(m["n"].replace(",", "")), to="ordinal")),
    # decades: 1990s, '90s
    (re.compile(r"\b(?P<n>1\d{2}0|20[0-9]0)s\b"),
     lambda m: re.sub(r"y$", "ies", _year(int(m["n"])))),
    # years: four digits 1100-2099 standing alone (not 1,000 and not decimals)
    (re.compile(r"(?<![\d,.])(?P<n>1[1-9]\d\d|20\d\d)(?!\d|,\d|\.\d)"), lambda m: _year(int(m["n"]))),
    # a number glued to letters: 221B -> 221 B
    (re.compile(r"(?<=\d)(?=[A-Za-z])"), " "),
    # negative numbers and plain cardinals / decimals
    (re.compile(r"(?<![\w.])-(?P<n>\d[\d,]*(?:\.\d+)?)\b"), lambda m: "minus " + _cardinal(m["n"])),
    (re.compile(r"(?P<n>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"), lambda m: _cardinal(m["n"])),
]  # fmt: skip
_DOTTED_RE = re.compile("|".join(re.escape(k) for k in DOTTED), re.I)
_ABBR_RE = re.compile(r"\b(?P<a>" + "|".join(ABBREVIATIONS) + r")\.", re.I)
_INITIALISM_RE = re.compile(r"\b(?:[A-Z]\.){2,}")
_ST_STREET_RE = re.compile(r"(?<=[a-z] )St\.(?=\s+[a-z]|\s*[,.;!?]|\s*$)")


def _expand_abbreviations(text: str) -> str:
    text = _DOTTED_RE.sub(lambda m: DOTTED[m[0].lower()], text)
    text = _ST_STREET_RE.sub("street", text)  # "Baker St." is a street, "St. Paul" a saint
    text = _INITIALISM_RE.sub(lambda m: " ".join(m[0].replace(".", "")) + " ", text)
    return _ABBR_RE.sub(lambda m: ABBREVIATIONS[m["a"].lower()], text)


def _drop_unspeakable(text: str) -> str:
    kept, dropped = [], []
    for ch in text:
        if ch.isalpha() or ch.isspace() or ch in SPOKEN_PUNCTUATION:
            kept.append(ch)
        elif unicodedata.category(ch)[0] == "M" and kept and kept[-1].isalpha():
            kept.append(ch)  # combining accent on a letter
        else:
            dropped.append(ch)
    if dropped:
        names = ", ".join(f"{c!r} ({unicodedata.name(c, f'U+{ord(c):04X}')})"
                          for c in sorted(set(dropped)))  # fmt: skip
        warnings.warn(f"dropped characters that cannot be spoken: {names}", stacklevel=3)
    return "".join(kept)


def normalize(text: str) -> str:
    """Written English -> lower-case spoken words with punctuation kept (see module doc)."""
    text = unicodedata.normalize("NFC", text).translate(_TRANSLATE)
    text = _expand_abbreviations(text)
    for pattern, repl in _RULES:
        text = pattern.sub(repl, text)
    for sym, spoken in SYMBOLS.items():
        text = text.replace(sym, spoken)
    text = _drop_unspeakable(text)
    text = re.sub(r"\s+([,.!?;:])", r"\1", text)
    return re.sub(r"\s+", " ", text).strip().lower()


_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Za-z0-9$€£])")


def split_sentences(text: str, max_chars: int = 250) -> list[str]:
    """Split text into sentences; sentences longer than ``max_chars`` are split further at
    clause punctuation (, ; :) and, failing that, between words.

    Works on raw text (known abbreviations like "Dr." and decimals do not end a sentence) and
    on normalised text.
    """
    protected = _DOTTED_RE.sub(lambda m: m[0].replace(".", "\0"), text)
    protected = _ABBR_RE.sub(lambda m: m[0][:-1] + "\0", protected)
    protected = _INITIALISM_RE.sub(lambda m: m[0].replace(".", "\0"), protected)
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
