"""English sentences for the mini corpus, from licence-clean sources only.

Two sources:

- **Python's own documentation**: prose sentences from the docstrings of the standard library
  and from ``pydoc_data.topics`` (the language reference text that ships with CPython). Both are
  covered by the PSF licence. The exact set depends on the Python version (and on which optional
  standard modules it was built with).
- **Templates** written for this recipe, filled from small word lists, so that the corpus holds
  what the text normaliser must handle: numbers, ordinals, years, dates, times, currency,
  percentages and abbreviations (``"Dr. Smith paid $3.50 on May 5th."``).

Every sentence kept normalises (``tts.text.normalize``) without dropping a character.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import random
import re
import sys
import warnings

from palette.tts.text import normalize

# Standard-library modules not imported for their docstrings: they open windows or browsers,
# print or touch the terminal on import, or are test suites.
_SKIP_MODULES = frozenset(
    {
        "antigravity",
        "this",
        "idlelib",
        "tkinter",
        "turtle",
        "turtledemo",
        "__main__",
        "lib2to3",
        "ensurepip",
        "test",
        "pydoc_data",
        "venv",
        "readline",
        "rlcompleter",
    }
)
# A prose sentence: capitalised words separated by spaces and light punctuation, one end mark.
_PROSE = re.compile(r"[A-Z][A-Za-z']*(?:[ ,;:\-]+\(?[A-Za-z0-9][A-Za-z0-9']*\)?)*[.!?]")
# Words that mark a sentence as being about code rather than prose.
_CODE_WORDS = re.compile(
    r"\b(?:self|args|kwargs|cls|func|obj|str|int|dict|bool|param|none|true|false|iterable|"
    r"callable|tuple|bytes|attr|utf|api|url|foo|bar|spam|eggs|etc)\b",
    re.IGNORECASE,
)
_VOWEL = re.compile(r"[aeiouyAEIOUY]")


def _is_prose(sentence: str, min_words: int, max_words: int) -> bool:
    words = sentence.rstrip(".!?").replace(",", " ").replace(";", " ").replace(":", " ").split()
    if not (min_words <= len(words) <= max_words) or len(sentence) > 160:
        return False
    if not _PROSE.fullmatch(sentence) or _CODE_WORDS.search(sentence):
        return False
    if re.search(r"[A-Z]{2,}|[a-z][A-Z]", sentence[1:]):  # CONSTANTS, camelCase
        return False
    # no single letters but "a"/"I", no vowel-less tokens like "fd" (names of variables)
    return all(
        w.strip("()'-") in ("a", "I") or (len(w.strip("()'-")) > 1 and _VOWEL.search(w))
        for w in words
    )


def _prose_sentences(text: str, min_words: int, max_words: int) -> list[str]:
    """Sentences of the prose paragraphs of a docstring (paragraphs with code are skipped)."""
    out = []
    for paragraph in re.split(r"\n\s*\n", text):
        if re.search(r">>>|::|\n   |\*\*|``|\|", paragraph):
            continue
        for sentence in re.split(r"(?<=[.!?])\s+(?=[A-Z])", " ".join(paragraph.split())):
            if _is_prose(sentence, min_words, max_words):
                out.append(sentence)
    return out


def _module_docstrings(module) -> list[str]:
    """The docstrings of a module, its public classes and functions, and their methods."""
    docs = [inspect.getdoc(module) or ""]
    for name, obj in sorted(vars(module).items()):
        if name.startswith("_") or getattr(obj, "__module__", None) != module.__name__:
            continue
        if inspect.isclass(obj) or inspect.isroutine(obj):
            docs.append(inspect.getdoc(obj) or "")
        if inspect.isclass(obj):
            for attr, member in sorted(vars(obj).items()):
                if not attr.startswith("_") and inspect.isroutine(member) and member.__doc__:
                    docs.append(inspect.cleandoc(member.__doc__))
    return docs


def _stdlib_modules():
    """Import the standard library's public modules and subpackages, one at a time."""
    for name in sorted(sys.stdlib_module_names):
        if name in _SKIP_MODULES or name.startswith("_"):
            continue
        try:
            module = importlib.import_module(name)
        except Exception:  # platform-specific modules (winreg, msvcrt, ...)
            continue
        yield module
        for info in pkgutil.walk_packages(getattr(module, "__path__", []), name + "."):
            parts = info.name.split(".")[1:]
            if any(p.startswith("_") or p in ("test", "tests") for p in parts):
                continue
            try:
                yield importlib.import_module(info.name)
            except Exception:
                continue


def python_doc_sentences(min_words: int = 5, max_words: int = 20) -> list[str]:
    """Distinct prose sentences from the standard library's docstrings and ``pydoc_data``,
    sorted (the order does not depend on import order)."""
    from pydoc_data.topics import topics

    found: set[str] = set()
    for text in topics.values():
        found.update(_prose_sentences(text, min_words, max_words))
    seen: set[int] = set()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # deprecated modules warn on import
        for module in _stdlib_modules():
            if id(module) in seen:
                continue
            seen.add(id(module))
            for doc in _module_docstrings(module):
                found.update(_prose_sentences(doc, min_words, max_words))
    return sorted(found)


