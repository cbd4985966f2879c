"""Spoken forms of the spans our English reading rules match (``tts.text_rules``): numbers,
years, money, dates, clock times, measures, phone numbers, URLs and e-mail addresses, roman
numerals and abbreviations. Each ``(m: re.Match) -> str`` reader takes its rule's named groups
and returns lower-case words."""

from __future__ import annotations

import re

from num2words import num2words

from palette.tts.word_tables import (
    ABBREVIATIONS,
    CURRENCIES,
    DOTTED,
    ISO_CURRENCIES,
    MONTH_ABBR,
    MONTHS,
    REGNAL_NAMES,
    SCALE_ABBREVIATIONS,
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


def plural(spoken: str) -> str:
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


def money(m: re.Match) -> str:
    groups = m.groupdict()
    cur = groups["sym"] or ISO_CURRENCIES[(groups["iso"] or groups.get("iso2")).upper()]
    return _money_amount(m["amt"], cur, groups.get("scale") or groups.get("scale_abbr"))


def money_range(m: re.Match) -> str:
    cur = m["sym"]
    if "." in m["a"] + m["b"]:  # $2.50-$3.75: each amount in full
        return f"{_money_amount(m['a'], cur)} to {_money_amount(m['b'], cur)}"
    units = CURRENCIES[cur][1]
    return f"{cardinal(m['a'])} to {cardinal(m['b'])} {units}"


def _month(name: str) -> str:
    """'Mar' / 'march' / 'Sept' -> 'march' / 'march' / 'september'."""
    name = name.lower()
    return name if name in MONTHS else MONTH_ABBR[name]


def _date(y: int | None, m: int, d: int, day_first: bool, raw: str) -> str:
    if not (1 <= m <= 12 and 1 <= d <= 31):
        return re.sub(r"[/.-]", " ", raw)
    ordinal = words(d, to="ordinal")
    spoken = f"the {ordinal} of {MONTHS[m - 1]}" if day_first else f"{MONTHS[m - 1]} {ordinal}"
    return spoken + (f", {year(y)}" if y is not None else "")


def numeric_date(m: re.Match) -> str:
    if m["iy"]:  # 2024-03-05, 2024/03/05
        return _date(int(m["iy"]), int(m["im"]), int(m["id"]), False, m[0])
    if m["ey"]:  # 05.03.2024: day first
        return _date(int(m["ey"]), int(m["em"]), int(m["ed"]), True, m[0])
    a, b, y = int(m["ua"]), int(m["ub"]), int(m["uy"])  # 3/5/2024 (US), 25/12/2023 (day first)
    return _date(y, a, b, False, m[0]) if a <= 12 else _date(y, b, a, True, m[0])


def month_date(m: re.Match) -> str:
    spoken = f"{_month(m['mon'])} {words(int(m['day']), to='ordinal')}"
    return spoken + (f", {year(int(m['y']))}" if m["y"] else "")


def day_month(m: re.Match) -> str:
    spoken = f"the {words(int(m['day']), to='ordinal')} of {_month(m['mon'])}"
    return spoken + (f" {year(int(m['y']))}" if m["y"] else "")


def _spell(letters: str) -> str:
    return " ".join(letters.lower())


def clock_time(m: re.Match) -> str:
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


def measure(m: re.Match) -> str:
    one, many = _UNITS[m["u"]]
    return f"{cardinal(m['n'])} {one if m['n'] == '1' else many}"


def phone(m: re.Match) -> str:
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


def electronic(m: re.Match) -> str:
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


def roman_context(m: re.Match) -> str:
    value = roman_value(m["r"])
    if value is None or len(m["r"]) == 1 and m["r"] not in "IVX":  # "Class C", "Grade D"
        return m[0]
    return f"{m['ctx'].lower()} {words(value)}"


def roman_regnal(m: re.Match) -> str:
    value, name = roman_value(m["r"]), m["name"]
    single = len(m["r"]) == 1
    if value is None or value > 39 or (single and name.lower() not in REGNAL_NAMES):
        return m[0]
    return f"{name.lower()} the {words(value, to='ordinal')}"


def abbreviation(m: re.Match) -> str:
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
