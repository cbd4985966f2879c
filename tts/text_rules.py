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

from num2words import num2words

MONTHS = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
]
_MONTH_ABBR = {m[:3]: m for m in MONTHS} | {"sept": "september"}

# abbreviation (lower case, without its final period) -> spoken form
ABBREVIATIONS = {
    "dr": "doctor",
    "mr": "mister",
    "mrs": "missus",
    "ms": "miz",
    "prof": "professor",
    "jr": "junior",
    "sr": "senior",
    "st": "saint",
    "mt": "mount",
    "capt": "captain",
    "gen": "general",
    "col": "colonel",
    "lt": "lieutenant",
    "sgt": "sergeant",
    "gov": "governor",
    "rev": "reverend",
    "vs": "versus",
    "etc": "et cetera",
    "approx": "approximately",
    "dept": "department",
    "inc": "incorporated",
    "ltd": "limited",
    "co": "company",
    "ave": "avenue",
    "blvd": "boulevard",
    "rd": "road",
    "no": "number",
    "tel": "telephone",
    "sen": "senator",
    "rep": "representative",
    "hwy": "highway",
    "ln": "lane",
    "apt": "apartment",
    "fig": "figure",
    "ext": "extension",
    "vol": "volume",
    "ch": "chapter",
    "pp": "pages",
    "est": "established",
}
# abbreviations that are also words ("no.", "apt.", "co."): expanded only when capitalised,
# and "No." only before a number ("No. 5" -> "number five", "I said no." stays)
CAPITALISED_ONLY = {
    "apt",
    "gen",
    "col",
    "rep",
    "sen",
    "est",
    "ch",
    "vol",
    "fig",
    "co",
    "ln",
    "rev",
    "no",
    "mt",
    "inc",
    "ltd",
    "pp",
}
# multi-dot abbreviations, matched case-insensitively
DOTTED = {"e.g.": "for example", "i.e.": "that is", "a.m.": "a m", "p.m.": "p m", "ph.d.": "p h d"}
SYMBOLS = {
    "&": " and ",
    "%": " percent ",
    "+": " plus ",
    "@": " at ",
    "=": " equals ",
    "#": " number ",
    "°": " degrees ",
    "×": " times ",
    "/": " slash ",
    "~": " about ",
    "‰": " per mille ",
    "™": " ",
    "®": " ",
    "^": " to the power of ",
}
# currency: symbol -> (unit, units, subunit, subunits); a subunit of None reads decimals as "point"
CURRENCIES = {
    "$": ("dollar", "dollars", "cent", "cents"),
    "€": ("euro", "euros", "cent", "cents"),
    "£": ("pound", "pounds", "penny", "pence"),
    "¥": ("yen", "yen", None, None),
    "₹": ("rupee", "rupees", "paisa", "paise"),
    "₩": ("won", "won", None, None),
    "CNY": ("yuan", "yuan", None, None),
    "CHF": ("franc", "francs", "centime", "centimes"),
    "CAD": ("canadian dollar", "canadian dollars", "cent", "cents"),
    "AUD": ("australian dollar", "australian dollars", "cent", "cents"),
}
ISO_CURRENCIES = {
    "USD": "$",
    "EUR": "€",
    "GBP": "£",
    "JPY": "¥",
    "INR": "₹",
    "KRW": "₩",
    "CNY": "CNY",
    "CHF": "CHF",
    "CAD": "CAD",
    "AUD": "AUD",
}
SCALES = ("thousand", "million", "billion", "trillion")
SCALE_ABBREVIATIONS = {
    "k": "thousand",
    "m": "million",
    "mn": "million",
    "bn": "billion",
    "b": "billion",
    "tn": "trillion",
}
TIME_ZONES = (
    "EST",
    "EDT",
    "CST",
    "CDT",
    "MST",
    "MDT",
    "PST",
    "PDT",
    "UTC",
    "GMT",
    "CET",
    "CEST",
    "BST",
    "IST",
    "JST",
    "AEST",
    "AEDT",
    "HST",
    "AKST",
)
# words after which a roman numeral is a number ("Chapter IV" -> "chapter four")
ROMAN_CONTEXT = (
    "chapter",
    "part",
    "volume",
    "book",
    "act",
    "scene",
    "section",
    "article",
    "episode",
    "phase",
    "stage",
    "level",
    "season",
    "war",
    "bowl",
    "type",
    "class",
    "appendix",
    "psalm",
    "series",
    "title",
    "round",
    "unit",
    "grade",
    "canto",
)
# names after which even I, V and X are regnal numbers ("Henry V" -> "henry the fifth")
REGNAL_NAMES = (
    "henry",
    "louis",
    "charles",
    "george",
    "edward",
    "william",
    "elizabeth",
    "james",
    "richard",
    "philip",
    "john",
    "paul",
    "pius",
    "leo",
    "gregory",
    "benedict",
    "peter",
    "frederick",
    "alexander",
    "catherine",
    "mary",
    "victoria",
    "ferdinand",
    "napoleon",
    "innocent",
    "clement",
    "urban",
    "boniface",
    "alfonso",
    "carlos",
    "juan",
    "felipe",
    "gustav",
    "olaf",
    "harald",
    "christian",
    "nicholas",
    "ivan",
    "francis",
    "otto",
    "ludwig",
    "wilhelm",
    "umberto",
    "rama",
    "david",
    "robert",
    "malcolm",
    "anne",
    "stephen",
)
# numbers longer than this are read digit by digit (also past num2words' range)
MAX_NUMBER_DIGITS = 15
_DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


