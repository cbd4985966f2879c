"""Flight of the Amazon Queen in the many-voice plan: the line rules, the actor cap, the whole
held-out actors, and (when the game is in the Debian cache) one clip rendered at 24 kHz."""

import dataclasses

import pytest

from palette.recipes.corpus import debian, fotaq, fotaq_plan, fotaq_table, many_plan
from palette.recipes.corpus.fotaq_plan import FotaqPlanOptions, drop_reason, share_cap
from palette.recipes.corpus.fotaq_table import FotaqTable, TableClip
from palette.recipes.corpus.layout import TEST, TRAIN

OPTIONS = FotaqPlanOptions()
LINE = "You couldn't pilot your way out of a paper bag."


@pytest.mark.parametrize(
    "seconds,text,reason",
    [
        (2.4, LINE, None),
        (0.8, "Who are you?", "short"),
        (1.2, "(sigh) Oh well.", "mark"),
        (1.5, "<gulp>", "mark"),
        (1.2, "Goodbye.", "words"),
        (1.6, "Hmmm, not sure.", "gibberish"),  # a letter three times running
        (1.6, "Grrblt frrdln!", "gibberish"),  # no vowel
        (2.0, "It's C H A R O N.", "gibberish"),  # spelt-out letters
        (1.5, "Hello Mr Smith.", None),  # an abbreviation is not gibberish
        (7.2, "I will...", "pace"),  # a long pause or laugh for two words
    ],
)
def test_line_rules(seconds, text, reason):
    assert drop_reason(TableClip("C1", "fotaq-a", seconds, text), OPTIONS)[0] == reason


def test_repeated_lines_are_kept_once_per_actor():
    clips = [
        TableClip("B2", "fotaq-a", 1.5, "Hello again."),
        TableClip("B1", "fotaq-a", 1.5, "Hello again."),
        TableClip("B3", "fotaq-b", 1.5, "Hello again."),
    ]
    kept, dropped = fotaq_plan.kept_lines(clips, OPTIONS)
    assert [c.name for c, _ in kept["fotaq-a"]] == ["B1"] and len(kept["fotaq-b"]) == 1
    assert dropped == {"repeated": 1}


def test_share_cap_limits_the_largest_actor():
    hours = [1.45, 0.33, 0.31, 0.25, 0.24, 0.21, 0.12]
    cap = share_cap(hours, 0.25)
    capped = [min(h, cap) for h in hours]
    assert max(capped) == pytest.approx(0.25 * sum(capped))
    assert share_cap([1.0, 1.0, 1.0, 1.0, 1.0], 0.25) == float("inf")  # balanced: no cap
    assert share_cap([3.0, 1.0], 0.25) == 1.0  # cannot be met: equal hours


def _table() -> FotaqTable:
    actors = {"fotaq-big": 60, "fotaq-ann": 12, "fotaq-bea": 12, "fotaq-cody": 12, "fotaq-held": 20}
    speakers = {a: {"actors": [a], "gender": "M", "f0_hz": 120.0} for a in actors}
    speakers["fotaq-char-klunk"] = {"actors": ["x", "y"], "gender": None, "f0_hz": None}
    clips = [
        TableClip(f"{a[6:]}{i:04d}", a, 2.0, f"This is line number {i} of {a[6:]}.")
        for a, n in actors.items()
        for i in range(n)
    ]
    clips.append(TableClip("held9999", "fotaq-held", 2.0, "This is line number 1 of ann."))
    clips += [
        TableClip(f"K{i}", "fotaq-char-klunk", 2.0, f"Klunk says {i} things.") for i in range(9)
    ]
    return FotaqTable(11025, speakers, tuple(sorted(clips, key=lambda c: c.name)))


