"""Who says what in *Flight of the Amazon Queen*: the game's dialogue files, read to give every
speech clip (``.SB`` entry of ``queen.1c``) its transcript and its character.

The engine plays a sentence in segments: the text is cut at ``*`` commands (``*FL`` face left,
``*WT`` wait, ``*XY00(237,112)`` walk, ``*24`` an animation number, ...) and segment ``i``
(counted from 1, in hex) plays the clip ``<prefix><i>.SB``, with blanks of the prefix turned
into ``0``. There are three kinds of prefixes, one per kind of file:

- ``.DOG`` dialogue trees (a conversation with one person; the file is named after that person,
  ``SPARKY3.DOG``). After the 20-byte file header, big-endian int16s::

      0  levels (negative: the player cannot quit)   2 unique key   4 talk key K
      6  Joe's sentence count J   8 the person's count P   10 two (state, value, item) triples
      22 person list offset   24 cutaway offset   26 person's second-greeting offset
      32 the tree (levels x 6 nodes x 16 bytes); Joe's list at 32 + 96 * levels

  A list is entries of (int16 unused, int16 id, string padded to 4 bytes); a string is one
  length byte and that many Latin-1 bytes. Joe's sentence with id ``h`` plays ``%2d%4xJ``
  (K, h), the person's ``%2d%4xP``; the first entry of Joe's list is his greeting
  (``%2dSSSSJ``), the two strings at the second-greeting offset the person's and Joe's lines
  when they meet again (``%2dXXXXP``, ``%2dXXXXJ``).
- ``.CUT`` cut-scenes. After the header: int16 panel, object count (negative: no quit), flags,
  then offsets of the game states, of the sentences and of the bank names; object records
  follow from byte 12: 17 int16 (object number first; 0 is Joe), a person count and that many
  int16, then, for an animated object, frames of 10 int16 up to a -2. The sentences are one
  string per object, after an entry string, 2-byte aligned. Object ``i`` (from 1) of
  ``C21E.CUT`` plays ``C21E_%02d`` (i); the speaker is the person object's name in QUEEN2.JAS.
- Joe's remarks about things (``QUEEN2.JAS``, one text line each): object description ``k``
  plays ``JOE%04d`` (40 + k) and Joe's stock response ``k`` (1..40) ``JOE%04d`` (k).
  ``QUEEN.JAS`` (after its header) starts with uint16 room, name, object and description
  counts, then one 8 x int16 record per object (name index, x, y, description, entry, room,
  state, image; image -3 or -4 marks a person). The text lines are, in order: descriptions,
  object names, room names, 12 verbs, the 40 responses, ...

The layout is read from ScummVM's Queen engine (``engines/queen/talk.cpp``, ``cutaway.cpp``,
``logic.cpp``); nothing here runs the game's logic, so a line's speaker in a cut-scene is the
object's name as the game starts, and a few dozen clips (sound-effect-like names) stay unnamed.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass

from palette.recipes.corpus.fotaq_resource import FILE_HEADER, ResourceFile

JOE = "JOE"
JOE_RESPONSE_MAX = 40
_NO_SEGMENT = ("GD", "GM")  # grab commands: the segment index moves on, nothing is said


@dataclass(frozen=True)
class Line:
    clip: str  # clip name without ".SB", e.g. "020001P2"
    text: str  # what is said (the subtitle), "" when the script has none
    character: str  # JOE, a .DOG stem (SPARKY), a cut-scene object name ("Trader Bob") or "?"
    source: str  # the file it comes from (SPARKY3.DOG, C21E.CUT, QUEEN2.JAS)


def segments(sentence: str) -> list[tuple[int, str]]:
    """``(index, text)`` of the spoken segments of a sentence (index from 0), as the engine
    cuts it at ``*XX`` commands."""
    out, start, i, index = [], 0, 0, 0
    while i < len(sentence):
        if sentence[i] != "*":
            i += 1
            continue
        text, command = sentence[start:i], sentence[i + 1 : i + 3]
        i += 3 + (11 if command == "XY" else 0)
        if command not in _NO_SEGMENT:
            out.append((index, text))
        index, start = index + 1, i
    if start < len(sentence):
        out.append((index, sentence[start:]))
    return out


def _lines(prefix: str, sentence: str, character: str, source: str) -> list[Line]:
    prefix = prefix.replace(" ", "0").upper()
    return [
        Line(f"{prefix}{index + 1:x}".upper(), " ".join(text.split()), character, source)
        for index, text in segments(sentence)
    ]


def _i16(data: bytes, offset: int) -> int:
    return struct.unpack_from(">h", data, offset)[0]


def _string(data: bytes, offset: int, align: int = 2) -> tuple[str, int]:
    """Length-prefixed Latin-1 string at ``offset`` -> (text, offset after its padding)."""
    length = data[offset]
    offset += 1
    text = data[offset : offset + length].decode("latin-1")
    if length:
        offset = (offset + length + align - 1) & ~(align - 1)
    return text, offset


def dog_lines(name: str, data: bytes) -> list[Line]:
    """The lines of dialogue file ``name`` (``SPARKY3.DOG``) from its bytes after the header."""
    person = re.sub(r"\d+$", "", name.upper().removesuffix(".DOG"))
    levels, key = abs(_i16(data, 0)), _i16(data, 4)
    joe_max, person_max = _i16(data, 6), _i16(data, 8)
    person_at, _, again_at = struct.unpack_from(">3H", data, 22)
    out: list[Line] = []
    for start, count, who, tag in (
        (32 + 96 * levels, joe_max, JOE, "J"),
        (person_at, person_max, person, "P"),
    ):
        offset = start
        for _ in range(count):
            ident = _i16(data, offset + 2)
            text, offset = _string(data, offset + 4, align=4)
            if ident > 0:  # id 0 is the greeting, played under another name
                out += _lines(f"{key:2d}{ident:4x}{tag}", text, who, name)
    has_no_greeting = struct.unpack_from(">H", data, 32 + 96 * levels + 2)[0]
    if not has_no_greeting:
        text, _ = _string(data, 32 + 96 * levels + 4)
        out += _lines(f"{key:2d}SSSSJ", text, JOE, name)
    again, offset = _string(data, again_at)
    joe_again, _ = _string(data, offset)
    out += _lines(f"{key:2d}XXXXP", again, person, name)
    out += _lines(f"{key:2d}XXXXJ", joe_again, JOE, name)
    return out


@dataclass(frozen=True)
class GameObjects:
    """What QUEEN.JAS / QUEEN2.JAS say about objects: ``names[i]`` and ``is_person[i]`` for
    object ``i`` (index 0 unused), Joe's ``descriptions`` and stock ``responses``."""

    names: list[str]
    is_person: list[bool]
    descriptions: list[str]
    responses: list[str]


