"""The evaluation harness with its models: speaker similarity, DNSMOS, end-to-end scoring,
`palette eval`'s commands, and pluggable speaker and Whisper models."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf
import soxr

from palette.recipes.evaluation.manifest import (
    EvalItem,
)
from palette.recipes.evaluation.metrics.speaker import (
    cosine,
    load_speaker_embedder,
)
from palette.recipes.evaluation.report import to_markdown
from palette.recipes.evaluation.scorer import EvalOptions, score_items
from palette.tts.cli import main as palette

from .conftest import SENTENCES, tone


def test_speaker_similarity_of_a_file_with_itself_is_one_and_noise_is_lower(scorers, speech_corpus):
    wav, _ = sf.read(next(speech_corpus.rglob("100_*_000001.wav")), dtype="float32")
    wav = soxr.resample(wav, 22050, 16000)
    emb = scorers.speaker.embed(wav)
    assert cosine(emb, scorers.speaker.embed(wav)) == pytest.approx(1.0, abs=1e-5)
    rng = np.random.default_rng(0)
    noise = [
        scorers.speaker.embed(0.1 * rng.standard_normal(32000).astype(np.float32)) for _ in range(2)
    ]
    assert cosine(emb, noise[0]) < 0.9 and cosine(noise[0], noise[1]) < 1.0 - 1e-3


def test_dnsmos_rates_clean_speech_above_white_noise(scorers, piper_say):
    wav, sr = piper_say(SENTENCES[0])
    speech = scorers.dnsmos.score(soxr.resample(wav, sr, 16000))
    noise = scorers.dnsmos.score(0.3 * np.random.default_rng(0).standard_normal(32000))
    assert set(speech) == {"ovrl", "sig", "bak", "p808"}
    assert all(1.0 <= v <= 5.0 for v in speech.values())
    assert speech["ovrl"] > noise["ovrl"] + 0.5 and speech["bak"] > noise["bak"]


def test_end_to_end_scores_speech_and_writes_json_and_markdown(scorers, speech_corpus, tmp_path):
    """Score slowed-joe renderings against prompts and references of both pseudo-speakers."""
    refs = {p.stem: p for p in speech_corpus.rglob("*.wav")}
    items = [
        EvalItem(
            id=f"gen{spk}",
            text=SENTENCES[i],
            speaker=spk,
            synthesis_seconds=1.0,
            generated=refs[f"{spk}_10_000001_{i + 1:06d}"],
            prompt=refs[f"{spk}_10_000001_000004"],
            reference=refs[f"{spk}_10_000001_000003"],
        )
        for spk, i in (("100", 0), ("200", 1))
    ]
    report = score_items(items, EvalOptions(), scorers, progress=False)
    s = report["summary"]
    assert s["items"] == 2 and s["wer"] < 0.5 and s["wer_words"] == 17
    assert s["speaker_id_accuracy"] == 1.0 and s["speaker_id_speakers"] == 2
    assert 0.5 < s["sim_prompt"] <= 1.0 and 1.0 <= s["dnsmos_ovrl"] <= 5.0
    row = report["items"][0]
    assert row["rtf"] == pytest.approx(1.0 / row["seconds"], rel=1e-3)
    assert set(report["timing"]) >= {"asr", "speaker", "dnsmos"}
    md = to_markdown(report)
    assert "| WER, corpus (errors / words) |" in md and "| gen100 |" in md


def test_eval_command_pairs_then_scores_the_topline(speech_corpus, tmp_path, scorers):
    """``palette eval pairs`` on the corpus, then ``palette eval score --score-reference``:
    JSON and markdown appear, the real recordings are intelligible and identified."""
    pairs = tmp_path / "pairs.tsv"
    assert (
        palette(
            [
                "eval",
                "pairs",
                str(speech_corpus),
                "-o",
                str(pairs),
                "--min-seconds",
                "1",
                "--prompt-min-seconds",
                "1",
                "--per-speaker",
                "1",
            ]
        )
        == 0
    )
    out = tmp_path / "res" / "topline.json"
    assert (
        palette(
            [
                "eval",
                "score",
                str(pairs),
                "-o",
                str(out),
                "--score-reference",
                "--enroll-from",
                "reference,prompt",
                "--threads",
                "1",
            ]
        )
        == 0
    )
    report = json.loads(out.read_text())
    assert report["summary"]["items"] == 2 and report["summary"]["wer"] < 0.5
    assert report["summary"]["speaker_id_accuracy"] == 1.0
    assert "speaker-ID accuracy" in out.with_suffix(".md").read_text()
    assert not list(out.parent.glob(".*.tmp"))


def test_eval_command_fails_cleanly_on_missing_files(tmp_path, capsys):
    (tmp_path / "m.jsonl").write_text('{"id": "a", "generated": "nope.wav"}\n')
    assert (
        palette(["eval", "score", str(tmp_path / "m.jsonl"), "-o", str(tmp_path / "o.json")]) == 2
    )
    assert "generated file not found" in capsys.readouterr().err
    assert not (tmp_path / "o.json").exists()


def test_pluggable_speaker_models_xvector_folder_and_factory(tmp_path, monkeypatch):
    import sys
    import types

    import torch
    from transformers import Wav2Vec2FeatureExtractor, WavLMConfig, WavLMForXVector

    torch.manual_seed(0)
    config = WavLMConfig(
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        conv_dim=(32, 32),
        conv_stride=(5, 4),
        conv_kernel=(10, 8),
        num_conv_pos_embeddings=16,
        num_conv_pos_embedding_groups=2,
        tdnn_dim=(32, 32),
        tdnn_kernel=(3, 1),
        tdnn_dilation=(1, 1),
        xvector_output_dim=16,
        num_buckets=32,
    )
    WavLMForXVector(config).save_pretrained(tmp_path / "wavlm")
    Wav2Vec2FeatureExtractor(sampling_rate=16000).save_pretrained(tmp_path / "wavlm")
    embedder = load_speaker_embedder(str(tmp_path / "wavlm"))
    wav = tone(1.0)
    emb = embedder.embed(wav)
    assert emb.shape == (16,) and cosine(emb, embedder.embed(wav)) == pytest.approx(1.0, abs=1e-5)

    class Fixed:
        name, sample_rate = "fixed", 16000

        def embed(self, wav):
            return np.array([1.0, 0.0])

    monkeypatch.setitem(sys.modules, "my_embedders", types.SimpleNamespace(make=Fixed))
    assert load_speaker_embedder("my_embedders:make").name == "fixed"
    with pytest.raises(ValueError, match="unknown speaker model"):
        load_speaker_embedder("nonsense")


def test_transformers_whisper_folder_is_converted_once(tmp_path, monkeypatch):
    pytest.importorskip("ctranslate2")
    import shutil

    import torch
    from transformers import WhisperConfig, WhisperForConditionalGeneration

    from palette.recipes.evaluation.metrics.asr import (
        WhisperTranscriber,
        bundled_whisper_model,
        resolve_whisper_model,
    )

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    torch.manual_seed(0)
    config = WhisperConfig(
        vocab_size=51864,
        d_model=32,
        encoder_layers=1,
        decoder_layers=1,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=64,
        decoder_ffn_dim=64,
    )
    WhisperForConditionalGeneration(config).save_pretrained(tmp_path / "hf")
    with pytest.raises(FileNotFoundError, match="tokenizer.json"):
        resolve_whisper_model(tmp_path / "hf")
    shutil.copy(bundled_whisper_model() / "tokenizer.json", tmp_path / "hf")
    converted = resolve_whisper_model(tmp_path / "hf")
    assert (
        converted.startswith(str(tmp_path / "cache"))
        and resolve_whisper_model(tmp_path / "hf") == converted
    )
    assert WhisperTranscriber(tmp_path / "hf", threads=1).model is not None
    with pytest.raises(FileNotFoundError, match="not found"):
        resolve_whisper_model(tmp_path / "missing")