def digits(text: str) -> str:
    """'0143' -> 'zero one four three' (non-digits are skipped)."""
    return " ".join(_DIGITS[int(c)] for c in text if c.isdigit())


def words(n: int, **kw) -> str:
    """num2words in English; numbers longer than MAX_NUMBER_DIGITS are read digit by digit."""
    if len(str(abs(n))) > MAX_NUMBER_DIGITS:
        return ("minus " if n < 0 else "") + digits(str(abs(n)))
    try:
        return num2words(n, lang="en", **kw)
    except (OverflowError, ValueError, NotImplementedError):
        return digits(str(n))


def cardinal(text: str) -> str:
    """'1,234' -> 'one thousand, two hundred and thirty-four'; '3.14' -> 'three point one
    four'; '.5' -> 'point five'."""
    text = text.replace(",", "")
    if "." in text:
        whole, frac = text.split(".", 1)
        head = words(int(whole)) + " " if whole else ""
        return f"{head}point {digits(frac)}"
    return words(int(text))


def year(n: int) -> str:
    return words(n, to="year") if 1000 <= n <= 2999 and n % 1000 >= 10 or n >= 2010 else words(n)


def _plural(spoken: str) -> str:
    """'nineteen ninety' -> 'nineteen nineties', 'nineteen ten' -> 'nineteen tens'."""
    return spoken[:-1] + "ies" if spoken.endswith("y") else spoken + "s"


def _money_amount(amount: str, cur: str, scale: str | None = None) -> str:
    unit, units, sub, subs = CURRENCIES[cur]
    amount = amount.replace(",", "")
    whole, _, cents = amount.partition(".")
    scale = SCALE_ABBREVIATIONS.get(scale.lower(), scale) if scale else None
    if scale:  # $1.5 million, $4.5bn -> one point five million dollars
        return f"{cardinal(amount)} {scale} {units}"
    if cents and (sub is None or len(cents) > 2):  # $20.506, ¥250.75: a decimal amount
        return f"{cardinal(amount)} {units}"
    n = int(whole or 0)
    parts = [f"{words(n)} {unit if n == 1 else units}"] if n or not cents else []
    if cents:
        c = int(cents.ljust(2, "0"))
        if c or not parts:
            parts.append(f"{words(c)} {sub if c == 1 else subs}")
    return " and ".join(parts)


def _money(m: re.Match) -> str:
    groups = m.groupdict()
    cur = groups["sym"] or ISO_CURRENCIES[(groups["iso"] or groups.get("iso2")).upper()]
    return _money_amount(m["amt"], cur, groups.get("scale") or groups.get("scale_abbr"))


def _money_range(m: re.Match) -> str:
    cur = m["sym"]
    if "." in m["a"] + m["b"]:  # $2.50-$3.75: each amount in full
        return f"{_money_amount(m['a'], cur)} to {_money_amount(m['b'], cur)}"
    units = CURRENCIES[cur][1]
    return f"{cardinal(m['a'])} to {cardinal(m['b'])} {units}"


def _month(name: str) -> str:
    """'Mar' / 'march' / 'Sept' -> 'march' / 'march' / 'september'."""
    name = name.lower()
    return name if name in MONTHS else _MONTH_ABBR[name]