CONFIG = many_plan.ManyCorpusConfig(
    fotaq=FotaqPlanOptions(
        train_actors=("fotaq-big", "fotaq-ann", "fotaq-bea", "fotaq-cody"),
        test_actors=("fotaq-held",),
        test_seconds_per_actor=20.0,
    ),
    utterances_per_chapter=5,
)


def test_held_out_actors_are_whole_and_shared_roles_unused():
    chapters = fotaq_plan.chapters(CONFIG, set(), table=_table())
    by_actor: dict[str, list] = {}
    for c in chapters:
        by_actor.setdefault(c.speaker.voice.base.name, []).append(c)
    assert set(by_actor) == {"fotaq-big", "fotaq-ann", "fotaq-bea", "fotaq-cody", "fotaq-held"}
    for actor, chs in by_actor.items():
        speaker = chs[0].speaker
        assert all(c.speaker == speaker for c in chs) and speaker.voice.warp is None
        held = actor == "fotaq-held"
        assert (speaker.subset, speaker.role) == (
            (TEST, "test-real") if held else (TRAIN, "train-real")
        )
    assert sum(len(c.utterances) for c in by_actor["fotaq-held"]) == 10  # 20 s of 2 s clips
    train_texts = {
        u.normalized for c in chapters if c.speaker.subset == TRAIN for u in c.utterances
    }
    assert not {u.normalized for c in by_actor["fotaq-held"] for u in c.utterances} & train_texts
    # the held-out actor also says "line number 1 of ann": then ann's own clip of it is not
    # trained on
    every = many_plan.ManyCorpusConfig(
        fotaq=dataclasses.replace(CONFIG.fotaq, test_seconds_per_actor=99)
    )
    picked = fotaq_plan.select(every, table=_table())
    assert len(picked["fotaq-held"]) == 21
    assert "This is line number one of ann." not in {t for _, t in picked["fotaq-ann"]}
    assert len(picked["fotaq-ann"]) == 11
    seconds = {a: 2.0 * sum(len(c.utterances) for c in chs) for a, chs in by_actor.items()}
    train_total = sum(s for a, s in seconds.items() if a != "fotaq-held")
    assert seconds["fotaq-big"] <= 0.25 * train_total + 1e-9 < 120.0  # capped
    many_plan.check_split([c.speaker for c in chapters])
    assert fotaq_plan.chapters(CONFIG, set(), table=_table()) == chapters  # deterministic


@pytest.mark.parametrize(
    "train,test",
    [(("fotaq-a", "fotaq-b"), ("fotaq-b",)), (("fotaq-a", "fotaq-char-klunk"), ("fotaq-b",))],
)
def test_options_refuse_held_out_or_shared_roles_in_training(train, test):
    with pytest.raises(ValueError):
        FotaqPlanOptions(train_actors=train, test_actors=test).check()


@pytest.mark.skipif(
    not debian.cached([fotaq.PACKAGE]), reason=f"{fotaq.PACKAGE} is not in the Debian cache"
)
def test_a_planned_clip_renders_at_24_khz(tmp_path):
    import soundfile as sf

    from palette.recipes.corpus import layout
    from palette.recipes.corpus.many_render import render_chapter

    config = many_plan.ManyCorpusConfig(utterances_per_speaker=1)
    chapter = next(
        c
        for c in fotaq_plan.chapters(config, set())
        if c.speaker.voice.base.name == "fotaq-enn-reitel"
    )
    utt = chapter.utterances[0]
    clip = fotaq_table.clip_of("fotaq-enn-reitel", utt.normalized)
    result = render_chapter(tmp_path, chapter)
    assert result.written == 1
    s = chapter.speaker
    wav_path = layout.chapter_dir(tmp_path, s.subset, s.speaker_id, chapter.chapter_id)
    wav, sr = sf.read(str(wav_path / f"{utt.utt_id}.wav"))
    seconds = {c.name: c.seconds for c in fotaq_table.load_table().clips}[clip]
    assert sr == 24000 and abs(len(wav) / sr - seconds) < 0.1