def game_objects(jas: bytes, jas_text: bytes) -> GameObjects:
    """Parse QUEEN.JAS (bytes after the header) and QUEEN2.JAS (text lines)."""
    rooms, n_names, n_objects, n_descriptions = struct.unpack_from(">4H", jas, 0)
    lines = jas_text.decode("latin-1").replace("\r\n", "\n").split("\n")
    names = lines[n_descriptions : n_descriptions + n_names]
    first_response = n_descriptions + n_names + rooms + 12
    object_names, is_person = [""], [False]
    for i in range(n_objects):
        record = struct.unpack_from(">8h", jas, 8 + 16 * i)
        object_names.append(names[abs(record[0]) - 1] if record[0] else "")
        is_person.append(record[7] in (-3, -4))
    return GameObjects(
        object_names,
        is_person,
        lines[:n_descriptions],
        lines[first_response : first_response + JOE_RESPONSE_MAX],
    )


def cut_lines(name: str, data: bytes, objects: GameObjects) -> list[Line]:
    """The spoken lines of cut-scene ``name`` (``C21E.CUT``) from its bytes after the header."""
    base = name.upper().removesuffix(".CUT")
    prefix = base.ljust(5, "_")
    count, sentences_at = abs(_i16(data, 2)), struct.unpack_from(">H", data, 8)[0]
    _, text_at = _string(data, sentences_at)  # the entry string (Joe's facing)
    offset, out = 12, []
    for index in range(1, count + 1):
        record = struct.unpack_from(">17h", data, offset)
        number, anim_list, execute, from_object = record[0], record[4], record[5], record[12]
        offset += 34
        offset += 2 + 2 * _i16(data, offset)  # the people turned on
        number = 0 if number == -5 else number  # a room fade is Joe's record
        sentence, text_at = _string(data, text_at)
        known = 0 < number < len(objects.is_person)
        person = (number == 0 or (known and objects.is_person[number])) and not anim_list
        if not person and from_object <= 0 and number not in (-2, -3, -4) and execute:
            while _i16(data, offset) != -2:  # animation frames: header + 9 int16
                offset += 20
            offset += 2
        if not sentence or sentence == "*" or sentence.startswith("#"):
            continue  # nothing said ("#" starts the credits)
        who = JOE if number == 0 else (objects.names[number] if known else "?")
        out += _lines(f"{prefix}{index:02d}", sentence, who or "?", name)
    return out


def joe_remarks(objects: GameObjects) -> list[Line]:
    """Joe's stock responses and object descriptions (QUEEN2.JAS)."""
    out = []
    for k, text in enumerate(objects.responses, 1):
        out += _lines(f"JOE{k:04d}", text, JOE, "QUEEN2.JAS")
    for k, text in enumerate(objects.descriptions, 1):
        out += _lines(f"JOE{JOE_RESPONSE_MAX + k:04d}", text, JOE, "QUEEN2.JAS")
    return out


def script_lines(res: ResourceFile) -> dict[str, Line]:
    """Every line the dialogue files give, by clip name; only clips that exist are kept."""
    objects = game_objects(res.read("QUEEN.JAS", FILE_HEADER), res.read("QUEEN2.JAS"))
    found: list[Line] = joe_remarks(objects)
    for name in res.names(".DOG"):
        found += dog_lines(name, res.read(name, FILE_HEADER))
    for name in res.names(".CUT"):
        found += cut_lines(name, res.read(name, FILE_HEADER), objects)
    clips = {n.removesuffix(".SB") for n in res.names(".SB")}
    return {line.clip: line for line in found if line.clip in clips}