def _date(y: int | None, m: int, d: int, day_first: bool, raw: str) -> str:
    if not (1 <= m <= 12 and 1 <= d <= 31):
        return re.sub(r"[/.-]", " ", raw)
    ordinal = words(d, to="ordinal")
    spoken = f"the {ordinal} of {MONTHS[m - 1]}" if day_first else f"{MONTHS[m - 1]} {ordinal}"
    return spoken + (f", {year(y)}" if y is not None else "")


def _numeric_date(m: re.Match) -> str:
    if m["iy"]:  # 2024-03-05, 2024/03/05
        return _date(int(m["iy"]), int(m["im"]), int(m["id"]), False, m[0])
    if m["ey"]:  # 05.03.2024: day first
        return _date(int(m["ey"]), int(m["em"]), int(m["ed"]), True, m[0])
    a, b, y = int(m["ua"]), int(m["ub"]), int(m["uy"])  # 3/5/2024 (US), 25/12/2023 (day first)
    return _date(y, a, b, False, m[0]) if a <= 12 else _date(y, b, a, True, m[0])


def _month_date(m: re.Match) -> str:
    spoken = f"{_month(m['mon'])} {words(int(m['day']), to='ordinal')}"
    return spoken + (f", {year(int(m['y']))}" if m["y"] else "")


def _day_month(m: re.Match) -> str:
    spoken = f"the {words(int(m['day']), to='ordinal')} of {_month(m['mon'])}"
    return spoken + (f" {year(int(m['y']))}" if m["y"] else "")


def _spell(letters: str) -> str:
    return " ".join(letters.lower())


def _time(m: re.Match) -> str:
    hour, minute = int(m["h"]), int(m["m"] or 0)
    spoken = words(hour)
    if minute == 0:
        spoken += "" if m["ampm"] else " o'clock"
    elif minute < 10:
        spoken += f" oh {words(minute)}"
    else:
        spoken += f" {words(minute)}"
    if m["s"]:
        spoken += f" and {words(int(m['s']))} seconds"
    if m["ampm"]:
        spoken += " " + _spell(m["ampm"].replace(".", ""))
    if m["tz"]:
        spoken += " " + _spell(m["tz"])
    return spoken


# units the library reads wrongly or not at all ("100m" is not minutes; "10 hrs")
_UNITS = {
    "m": ("meter", "meters"),
    "hr": ("hour", "hours"),
    "hrs": ("hour", "hours"),
    "mins": ("minute", "minutes"),
    "sec": ("second", "seconds"),
    "secs": ("second", "seconds"),
}


def _measure(m: re.Match) -> str:
    one, many = _UNITS[m["u"]]
    return f"{cardinal(m['n'])} {one if m['n'] == '1' else many}"


def _phone(m: re.Match) -> str:
    groups = re.findall(r"\d+", m[0])
    return "plus " + ", ".join(digits(g) for g in groups)


_URL_WORDS = {
    ".": " dot ",
    "/": " slash ",
    ":": " colon ",
    "@": " at ",
    "-": " dash ",
    "_": " underscore ",
    "?": " question mark ",
    "=": " equals ",
    "&": " and ",
    "#": " hash ",
    "~": " tilde ",
    "+": " plus ",
    "%": " percent ",
}


def _electronic(m: re.Match) -> str:
    out = []
    for token in re.findall(r"[A-Za-z]+|\d+|.", m[0]):
        low = token.lower()
        if low in ("http", "https", "www", "ftp"):
            out.append(_spell(low))
        elif token.isdigit():
            out.append(digits(token))
        elif token.isalpha():
            out.append(low if re.search("[aeiouy]", low) and len(low) > 1 else _spell(low))
        else:
            out.append(_URL_WORDS.get(token, " "))
    return " ".join(" ".join(out).split())


def roman_value(numeral: str) -> int | None:
    """'XIV' -> 14; None where it is not a well-formed roman numeral."""
    if not numeral or not re.fullmatch(
        r"M{0,3}(CM|CD|D?C{0,3})(XC|XL|L?X{0,3})(IX|IV|V?I{0,3})", numeral
    ):
        return None
    values = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}
    total = 0
    for i, ch in enumerate(numeral):
        v = values[ch]
        total += -v if i + 1 < len(numeral) and values[numeral[i + 1]] > v else v
    return total