# --- templates ---------------------------------------------------------------------------
_TITLES = ["Dr.", "Mr.", "Mrs.", "Ms.", "Prof.", "Capt.", "Sgt.", "Gov.", "Rev.", "Lt.", "Col."]
_FIRST = """Alice Ben Clara David Emma Felix Grace Henry Iris Jack Julia Kevin Laura Marcus Nina
Oscar Priya Quentin Rosa Samuel Tara Victor Wendy Yusuf Zoe Amir Beatrice Carlos Daniela Ethan
Fatima George Hannah Ivan Keiko Leo Maria Noah Olivia Pablo Ruth Stefan""".split()
_LAST = """Smith Lee Patel Garcia Nakamura Brown Moore Chen Okafor Rossi Novak Dubois Keller
Larsen Silva Kowalski Murphy Haddad Ivanova Johnson Walker Kim Tanaka Fischer Lopez Wright
Baker Hughes Price Ellis Grant Palmer Reyes Foster Sutton""".split()
_CITIES = """London Paris Boston Denver Cairo Lima Osaka Toronto Dublin Madrid Chicago Nairobi
Oslo Sydney Seattle Lisbon Vienna Austin Mumbai Prague Phoenix Helsinki Atlanta Montreal Quito
Edinburgh Portland Santiago Melbourne Glasgow""".split()
_STREETS = [
    "Oak St.",
    "Maple Ave.",
    "River Rd.",
    "Sunset Blvd.",
    "Elm St.",
    "Park Ave.",
    "Hill Rd.",
    "Church St.",
    "Lake Ave.",
    "Mill Rd.",
]
_ITEMS = """bicycle umbrella lamp ticket map violin jacket kettle novel camera clock blanket
telescope guitar suitcase painting chair notebook radio lantern mirror basket compass""".split()
_PLACES = """library market station museum harbor bakery hospital theater garden school
bookshop hotel gallery pharmacy stadium cafe post office""".split()
_ADJECTIVES = """old small bright quiet heavy broken elegant tiny enormous dusty shiny
wooden cheerful strange famous crowded narrow ancient""".split()
_VERBS = """bought sold found lost ordered borrowed repaired painted wrapped returned
delivered carried""".split()
_PLURALS = """apples chairs boxes letters birds lanterns bottles coins stamps photographs
tickets bicycles candles shells""".split()
_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]

_TEMPLATES = [
    "{title} {last} paid {money} for the {adj} {item} on {date}.",
    "On {date}, {first} {verb} a {adj} {item} at the {place} in {city}.",
    "The train to {city} leaves at {time} from platform {small}.",
    "{first} {last} was born on {date_year} in {city}.",
    "Is it true that the {place} on {street_full} closes at {time}?",
    "Prices rose by {percent} in {year}, and nobody seemed surprised.",
    "The {ordinal} chapter begins with a letter from {title} {last}.",
    "We counted {count} {plural} near the {place} yesterday.",
    "{title} {last} and {title2} {last2} met at {time} to discuss the {year} budget.",
    "Please send {money} to {first} {last} before {date}.",
    "The temperature dropped to {small} degrees by {time}.",
    "In {year}, about {big} people lived in {city}.",
    "Our meeting on {date} moved to room {room}, not room {room2}.",
    "What a race! {first} finished {ordinal} out of {count} runners.",
    "{first} lives at {street_full}, next to the {adj} {place}.",
    "The recipe calls for {decimal} cups of flour and {small} eggs.",
    "Tickets cost {money} each, or {money2} for a family of {small}.",
    "Between {year} and {year2}, the {place} was closed for repairs.",
    "Did {first} really walk {decimal} miles before {time}?",
    "The score was {small} to {small2} at the end of the {ordinal} round.",
    "About {percent} of the {plural} were sold by {date}.",
    "Flight {flight} to {city} departs at {time} on {date}.",
    "{title} {last} said the {item} would cost around {money}.",
    "I think the {adj} {item} belongs to {first}, doesn't it?",
    "The {place} opened in the {decade} and still welcomes {count} guests a week.",
    "Call {first} at {time}; the address is written on page {page}.",
    "After {count} days at sea, the crew finally reached {city}.",
    "The {place} on {street_full} holds {big} books and {count} maps.",
    "My grandmother moved to {city} on {date_year}.",
    "Chapter {small} ends on page {page}, so we have {small2} pages left.",
    "{first} carried the {adj} {item} across the {place} and smiled.",
    "Nobody expected {title} {last} to arrive in {city} so early.",
    "Why did {first} leave the {item} at the {place} again?",
    "The {adj} {item} cost {money}, which was {percent} less than last year.",
    "The festival in {city} starts on {date} at {time}.",
    "{first} and {first2} shared {decimal} kilograms of {plural} on the way home.",
    "The {ordinal} edition of the guide was printed in {year}.",
    "Turn left on {street}, then walk {small} blocks to the {place}.",
    "By {year}, the company had sold {big} copies worldwide.",
    "It rained for {count} hours, and the {place} stayed empty until {time}.",
]


