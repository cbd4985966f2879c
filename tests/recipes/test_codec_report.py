"""The codec report on a tiny corpus: test speakers scored in their manifest groups (held-out
voices first), every codec of the comparison in both modes, RTFs per mode, and the markdown."""

import dataclasses
import json

import pytest
import torch

from palette.codec.files import UserError
from palette.codec.palette_codec import PaletteCodec
from palette.recipes.evaluation import codec_report
from palette.recipes.evaluation.codec_report import CodecReportOptions, build_report

from .conftest import TINY_CODEC as TINY


def test_report_groups_held_out_voices_first_and_compares_codecs(
    speech_corpus, scorers, tmp_path, monkeypatch
):
    roles = [{"speaker_id": 100, "role": "test-inside"}, {"speaker_id": 200, "role": "test-base"}]
    (speech_corpus.parent / "MANY_CORPUS.json").write_text(json.dumps({"speakers": roles}))
    for seed, name in ((0, "new"), (1, "old")):
        torch.manual_seed(seed)
        PaletteCodec(TINY).save_pretrained(tmp_path / name)
    monkeypatch.setattr(codec_report, "load_scorers", lambda options: scorers)
    options = CodecReportOptions(
        split=str(speech_corpus),
        codec=str(tmp_path / "new"),
        compare=(str(tmp_path / "old"),),
        classic=False,
        out=str(tmp_path / "report"),
        per_speaker=1,
        threads=1,
    )
    report = build_report(options)
    assert list(report["groups"]) == ["test-base", "test-inside"]
    assert report["speakers"] == {"test-base": 1, "test-inside": 1}
    systems = report["groups"]["test-base"]
    assert list(systems) == [
        "original",
        "codec codes",
        "codec latents",
        "compare1 (old) codes",
        "compare1 (old) latents",
    ]
    assert abs(systems["original"]["sim_reference"] - 1.0) < 1e-4
    assert systems["codec codes"]["sim_reference"] < 0.99  # an untrained codec loses the voice
    assert systems["original"]["wer"] < systems["codec latents"]["wer"]
    for label in ("codec", "compare1 (old)"):
        speed = report["speed"][label]
        assert {"codes_encode_rtf", "codes_decode_rtf", "latents_decode_rtf"} <= set(speed)
        assert all(v > 0 for k, v in speed.items() if k.endswith("_rtf"))
    markdown = (tmp_path / "report" / "report.md").read_text()
    assert markdown.index("## test-base") < markdown.index("## test-inside")
    assert f"--compare {tmp_path / 'old'}" in markdown and "--classic false" in markdown


def test_report_keeps_only_the_asked_groups_and_names_unknown_ones(
    speech_corpus, scorers, tmp_path, monkeypatch
):
    roles = [{"speaker_id": 100, "role": "test-inside"}, {"speaker_id": 200, "role": "test-base"}]
    (speech_corpus.parent / "MANY_CORPUS.json").write_text(json.dumps({"speakers": roles}))
    torch.manual_seed(0)
    PaletteCodec(TINY).save_pretrained(tmp_path / "codec")
    monkeypatch.setattr(codec_report, "load_scorers", lambda options: scorers)
    options = CodecReportOptions(
        split=str(speech_corpus),
        codec=str(tmp_path / "codec"),
        classic=False,
        out=str(tmp_path / "report"),
        per_speaker=1,
        groups=("test-base",),
        threads=1,
    )
    report = build_report(options)
    assert list(report["groups"]) == ["test-base"] and report["utterances"] == 1
    assert "--groups test-base" in (tmp_path / "report" / "report.md").read_text()
    wrong = dataclasses.replace(options, groups=("test-unseen",))
    with pytest.raises(UserError, match="test-unseen.*test-base, test-inside"):
        build_report(wrong)