def _roman_context(m: re.Match) -> str:
    value = roman_value(m["r"])
    if value is None or len(m["r"]) == 1 and m["r"] not in "IVX":  # "Class C", "Grade D"
        return m[0]
    return f"{m['ctx'].lower()} {words(value)}"


def _roman_regnal(m: re.Match) -> str:
    value, name = roman_value(m["r"]), m["name"]
    single = len(m["r"]) == 1
    if value is None or value > 39 or (single and name.lower() not in REGNAL_NAMES):
        return m[0]
    return f"{name.lower()} the {words(value, to='ordinal')}"


def _abbreviation(m: re.Match) -> str:
    if m["dotted"]:
        spoken = DOTTED[m["dotted"].lower()]
    elif m["street"]:
        spoken = "street"
    elif m["init"]:
        spoken = " ".join(m["init"].replace(".", "").lower())
    else:
        spoken = ABBREVIATIONS[m["a"].lower()]
    # its period also ends the sentence: keep one ("on Baker St." -> "on baker street.")
    return spoken + "." if not m.string[m.end() :].strip() else spoken


@dataclass(frozen=True)
class SpanRule:
    """One of our rules: a pattern, what it reads a match as, and the class it belongs to."""

    cls: str
    pattern: re.Pattern
    read: Callable[[re.Match], str]