def _money(rng: random.Random) -> str:
    sym = rng.choice(["$", "$", "$", "€", "£"])
    kind = rng.random()
    if kind < 0.45:
        return f"{sym}{rng.randint(1, 99)}.{rng.randint(0, 99):02d}"
    if kind < 0.8:
        return f"{sym}{rng.randint(2, 950)}"
    if kind < 0.95:
        return f"{sym}{rng.randint(1, 9)},{rng.randint(0, 999):03d}"
    return f"{sym}{rng.randint(1, 9)}.{rng.randint(1, 9)} million"


def _date(rng: random.Random, year: bool) -> str:
    month, day = rng.randrange(12), rng.randint(1, 28)
    y = rng.randint(1890, 2029)
    style = rng.randrange(5)
    if style == 0:
        text = f"{_MONTHS[month]} {day}{_suffix(day)}"
    elif style == 1:
        text = f"{_MONTHS[month][:3]}. {day}" if month != 4 else f"May {day}"
    elif style == 2:
        text = f"{day} {_MONTHS[month]}"
    elif style == 3:
        return f"{month + 1}/{day}/{y}"
    else:
        return f"{y}-{month + 1:02d}-{day:02d}"
    return f"{text}, {y}" if year and style != 2 else (f"{text} {y}" if year else text)


def _suffix(n: int) -> str:
    if 10 <= n % 100 <= 20:
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")


def _time(rng: random.Random) -> str:
    hour, minute = rng.randint(1, 12), rng.choice([0, 5, 10, 15, 20, 30, 40, 45, 50])
    ampm = rng.choice(["am", "pm", "a.m.", "p.m.", ""])
    if minute == 0 and ampm:
        return f"{hour} {ampm}"
    return f"{hour}:{minute:02d}" + (f" {ampm}" if ampm else "")


def _slots(rng: random.Random) -> dict[str, str]:
    year = rng.randint(1850, 2029)
    small, page = rng.randint(2, 12), rng.randint(12, 480)
    return {
        "title": rng.choice(_TITLES),
        "title2": rng.choice(_TITLES),
        "first": rng.choice(_FIRST),
        "first2": rng.choice(_FIRST),
        "last": rng.choice(_LAST),
        "last2": rng.choice(_LAST),
        "city": rng.choice(_CITIES),
        "street": rng.choice(_STREETS),
        "street_full": f"{rng.randint(3, 2400)} {rng.choice(_STREETS)}",
        "item": rng.choice(_ITEMS),
        "place": rng.choice(_PLACES),
        "adj": rng.choice(_ADJECTIVES),
        "verb": rng.choice(_VERBS),
        "plural": rng.choice(_PLURALS),
        "money": _money(rng),
        "money2": _money(rng),
        "date": _date(rng, year=False),
        "date_year": _date(rng, year=True),
        "time": _time(rng),
        "year": str(year),
        "year2": str(year + rng.randint(2, 40)),
        "decade": f"{rng.randint(185, 202)}0s",
        "percent": rng.choice(
            [f"{rng.randint(2, 95)}%", f"{rng.randint(1, 19)}.{rng.randint(1, 9)}%"]
        ),
        "ordinal": f"{(n := rng.choice([1, 2, 3, 4, 5, 7, 11, 12, 21, 22, 23, 31, 101]))}{_suffix(n)}",
        "count": str(rng.randint(3, 750)),
        "big": f"{rng.randint(1, 950)},{rng.randint(0, 999):03d}",
        "small": str(small),
        "small2": str(rng.randint(0, 12)),
        "page": str(page),
        "room": str(rng.randint(100, 499)),
        "room2": str(rng.randint(500, 999)),
        "decimal": f"{rng.randint(0, 9)}.{rng.choice([25, 5, 75, 2, 4])}",
        "flight": f"{rng.randint(100, 9899)}",
    }


def template_sentences(count: int, seed: int) -> list[str]:
    """``count`` distinct sentences from the templates (seeded; raises if the templates cannot
    make that many)."""
    rng = random.Random(seed)
    out: dict[str, None] = {}
    attempts = 0
    while len(out) < count:
        attempts += 1
        if attempts > 50 * count + 1000:
            raise ValueError(f"the templates cannot make {count} distinct sentences")
        out.setdefault(rng.choice(_TEMPLATES).format(**_slots(rng)), None)
    return list(out)


def speakable(sentence: str) -> str | None:
    """The normalised form of ``sentence``, or None when normalising would drop characters or
    leave nothing to say."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            normalized = normalize(sentence)
        except (UserWarning, ValueError):
            return None
    return normalized if any(ch.isalpha() for ch in normalized) else None


def sentence_pool(seed: int, num_templates: int) -> list[tuple[str, str]]:
    """All documentation sentences plus ``num_templates`` template sentences, shuffled with
    ``seed``: a list of distinct ``(original, normalized)`` pairs."""
    candidates = python_doc_sentences() + template_sentences(num_templates, seed)
    pool, seen = [], set()
    for original in candidates:
        normalized = speakable(original)
        if normalized is not None and original not in seen:
            seen.add(original)
            pool.append((original, normalized))
    random.Random(seed).shuffle(pool)
    return pool
