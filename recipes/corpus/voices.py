"""The speakers of the mini corpus: what each voice is, and how a seeded set of them is drawn.

Two kinds of voice:

- :class:`WorldVoice` — Piper's ``joe`` voice re-synthesised with WORLD at another pitch,
  formant scale (vocal-tract length), speaking rate, intonation range, spectral tilt and
  breathiness. Training speakers fill the box of :class:`WorldRanges` densely (a Latin
  hypercube); held-out test speakers lie inside the box and outside it.
- :class:`EspeakVoice` — an espeak-ng English accent with a voice variant (``en-gb-scotland``
  + ``f3``), base pitch, pitch range and speaking rate.

Rendering lives in ``recipes.libritts.render``.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from palette.recipes.corpus.layout import DEV, TEST, TRAIN

JOE_F0_HZ = 120.0  # joe's median F0, for naming speakers and deciding their listed gender


@dataclass(frozen=True)
class WorldVoice:
    """A pseudo-speaker made from joe renders by WORLD."""

    f0_scale: float  # multiplies joe's F0 contour
    formant_scale: float  # spectral-envelope frequency warp: > 1 moves formants up
    rate: float  # Piper length scale: > 1 speaks slower
    intonation: float  # scales log-F0 excursions around the utterance mean (1: joe's range)
    tilt_db: float  # spectral tilt, dB per octave relative to 1 kHz (< 0 darker, > 0 brighter)
    breathiness: float  # 0..1: how far aperiodicity is raised towards noise

    @property
    def name(self) -> str:
        return (
            f"joe+WORLD f0 x{self.f0_scale:.2f} formant x{self.formant_scale:.3f} "
            f"rate x{self.rate:.2f} intonation x{self.intonation:.2f} "
            f"tilt {self.tilt_db:+.1f} dB/oct breath {self.breathiness:.2f}"
        )

    @property
    def gender(self) -> str:
        return "F" if JOE_F0_HZ * self.f0_scale >= 165.0 else "M"


@dataclass(frozen=True)
class EspeakVoice:
    """An espeak-ng voice: language/accent, variant and prosody settings."""

    language: str  # espeak-ng voice name, e.g. "en-us", "en-gb-scotland"
    variant: str  # file in espeak-ng-data/voices/!v, e.g. "f3", "m7", "klatt2"
    pitch: int  # base pitch, 0-100 (espeak-ng's default 50)
    pitch_range: int  # pitch range, 0-100 (default 50)
    rate: int  # words per minute (default 175)

    @property
    def name(self) -> str:
        return (
            f"espeak-ng {self.language}+{self.variant} pitch {self.pitch} "
            f"range {self.pitch_range} rate {self.rate}"
        )

    @property
    def gender(self) -> str:
        return "F" if self.variant in FEMALE_VARIANTS else "M"


@dataclass(frozen=True)
class Speaker:
    speaker_id: int  # LibriTTS-style integer id
    subset: str  # train-clean-100, dev-clean or test-clean
    role: str  # train | dev | test-inside | test-outside | test-unseen-variant
    voice: WorldVoice | EspeakVoice
    gain_db: float  # loudness of the speaker's recordings, dBFS RMS

    @property
    def gender(self) -> str:
        return self.voice.gender

    @property
    def kind(self) -> str:
        if isinstance(self.voice, WorldVoice):
            return "world"
        if isinstance(self.voice, EspeakVoice):
            return "espeak"
        return self.voice.kind  # the many-voice corpus's voices (recipes.corpus.many)


@dataclass(frozen=True)
class WorldRanges:
    """The box the training WORLD speakers fill, and how far outside it held-out ones lie."""

    f0_scale: tuple[float, float] = (0.6, 1.9)  # 72-228 Hz median F0 (log-uniform)
    formant_scale: tuple[float, float] = (0.84, 1.2)  # log-uniform
    rate: tuple[float, float] = (0.8, 1.3)  # log-uniform
    intonation: tuple[float, float] = (0.5, 1.6)
    tilt_db: tuple[float, float] = (-3.0, 3.0)
    breathiness: tuple[float, float] = (0.0, 0.5)
    gain_db: tuple[float, float] = (-26.0, -17.0)
    f0_outside: float = 1.15  # outside speakers' F0 scale: beyond the box edge by this factor
    formant_outside: float = 1.06  # same for the formant scale


# espeak-ng's English accents (voice names understood by espeak_SetVoiceByName)
ACCENTS = (
    "en-us",
    "en-us-nyc",
    "en",
    "en-gb-scotland",
    "en-gb-x-rp",
    "en-gb-x-gbclan",
    "en-gb-x-gbcwmd",
    "en-029",
)
# Variants that sound like a person (robotic, echoing, whispering and child variants left out).
FEMALE_VARIANTS = (
    "f1",
    "f2",
    "f3",
    "f4",
    "f5",
    "Alicia",
    "Andrea",
    "Annie",
    "anika",
    "aunty",
    "belinda",
    "linda",
    "steph",
    "steph2",
    "grandma",
)
MALE_VARIANTS = (
    "m1",
    "m2",
    "m3",
    "m4",
    "m5",
    "m6",
    "m7",
    "m8",
    "Andy",
    "Lee",
    "Denis",
    "Diogo",
    "Henrique",
    "Hugo",
    "Marco",
    "Storm",
    "antonio",
    "croak",
    "michel",
    "miguel",
    "sandro",
    "travis",
    "victor",
    "Gene",
    "Jacky",
    "Mario",
    "Michael",
    "gustave",
    "ian",
    "iven3",
    "john",
    "marcelo",
    "norbert",
    "pablo",
    "paul",
    "pedro",
    "quincy",
    "robert",
    "klatt",
    "klatt2",
    "klatt3",
    "edward",
    "david",
    "benjamin",
    "Reed",
    "max",
    "boris",
    "grandpa",
)


def latin_hypercube(n: int, dims: int, rng: random.Random) -> list[list[float]]:
    """``n`` points in ``[0, 1)^dims``, one in each of ``n`` equal slices of every axis."""
    columns = []
    for _ in range(dims):
        strata = list(range(n))
        rng.shuffle(strata)
        columns.append([(s + rng.random()) / n for s in strata])
    return [list(point) for point in zip(*columns, strict=True)] if n else []


def _lerp(lo_hi: tuple[float, float], u: float, log: bool = False) -> float:
    lo, hi = lo_hi
    if log:
        return math.exp(math.log(lo) + u * (math.log(hi) - math.log(lo)))
    return lo + u * (hi - lo)


def _world_voice(r: WorldRanges, u: list[float]) -> WorldVoice:
    return WorldVoice(
        f0_scale=round(_lerp(r.f0_scale, u[0], log=True), 4),
        formant_scale=round(_lerp(r.formant_scale, u[1], log=True), 4),
        rate=round(_lerp(r.rate, u[2], log=True), 4),
        intonation=round(_lerp(r.intonation, u[3]), 4),
        tilt_db=round(_lerp(r.tilt_db, u[4]), 3),
        breathiness=round(_lerp(r.breathiness, u[5]), 4),
    )


# Where held-out "outside" speakers lie: -1 below the box, +1 above, 0 at its geometric middle,
# for (F0 scale, formant scale); used in this order, cycling.
_OUTSIDE_DIRECTIONS = ((-1, -1), (1, 1), (0, -1), (0, 1), (-1, 0), (1, 0), (-1, 1), (1, -1))


def _outside(lo_hi: tuple[float, float], direction: int, factor: float) -> float:
    lo, hi = lo_hi
    return {-1: lo / factor, 0: math.sqrt(lo * hi), 1: hi * factor}[direction]


def world_speakers(count: int, rng: random.Random, ranges: WorldRanges) -> list[WorldVoice]:
    """``count`` voices spread over the whole box (Latin hypercube over six axes)."""
    return [_world_voice(ranges, u) for u in latin_hypercube(count, 6, rng)]


def outside_world_speakers(count: int, rng: random.Random, ranges: WorldRanges) -> list[WorldVoice]:
    """``count`` voices whose F0 and/or formant scale lie outside the training box (other axes
    inside it)."""
    voices = []
    for i, u in enumerate(latin_hypercube(count, 6, rng)):
        f0_dir, formant_dir = _OUTSIDE_DIRECTIONS[i % len(_OUTSIDE_DIRECTIONS)]
        voice = _world_voice(ranges, u)
        voices.append(
            WorldVoice(
                f0_scale=round(_outside(ranges.f0_scale, f0_dir, ranges.f0_outside), 4),
                formant_scale=round(
                    _outside(ranges.formant_scale, formant_dir, ranges.formant_outside), 4
                ),
                rate=voice.rate,
                intonation=voice.intonation,
                tilt_db=voice.tilt_db,
                breathiness=voice.breathiness,
            )
        )
    return voices


def espeak_speakers(count: int, variants: list[str], rng: random.Random) -> list[EspeakVoice]:
    """``count`` voices over the given variants (cycled), random accents, pitch, range, rate."""
    voices = []
    for i, u in enumerate(latin_hypercube(count, 3, rng)):
        voices.append(
            EspeakVoice(
                language=rng.choice(ACCENTS),
                variant=variants[i % len(variants)],
                pitch=round(_lerp((25, 75), u[0])),
                pitch_range=round(_lerp((20, 85), u[1])),
                rate=round(_lerp((140, 200), u[2])),
            )
        )
    return voices


@dataclass(frozen=True)
class SpeakerCounts:
    """How many speakers of each kind go where."""

    world_train: int = 56
    espeak_train: int = 18
    world_dev: int = 4
    espeak_dev: int = 2
    world_test_inside: int = 4  # unseen, inside the training box
    world_test_outside: int = 4  # unseen, F0 and/or formants outside the training box
    espeak_test: int = 2  # unseen espeak-ng variants


def draw_speakers(
    counts: SpeakerCounts, seed: int, ranges: WorldRanges = WorldRanges()
) -> list[Speaker]:
    """The corpus's speakers, in the order test, dev, train (seeded, reproducible)."""
    rng = random.Random(seed)
    variants = list(FEMALE_VARIANTS + MALE_VARIANTS)
    rng.shuffle(variants)
    test_variants = variants[: max(1, counts.espeak_test)]
    seen_variants = variants[len(test_variants) :]
    groups = [
        (TEST, "test-inside", world_speakers(counts.world_test_inside, rng, ranges)),
        (TEST, "test-outside", outside_world_speakers(counts.world_test_outside, rng, ranges)),
        (TEST, "test-unseen-variant", espeak_speakers(counts.espeak_test, test_variants, rng)),
        (DEV, "dev", world_speakers(counts.world_dev, rng, ranges)),
        (DEV, "dev", espeak_speakers(counts.espeak_dev, seen_variants[::-1], rng)),
        (TRAIN, "train", world_speakers(counts.world_train, rng, ranges)),
        (TRAIN, "train", espeak_speakers(counts.espeak_train, seen_variants, rng)),
    ]
    total = sum(len(voices) for _, _, voices in groups)
    ids = rng.sample(range(10, 10000), total)
    speakers = []
    for subset, role, voices in groups:
        for voice in voices:
            gain = round(_lerp(ranges.gain_db, rng.random()), 2)
            speakers.append(Speaker(ids[len(speakers)], subset, role, voice, gain))
    return speakers