_MONTH_RE = "|".join(sorted(MONTHS + list(_MONTH_ABBR), key=len, reverse=True))
_AMOUNT = r"(?:\d[\d,]*(?:\.\d+)?|\.\d+)"
_SYM = "[$€£¥₹₩]"
_ISO = "|".join(ISO_CURRENCIES)
_TZ = "|".join(TIME_ZONES)
_AMPM = r"(?P<ampm>[ap]\.m\.|[ap]m\b|[AP]M\b)"
_TLD = r"(?:com|org|net|io|edu|gov|co|uk|de|fr|ai|dev|info|biz|us|eu|ca|au)"
_ABBR_RE = (
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
        _electronic,
    ),
    SpanRule("cardinal", re.compile(rf"\d{{{MAX_NUMBER_DIGITS + 1},}}"), lambda m: digits(m[0])),
    SpanRule(
        "range",
        re.compile(rf"(?P<sym>{_SYM})\s?(?P<a>{_AMOUNT})\s?[-–]\s?(?:{_SYM})?\s?(?P<b>{_AMOUNT})"),
        _money_range,
    ),
    SpanRule(
        "money",
        re.compile(
            rf"(?:(?P<sym>{_SYM})|\b(?P<iso>{_ISO})\s?)(?P<amt>{_AMOUNT})"
            rf"(?:\s+(?P<scale>{'|'.join(SCALES)})\b|(?P<scale_abbr>(?i:bn|mn|tn|[kmb]))\b)?"
        ),
        _money,
    ),
    SpanRule(
        "money", re.compile(rf"(?P<sym>)(?P<iso>)(?P<amt>\b{_AMOUNT})\s?(?P<iso2>{_ISO})\b"), _money
    ),
    SpanRule(
        "date",
        re.compile(
            r"\b(?P<iy>\d{4})([-/])(?P<im>\d{1,2})\2(?P<id>\d{1,2})\b"
            r"|\b(?P<ed>\d{1,2})\.(?P<em>\d{1,2})\.(?P<ey>\d{4})\b"
            r"|\b(?P<ua>\d{1,2})/(?P<ub>\d{1,2})/(?P<uy>\d{4})\b"
        ),
        _numeric_date,
    ),
    SpanRule(
        "date",
        re.compile(
            rf"\b(?P<mon>{_MONTH_RE})\.?\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\b"
            r"(?:,?\s+(?P<y>1\d{3}|20\d{2})\b)?",
            re.I,
        ),
        _month_date,
    ),
    SpanRule(
        "date",
        re.compile(
            rf"\b(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<mon>{_MONTH_RE})\b\.?"
            r"(?:,?\s+(?P<y>1\d{3}|20\d{2})\b)?",
            re.I,
        ),
        _day_month,
    ),
    SpanRule(
        "measure",
        re.compile(r"(?<![\w.])(?P<n>\d[\d,]*(?:\.\d+)?)\s?(?P<u>m|hrs?|mins|secs?)\b(?![²³/.]\w)"),
        _measure,
    ),
    SpanRule(
        "date", re.compile(r"\b(?P<n>1\d{2}0|20\d0)s\b"), lambda m: _plural(year(int(m["n"])))
    ),
    SpanRule("date", re.compile(r"(?<!\w)'(?P<n>\d0)s\b"), lambda m: _plural(words(int(m["n"])))),
    SpanRule(
        "range",
        re.compile(r"(?<![\d.])(?P<a>\d+(?:\.\d+)?)\s?[-–]\s?(?P<b>\d+(?:\.\d+)?)\s?%"),
        lambda m: f"{cardinal(m['a'])} to {cardinal(m['b'])} percent",
    ),
    SpanRule(
        "range",
        re.compile(r"\b(?P<a>1[1-9]\d\d|20\d\d)\s?[-–]\s?(?P<b>1[1-9]\d\d|20\d\d)\b"),
        lambda m: f"{year(int(m['a']))} to {year(int(m['b']))}",
    ),
    SpanRule(
        "time",
        re.compile(
            r"\b(?P<h>[01]?\d|2[0-3]):(?P<m>[0-5]\d)(?::(?P<s>[0-5]\d))?"
            rf"(?:\s*{_AMPM})?(?:\s+(?P<tz>{_TZ})\b)?",
            re.I,
        ),
        _time,
    ),
    SpanRule(
        "time",
        re.compile(rf"\b(?P<h>1[0-2]|0?[1-9])(?P<m>)(?P<s>)\s*{_AMPM}(?:\s+(?P<tz>{_TZ})\b)?"),
        _time,
    ),
    SpanRule("telephone", re.compile(r"\+\d{1,3}(?:[\s.-]\(?\d{1,4}\)?){2,5}\b"), _phone),
    SpanRule(
        "telephone",
        re.compile(r"\(\d{3}\)\s?\d{3}[-.\s]\d{4}\b"),
        lambda m: ", ".join(digits(g) for g in re.findall(r"\d+", m[0])),
    ),
    SpanRule(
        "telephone",
        re.compile(r"(?<![\d-])\d{3}-\d{4}(?![\d-])"),
        lambda m: ", ".join(digits(g) for g in m[0].split("-")),
    ),
    SpanRule(
        "cardinal",
        re.compile(r"(?<![\d.])\d+(?:\.\d+){2,}(?![\d.]|\.\d)"),
        lambda m: (" dot " if m[0].count(".") == 3 else " point ").join(
            words(int(p)) for p in m[0].split(".")
        ),
    ),
    SpanRule(
        "roman",
        re.compile(rf"\b(?P<ctx>{'|'.join(ROMAN_CONTEXT)})\s+(?P<r>[IVXLCDM]+)\b(?!['’]\w)", re.I),
        _roman_context,
    ),
    SpanRule(
        "roman",
        re.compile(r"\b(?P<name>[A-Z][a-z]+)\s+(?P<r>[IVX]+)\b(?!['’]\w|\.\w)"),
        _roman_regnal,
    ),
    SpanRule("abbreviation", re.compile(_ABBR_RE, re.I), _abbreviation),
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
    (re.compile(r"(?P<n>\d[\d,]*(?:\.\d+)?)\s?%"), lambda m: f"{cardinal(m['n'])} percent"),
    # ordinals: 1st, 22nd, 103rd
    (
        re.compile(r"\b(?P<n>\d[\d,]*)(?:st|nd|rd|th)\b", re.I),
        lambda m: words(int(m["n"].replace(",", "")), to="ordinal"),
    ),
    # plain times 10:30, 12:00
    (
        re.compile(
            r"\b(?P<h>[01]?\d|2[0-3]):(?P<m>[0-5]\d)(?::(?P<s>[0-5]\d))?(?P<ampm>)(?P<tz>)(?![\w:])"
        ),
        _time,
    ),
    # years: four digits 1100-2099 standing alone (not 1,000 and not decimals)
    (
        re.compile(r"(?<![\d,.])(?P<n>1[1-9]\d\d|20\d\d)(?!\d|,\d|\.\d)"),
        lambda m: year(int(m["n"])),
    ),
    # a number glued to letters: 221B -> 221 B
    (re.compile(r"(?<=\d)(?=[A-Za-z])|(?<=[A-Za-z])(?=\d)"), " "),
    # negative numbers and plain cardinals / decimals
    (re.compile(r"(?<![\w.])-(?P<n>\d[\d,]*(?:\.\d+)?)\b"), lambda m: "minus " + cardinal(m["n"])),
    (re.compile(r"(?P<n>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d*\.\d+|\d+)"), lambda m: cardinal(m["n"])),
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
