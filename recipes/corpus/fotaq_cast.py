"""The voice cast of *Flight of the Amazon Queen*: which actor speaks which character.

The game's own credits (``CREDIT2.CRD`` in ``queen.1c``) list every voice artist with their
roles; a text file of ``.i <style>`` lines, where style 30 starts an actor's name and style
222 their roles, one per line::

    .i 30
    Tom Hill
    .i 222
        Sparky
         Jimmy Cook

The dialogue files name characters differently (``SPARKY3.DOG`` -> ``SPARKY``, cut-scene
objects ``"Trader Bob"``, ``"witch doctor"``); :data:`ROLE_OF` maps those names onto the
credited roles. It was checked by reading each character's lines. Three roles are credited to
two actors each (Klunk, Rico, Lola): their clips get both names, never one speaker id, so that
they cannot leak a held-out actor into training. Characters left out of the table (the oracle,
a prisoner, objects that speak for someone: "note", "smoke", "path") have no known actor.
"""

from __future__ import annotations

import re

# dialogue-file character (DOG stem or cut-scene object name, lower case) -> credited role
ROLE_OF = {
    "joe": "Joe King",
    "joe king": "Joe King",
    "and": "Anderson",
    "anderson": "Anderson",
    "ape": "Gorillla",  # sic: the credits spell it so
    "gorilla": "Gorillla",
    "bob": "Trader Bob",
    "trader bob": "Trader Bob",
    "bud": "Bud",
    "chef": "Chef",
    "chief": "Pygmy Chief",
    "death": "Charon",  # the ferryman in a Death costume, fishing
    "ferryman": "Charon",
    "dog": "Guard Dog",
    "guard dog": "Guard Dog",
    "eddy": "Eddy",
    "faye": "Faye Russel",
    "frank": "Frank Ironstein",
    "henry": "Henry",
    "hugh": "Big Hugh",
    "ian": "Ian",
    "jim": "Jimmy Cook",
    "jimmy": "Jimmy Cook",
    "john": "John",
    "klunk": "Klunk",
    "laris": "Bellboy",  # "I'm Mike Laris the bellboy."
    "bellboy": "Bellboy",
    "lola": "Lola",
    "tam": "Mary-Lou Cook",  # "Howdy Joe, I'm Mary-Lou Cook."
    "mary-lou": "Mary-Lou Cook",
    "naomi": "Naomi",
    "prin": "Princess Azura",
    "princess azura": "Princess Azura",
    "azura obj": "Princess Azura",
    "rico": "Rico",
    "rita": "Rita",
    "sec": "Secretary",
    "secretary": "Secretary",
    "showeram": "Showering Amazon",
    "showering amazon": "Showering Amazon",
    "skip": "Skip",
    "sparky": "Sparky",
    "guardian": "Temple Guardian",
    "wedge": "Wedgewood",
    "wedgewood": "Wedgewood",
    "witch": "Witch Doctor",
    "witch doctor": "Witch Doctor",
    "zombie": "Zombie Woman",
    "zombie woman": "Zombie Woman",
}


def parse_credits(text: str) -> dict[str, list[str]]:
    """Credited role -> actors, from the credits file's voice-artist pages."""
    roles: dict[str, list[str]] = {}
    style, actor = None, None
    for raw in text.replace("\r", "").split("\n"):
        line = raw.strip()
        match = re.fullmatch(r"\.i (\d+)", line)
        if match:
            style = int(match[1])
        elif not line or line.startswith("."):
            continue
        elif style == 30:
            actor = line
        elif style == 222 and actor:
            roles.setdefault(line, [])
            if actor not in roles[line]:
                roles[line].append(actor)
    return roles


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def speaker_of(character: str, roles: dict[str, list[str]]) -> tuple[str, tuple[str, ...]]:
    """``(speaker id, actors)`` of a dialogue-file character.

    The id is ``fotaq-<actor>`` when exactly one actor is credited with the role; otherwise
    ``fotaq-char-<character>`` (role of two actors, or actor unknown), with the actors known.
    """
    role = ROLE_OF.get(character.lower())
    actors = tuple(roles.get(role, ())) if role else ()
    if len(actors) == 1:
        return f"fotaq-{slug(actors[0])}", actors
    return f"fotaq-char-{slug(role or character) or 'unknown'}", actors


# the credited voice artists' genders (each voices characters of that gender only); checked
# against the median F0 of their clips in ``recipes/corpus/fotaq_clips.json``
GENDER = {
    "Brad Lavelle": "M",
    "Tom Hill": "M",
    "Enn Reitel": "M",
    "Bill Hootkins": "M",
    "Mike Hurley": "M",
    "Penelope Keith": "F",
    "Jon Coleman": "M",
    "Debbie Arnold": "F",
    "Regina Reagan": "F",
    "Barry James": "M",
    "Lisa Valdez": "F",
    "Jessica Martin": "F",
}
