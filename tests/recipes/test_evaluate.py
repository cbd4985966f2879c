"""The evaluation harness without its models: WER, speaker ID on synthetic embeddings, RTF,
manifests and the zero-shot pairing protocol (with the models: test_evaluate_models)."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

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
    speaker_id_accuracy,
)
from palette.recipes.evaluation.metrics.timing import real_time_factor, time_synthesis
from palette.recipes.evaluation.protocol import ProtocolOptions, scan_corpus, select_zero_shot_pairs
from palette.tts.cli import main as palette

from .conftest import tone, write_libritts

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


def test_pair_lists_enrol_from_references_else_from_prompts():
    from pathlib import Path

    from palette.recipes.evaluation.manifest import EvalItem
    from palette.recipes.evaluation.scorer import pair_enrollment

    corpus = [EvalItem("a", prompt=Path("p.wav"), reference=Path("r.wav")), EvalItem("b")]
    real = [EvalItem("a", prompt=Path("p.wav")), EvalItem("b", prompt=Path("q.wav"))]
    assert pair_enrollment(corpus) == ("reference",)
    assert pair_enrollment(real) == ("prompt",)
