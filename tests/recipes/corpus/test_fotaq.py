"""Flight of the Amazon Queen: the resource table, the dialogue files and the cast are read from
small files made here; one real clip is decoded when the Debian package is in the cache."""

import struct

import numpy as np
import pytest

from palette.recipes.corpus import debian, fotaq
from palette.recipes.corpus.fotaq_cast import parse_credits, speaker_of
from palette.recipes.corpus.fotaq_resource import (
    FILE_HEADER,
    ResourceFile,
    ResourceFormatError,
    build_resource,
)
from palette.recipes.corpus.fotaq_script import dog_lines, script_lines, segments


def _string(text: str, align: int) -> bytes:
    raw = bytes([len(text)]) + text.encode("latin-1")
    return raw + b"\0" * (-len(raw) % align if text else 0)


def _dog(key: int, joe: dict[int, str], person: dict[int, str], again=("Hi.", "Hello.")) -> bytes:
    """A one-level dialogue file (after its 20-byte header), in the engine's layout."""
    levels = 1
    joe_list = struct.pack(">hh", 0, 0) + _string("Oi.", 4)  # Joe's greeting (id 0)
    for ident, text in joe.items():
        joe_list += struct.pack(">hh", 0, ident) + _string(text, 4)
    person_at = 32 + 96 * levels + len(joe_list)
    person_list = b"".join(struct.pack(">hh", 0, i) + _string(t, 4) for i, t in person.items())
    again_at = person_at + len(person_list)
    head = struct.pack(">5h", levels, 7, key, len(joe) + 1, len(person)) + b"\0" * 12
    head += struct.pack(">3H", person_at, 0, again_at) + b"\0" * 4
    return head + b"\0" * 96 + joe_list + person_list + _string(again[0], 2) + _string(again[1], 2)


def test_resource_table_round_trips(tmp_path):
    files = {"a.sb": b"\x01\x02\x03", "QUEEN2.JAS": b"text\r\n", "Z.DOG": b"x" * 40}
    path = tmp_path / "queen.1c"
    path.write_bytes(build_resource(files, version="CEM10", compression=1))
    res = ResourceFile(path)
    assert (res.version, res.compression) == ("CEM10", "mp3")
    assert res.names() == ["A.SB", "QUEEN2.JAS", "Z.DOG"]
    assert res.names(".sb") == ["A.SB"]
    assert res.read("a.SB") == b"\x01\x02\x03"
    assert res.read("Z.DOG", skip=FILE_HEADER) == b"x" * 20
    entry = res.entries["QUEEN2.JAS"]
    assert (entry.bundle, entry.size) == (1, 6)
    with pytest.raises(KeyError):
        res.read("MISSING.SB")


def test_resource_table_rejects_other_files(tmp_path):
    (tmp_path / "bad.1c").write_bytes(b"RIFF" + b"\0" * 40)
    with pytest.raises(ResourceFormatError):
        ResourceFile(tmp_path / "bad.1c")
    cut = build_resource({"A.SB": b"abc"})[:-2]
    (tmp_path / "cut.1c").write_bytes(cut)
    with pytest.raises(ResourceFormatError):
        ResourceFile(tmp_path / "cut.1c")


def test_sentences_are_cut_at_commands_like_the_engine():
    assert segments("Hello there*FLHow are you?*24") == [(0, "Hello there"), (1, "How are you?")]
    # a walk command carries 11 more characters; before a grab nothing is said, but the
    # segment index moves on (so the clip numbers skip one)
    assert segments("Go*XY00(237,112)on*GDnow") == [(0, "Go"), (2, "now")]
    assert segments("Wait*GDfor it") == [(1, "for it")]


