"""Our own English reading rules (regular expressions + ``num2words``).

Two uses:

- **span rules** (``SPAN_RULES``) run before the FST library on the classes where they measurably
  read better than it (money with any decimals and ISO codes, numeric dates in every order, month
  names, decades, times with a.m./p.m. and time zones, international phone numbers, URLs and
  e-mail addresses, roman numerals in context, very long numbers, abbreviations); each names the
  class it reads, so that ``palette text`` can show which path read a span;
- **the fallback** (``apply_rules``): the complete rule set that reads a whole text on its own,
  used for a sentence the library fails on, and for digits the library left unread.

Rules return lower-case words; punctuation around them is left in place.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from palette.tts import spoken_forms as say
from palette.tts.word_tables import (
    ABBREVIATIONS,
    CAPITALISED_ONLY,
    DOTTED,
    ISO_CURRENCIES,
    MONTH_ABBR,
    MONTHS,
    ROMAN_CONTEXT,
    SCALES,
    SYMBOLS,
    TIME_ZONES,
)


@dataclass(frozen=True)
class SpanRule:
    """One of our rules: a pattern, what it reads a match as, and the class it belongs to."""

    cls: str
    pattern: re.Pattern
    read: Callable[[re.Match], str]


_MONTH_RE = "|".join(sorted(MONTHS + list(MONTH_ABBR), key=len, reverse=True))
_AMOUNT = r"(?:\d[\d,]*(?:\.\d+)?|\.\d+)"
_SYM = "[$€£¥₹₩]"
_ISO = "|".join(ISO_CURRENCIES)
_TZ = "|".join(TIME_ZONES)
_AMPM = r"(?P<ampm>[ap]\.m\.|[ap]m\b|[AP]M\b)"
_TLD = r"(?:com|org|net|io|edu|gov|co|uk|de|fr|ai|dev|info|biz|us|eu|ca|au)"
ABBR_RE = (
    r"(?P<dotted>" + "|".join(re.escape(k) for k in DOTTED) + r")"
    r"|(?-i:(?<=[a-z] )(?P<street>St\.)(?=\s+[a-z]|\s*[,.;!?]|\s*$))"
    r"|\b(?P<init>(?:[A-Z]\.){2,})"
    r"|\b(?P<a>" + "|".join(ABBREVIATIONS) + r")\."
)

SPAN_RULES: list[SpanRule] = [
    SpanRule(
        "electronic",
        re.compile(
            r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b"
            r"|\b(?:https?://|ftp://|www\.)[^\s\"'<>()]+[^\s\"'<>().,;:!?]"
            r"|\b[a-z][\w-]*(?:\.[\w-]+)*\." + _TLD + r"\b(?:/[^\s\"'<>()]*[^\s\"'<>().,;:!?])?"
        ),
        say.electronic,
    ),
    SpanRule(
        "cardinal", re.compile(rf"\d{{{say.MAX_NUMBER_DIGITS + 1},}}"), lambda m: say.digits(m[0])
    ),
    SpanRule(
        "range",
        re.compile(rf"(?P<sym>{_SYM})\s?(?P<a>{_AMOUNT})\s?[-–]\s?(?:{_SYM})?\s?(?P<b>{_AMOUNT})"),
        say.money_range,
    ),
    SpanRule(
        "money",
        re.compile(
            rf"(?:(?P<sym>{_SYM})|\b(?P<iso>{_ISO})\s?)(?P<amt>{_AMOUNT})"
            rf"(?:\s+(?P<scale>{'|'.join(SCALES)})\b|(?P<scale_abbr>(?i:bn|mn|tn|[kmb]))\b)?"
        ),
        say.money,
    ),
    SpanRule(
        "money",
        re.compile(rf"(?P<sym>)(?P<iso>)(?P<amt>\b{_AMOUNT})\s?(?P<iso2>{_ISO})\b"),
        say.money,
    ),
    SpanRule(
        "date",
        re.compile(
            r"\b(?P<iy>\d{4})([-/])(?P<im>\d{1,2})\2(?P<id>\d{1,2})\b"
            r"|\b(?P<ed>\d{1,2})\.(?P<em>\d{1,2})\.(?P<ey>\d{4})\b"
            r"|\b(?P<ua>\d{1,2})/(?P<ub>\d{1,2})/(?P<uy>\d{4})\b"
        ),
        say.numeric_date,
    ),
    SpanRule(
        "date",
        re.compile(
            rf"\b(?P<mon>{_MONTH_RE})\.?\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\b"
            r"(?:,?\s+(?P<y>1\d{3}|20\d{2})\b)?",
            re.I,
        ),
        say.month_date,
    ),
    SpanRule(
        "date",
        re.compile(
            rf"\b(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<mon>{_MONTH_RE})\b\.?"
            r"(?:,?\s+(?P<y>1\d{3}|20\d{2})\b)?",
            re.I,
        ),
        say.day_month,
    ),
    SpanRule(
        "measure",
        re.compile(r"(?<![\w.])(?P<n>\d[\d,]*(?:\.\d+)?)\s?(?P<u>m|hrs?|mins|secs?)\b(?![²³/.]\w)"),
        say.measure,
    ),
    SpanRule(
        "date",
        re.compile(r"\b(?P<n>1\d{2}0|20\d0)s\b"),
        lambda m: say.plural(say.year(int(m["n"]))),
    ),
    SpanRule(
        "date", re.compile(r"(?<!\w)'(?P<n>\d0)s\b"), lambda m: say.plural(say.words(int(m["n"])))
    ),
    SpanRule(
        "range",
        re.compile(r"(?<![\d.])(?P<a>\d+(?:\.\d+)?)\s?[-–]\s?(?P<b>\d+(?:\.\d+)?)\s?%"),
        lambda m: f"{say.cardinal(m['a'])} to {say.cardinal(m['b'])} percent",
    ),
    SpanRule(
        "range",
        re.compile(r"\b(?P<a>1[1-9]\d\d|20\d\d)\s?[-–]\s?(?P<b>1[1-9]\d\d|20\d\d)\b"),
        lambda m: f"{say.year(int(m['a']))} to {say.year(int(m['b']))}",
    ),
    SpanRule(
        "time",
        re.compile(
            r"\b(?P<h>[01]?\d|2[0-3]):(?P<m>[0-5]\d)(?::(?P<s>[0-5]\d))?"
            rf"(?:\s*{_AMPM})?(?:\s+(?P<tz>{_TZ})\b)?",
            re.I,
        ),
        say.clock_time,
    ),
    SpanRule(
        "time",
        re.compile(rf"\b(?P<h>1[0-2]|0?[1-9])(?P<m>)(?P<s>)\s*{_AMPM}(?:\s+(?P<tz>{_TZ})\b)?"),
        say.clock_time,
    ),
    SpanRule("telephone", re.compile(r"\+\d{1,3}(?:[\s.-]\(?\d{1,4}\)?){2,5}\b"), say.phone),
    SpanRule(
        "telephone",
        re.compile(r"\(\d{3}\)\s?\d{3}[-.\s]\d{4}\b"),
        lambda m: ", ".join(say.digits(g) for g in re.findall(r"\d+", m[0])),
    ),
    SpanRule(
        "telephone",
        re.compile(r"(?<![\d-])\d{3}-\d{4}(?![\d-])"),
        lambda m: ", ".join(say.digits(g) for g in m[0].split("-")),
    ),
    SpanRule(
        "cardinal",
        re.compile(r"(?<![\d.])\d+(?:\.\d+){2,}(?![\d.]|\.\d)"),
        lambda m: (" dot " if m[0].count(".") == 3 else " point ").join(
            say.words(int(p)) for p in m[0].split(".")
        ),
    ),
    SpanRule(
        "roman",
        re.compile(rf"\b(?P<ctx>{'|'.join(ROMAN_CONTEXT)})\s+(?P<r>[IVXLCDM]+)\b(?!['’]\w)", re.I),
        say.roman_context,
    ),
    SpanRule(
        "roman",
        re.compile(r"\b(?P<name>[A-Z][a-z]+)\s+(?P<r>[IVX]+)\b(?!['’]\w|\.\w)"),
        say.roman_regnal,
    ),
    SpanRule("abbreviation", re.compile(ABBR_RE, re.I), say.abbreviation),
]


def _match_case_sensitive_parts(rule: SpanRule, m: re.Match) -> bool:
    """Some patterns are compiled case-insensitive for their words but need capitals elsewhere:
    a roman numeral must be upper case, and a street "St." or an initialism keeps its case."""
    if rule.cls == "roman" and "r" in m.groupdict() and not m["r"].isupper():
        return False
    if rule.cls == "abbreviation" and (m["street"] and m["street"] != "St."):
        return False
    if rule.cls == "abbreviation" and m["init"] and not m["init"].replace(".", "").isupper():
        return False
    if rule.cls == "abbreviation" and m["a"] and m["a"].lower() in CAPITALISED_ONLY:
        if not m["a"][0].isupper():
            return False
        if m["a"].lower() == "no" and not re.match(r"\s*\d", m.string[m.end() :]):
            return False
    if rule.cls == "roman" and "name" in m.groupdict() and m["r"] == "I":
        # "Henry I of England", "Henry I." but not "Thanks Paul I appreciate it"
        if not re.match(r"\s*(?:[,.;:!?)]|$|of\b|and\b)", m.string[m.end() :]):
            return False
    if rule.cls == "time" and m["ampm"] is None and m["tz"] is None:
        return False  # plain H:MM(:SS) is the library's
    if rule.cls == "time" and m["tz"] and not m["tz"].isupper():
        return False
    return True


def find_spans(text: str) -> list[tuple[int, int, str, str]]:
    """Spans our span rules read: ``[(start, end, spoken, cls)]`` in order, not overlapping.
    Earlier rules win over later ones."""
    taken: list[tuple[int, int, str, str]] = []
    for rule in SPAN_RULES:
        for m in rule.pattern.finditer(text):
            if m.end() == m.start() or not _match_case_sensitive_parts(rule, m):
                continue
            if any(s < m.end() and m.start() < e for s, e, _, _ in taken):
                continue
            spoken = rule.read(m)
            if m[0].endswith(".") and not text[m.end() :].strip() and not spoken.endswith("."):
                spoken += "."  # its period also ends the text ("... at 3 p.m.")
            if spoken != m[0]:
                taken.append((m.start(), m.end(), spoken, rule.cls))
    return sorted(taken)


# --- the complete fallback rule set ------------------------------------------------------------

_FALLBACK: list[tuple[re.Pattern, object]] = [
    # percentages: 50%, 3.5 %
    (re.compile(r"(?P<n>\d[\d,]*(?:\.\d+)?)\s?%"), lambda m: f"{say.cardinal(m['n'])} percent"),
    # ordinals: 1st, 22nd, 103rd
    (
        re.compile(r"\b(?P<n>\d[\d,]*)(?:st|nd|rd|th)\b", re.I),
        lambda m: say.words(int(m["n"].replace(",", "")), to="ordinal"),
    ),
    # plain times 10:30, 12:00
    (
        re.compile(
            r"\b(?P<h>[01]?\d|2[0-3]):(?P<m>[0-5]\d)(?::(?P<s>[0-5]\d))?(?P<ampm>)(?P<tz>)(?![\w:])"
        ),
        say.clock_time,
    ),
    # years: four digits 1100-2099 standing alone (not 1,000 and not decimals)
    (
        re.compile(r"(?<![\d,.])(?P<n>1[1-9]\d\d|20\d\d)(?!\d|,\d|\.\d)"),
        lambda m: say.year(int(m["n"])),
    ),
    # a number glued to letters: 221B -> 221 B
    (re.compile(r"(?<=\d)(?=[A-Za-z])|(?<=[A-Za-z])(?=\d)"), " "),
    # negative numbers and plain cardinals / decimals
    (
        re.compile(r"(?<![\w.])-(?P<n>\d[\d,]*(?:\.\d+)?)\b"),
        lambda m: "minus " + say.cardinal(m["n"]),
    ),
    (
        re.compile(r"(?P<n>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d*\.\d+|\d+)"),
        lambda m: say.cardinal(m["n"]),
    ),
]


def apply_span_rules(text: str) -> str:
    out, pos = [], 0
    for start, end, spoken, _ in find_spans(text):
        out += [text[pos:start], spoken]
        pos = end
    return "".join(out + [text[pos:]])


def apply_rules(text: str) -> str:
    """Read ``text`` with our rules alone: span rules, then the generic number rules and
    symbols. Case is kept where no rule applied."""
    text = apply_span_rules(text)
    for pattern, repl in _FALLBACK:
        text = pattern.sub(repl, text)
    for sym, spoken in SYMBOLS.items():
        text = text.replace(sym, spoken)
    return text