def test_dialogue_file_names_clips_by_talk_key_sentence_id_and_segment():
    data = _dog(6, {0x1E: "Who are you?*FLReally?"}, {0x123: "I'm Bob."})
    lines = {line.clip: line for line in dog_lines("BOB2.DOG", data)}
    assert lines["06001EJ1"].text == "Who are you?" and lines["06001EJ2"].text == "Really?"
    assert lines["06001EJ1"].character == "JOE"
    assert lines["060123P1"].text == "I'm Bob." and lines["060123P1"].character == "BOB"
    assert lines["06SSSSJ1"].text == "Oi."
    assert lines["06XXXXP1"].text == "Hi." and lines["06XXXXJ1"].text == "Hello."


def test_script_lines_keep_only_clips_that_exist(tmp_path):
    jas = struct.pack(">4H", 1, 1, 1, 1) + struct.pack(">8h", 1, 0, 0, 0, 0, 1, 0, -3)
    jas_text = "\r\n".join(["Nice.*24", "Bob", "room", *["verb"] * 12, "No way*03"] + [""] * 39)
    files = {
        "QUEEN.JAS": b"\0" * FILE_HEADER + jas + b"\0" * 8,
        "QUEEN2.JAS": jas_text.encode(),
        "BOB2.DOG": b"\0" * FILE_HEADER + _dog(6, {0x1E: "Who?"}, {1: "Me."}),
        "06001EJ1.SB": b"",
        "060001P1.SB": b"",
        "JOE00011.SB": b"",
        "JOE00411.SB": b"",
    }
    (tmp_path / "queen.1c").write_bytes(build_resource(files))
    lines = script_lines(ResourceFile(tmp_path / "queen.1c"))
    assert sorted(lines) == ["060001P1", "06001EJ1", "JOE00011", "JOE00411"]
    assert lines["JOE00011"].text == "No way" and lines["JOE00411"].text == "Nice."


def test_credits_give_one_speaker_per_actor_and_none_for_shared_roles():
    credits = (
        ".i 15\r\nVoice Artists\r\n.i 30\r\nTom Hill\r\n.i 222\r\n    Sparky\r\n     Rico\r\n\r\n"
        ".i 30\r\nEnn Reitel\r\n.i 222\r\n    Anderson\r\n     Rico\r\n.p 5\r\n"
    )
    roles = parse_credits(credits)
    assert roles == {
        "Sparky": ["Tom Hill"],
        "Rico": ["Tom Hill", "Enn Reitel"],
        "Anderson": ["Enn Reitel"],
    }
    assert speaker_of("SPARKY", roles) == ("fotaq-tom-hill", ("Tom Hill",))
    assert speaker_of("and", roles) == ("fotaq-enn-reitel", ("Enn Reitel",))
    assert speaker_of("Rico", roles) == ("fotaq-char-rico", ("Tom Hill", "Enn Reitel"))
    assert speaker_of("note", roles) == ("fotaq-char-note", ())


def test_a_missing_resource_file_is_unavailable_not_a_crash(tmp_path):
    with pytest.raises(debian.SourceUnavailable):
        fotaq.open_resource(str(tmp_path / "absent.1c"))
    assert fotaq.main(["--stats", "--resource", str(tmp_path / "absent.1c")]) == 1


@pytest.mark.skipif(
    not debian.cached([fotaq.PACKAGE]), reason=f"{fotaq.PACKAGE} is not in the Debian cache"
)
def test_a_real_clip_decodes_with_its_transcript_and_speaker():
    res = fotaq.open_resource()
    assert (res.version, res.compression) == ("CEM10", "mp3")
    chosen = {c.name: c for c in fotaq.clips(res)}
    assert len(chosen) > 6000
    clip = chosen["020001P2"]
    assert clip.text == "You couldn't pilot your way out of a paper bag."
    assert (clip.character, clip.speaker) == ("AND", "fotaq-enn-reitel")
    wav, rate = fotaq.load_clip(res, clip.name)
    assert rate == 11025 and wav.dtype == np.float32 and wav.ndim == 1
    assert 2.0 < len(wav) / rate < 6.0 and 0.05 < np.abs(wav).max() <= 1.0
