"""The plan of a mini corpus: which speaker reads which sentence, in which chapter.

The plan is a pure function of :class:`MiniCorpusConfig` (seeded), so an interrupted build
resumes with exactly the same plan and renders only what is missing.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import random
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

from palette.recipes.corpus.layout import DEV, TEST, TRAIN, utterance_id
from palette.recipes.corpus.sentences import sentence_pool
from palette.recipes.corpus.voices import Speaker, SpeakerCounts, WorldVoice, draw_speakers

logger = logging.getLogger(__name__)

# Characters of normalised text per second and silence per render, to fill each speaker's time
# budget (fitted on a smoke build: joe at length scale 1, espeak-ng at 175 words a minute).
_CHARS_PER_SECOND = {"world": 20.0, "espeak": 20.3}
_SILENCE_SECONDS = {"world": 0.35, "espeak": 0.3}
# Budgets are filled this much beyond the target, so that the rendered hours meet it despite
# the estimate's error (a few percent per speaker).
_BUDGET_MARGIN = 1.03


@dataclass(frozen=True)
class MiniCorpusConfig:
    """Everything that decides the corpus's content (saved as MINI_CORPUS.json)."""

    hours: float = 3.0  # total audio over all subsets (an estimate steers the plan)
    seed: int = 0  # fixes speakers, sentences, chapters and every render's noise
    speakers: SpeakerCounts = field(default_factory=SpeakerCounts)
    dev_seconds_per_speaker: float = 60.0  # audio per dev-clean speaker
    test_seconds_per_speaker: float = 90.0  # audio per test-clean speaker
    utterances_per_speaker: int = 0  # > 0: exactly this many per speaker, ignoring the hours
    utterances_per_chapter: int = 12  # chapters split a speaker's utterances
    template_sentences: int = 2000  # template sentences added to the documentation sentences

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> MiniCorpusConfig:
        data = dict(data)
        data["speakers"] = SpeakerCounts(**data.get("speakers", {}))
        return cls(**data)


@dataclass(frozen=True)
class Utterance:
    utt_id: str  # <speaker>_<chapter>_<paragraph>_<sentence>
    original: str  # the sentence as written (.original.txt)
    normalized: str  # as spoken, tts.text.normalize(original) (.normalized.txt)
    seed: int  # seeds this utterance's render


@dataclass(frozen=True)
class Chapter:
    speaker: Speaker
    chapter_id: int
    seed: int  # seeds the chapter's Piper session (joe renders of a chapter share it)
    utterances: tuple[Utterance, ...]


def plan_digest(chapters: list[Chapter]) -> str:
    """SHA-1 over every utterance id and text: two plans with one digest write the same files."""
    digest = hashlib.sha1()
    for chapter in chapters:
        for utt in chapter.utterances:
            digest.update(f"{utt.utt_id}\t{utt.original}\t{utt.normalized}\n".encode())
    return digest.hexdigest()


def stable_seed(*parts: object) -> int:
    """A 31-bit seed from ``parts`` that is the same in every process (unlike ``hash``)."""
    return zlib.crc32("/".join(map(str, parts)).encode()) & 0x7FFFFFFF


def estimate_seconds(normalized: str, speaker: Speaker) -> float:
    """Rough duration of ``normalized`` spoken by ``speaker``."""
    voice = speaker.voice
    if hasattr(voice, "estimate_seconds"):  # the many-voice corpus's voices know their pace
        return voice.estimate_seconds(normalized)
    rate = voice.rate if isinstance(voice, WorldVoice) else 175.0 / voice.rate
    return len(normalized) / _CHARS_PER_SECOND[speaker.kind] * rate + _SILENCE_SECONDS[speaker.kind]


def _budgets(config: MiniCorpusConfig, speakers: list[Speaker]) -> dict[int, float]:
    """Seconds of audio per speaker id."""
    per_subset = {DEV: config.dev_seconds_per_speaker, TEST: config.test_seconds_per_speaker}
    held_out = sum(per_subset[s.subset] for s in speakers if s.subset != TRAIN)
    train = [s for s in speakers if s.subset == TRAIN]
    if train and config.utterances_per_speaker <= 0 and held_out >= config.hours * 3600.0:
        logger.warning(
            "dev and test speakers alone take %.2f h of the %.2f h asked for: training speakers "
            "get one utterance each (lower --dev/--test-seconds-per-speaker)",
            held_out / 3600.0,
            config.hours,
        )
    train_each = max(0.0, config.hours * 3600.0 - held_out) / max(1, len(train))
    return {s.speaker_id: _BUDGET_MARGIN * per_subset.get(s.subset, train_each) for s in speakers}


def _enough(picked: list, spent: float, budget: float, config) -> bool:
    if config.utterances_per_speaker > 0:
        return len(picked) >= config.utterances_per_speaker
    return bool(picked) and spent >= budget


def plan_corpus(config: MiniCorpusConfig) -> list[Chapter]:
    """The corpus's chapters: held-out speakers first (test, dev), then training speakers."""
    if config.hours <= 0 and config.utterances_per_speaker <= 0:
        raise ValueError("give a positive --hours or --utterances-per-speaker")
    speakers = draw_speakers(config.speakers, config.seed)
    if not speakers:
        raise ValueError("the configuration has no speakers")
    return plan_chapters(config, speakers, _budgets(config, speakers))


def plan_chapters(config, speakers: list[Speaker], budgets: dict[int, float]) -> list[Chapter]:
    """Give each speaker, in order, sentences of the pool until its budget (seconds) is
    filled, cut into chapters. ``config`` has ``seed``, ``template_sentences``,
    ``utterances_per_speaker`` and ``utterances_per_chapter`` (the mini and many-voice
    corpora's configurations both do). Held-out speakers must come before training ones:
    their sentences never recur in training."""
    pool = sentence_pool(config.seed, config.template_sentences)
    rng = random.Random(stable_seed(config.seed, "chapters"))
    used_ids: set[int] = set()

    def new_chapter_id() -> int:
        while (chapter_id := rng.randint(10000, 329999)) in used_ids:
            pass
        used_ids.add(chapter_id)
        return chapter_id

    position, first_train = 0, None
    chapters = []
    for speaker in speakers:
        if speaker.subset == TRAIN and first_train is None:
            first_train = position
        picked = []
        spent = 0.0
        while not _enough(picked, spent, budgets[speaker.speaker_id], config):
            # when the pool is used up, training speakers start over at the first sentence that
            # went to training: held-out speakers' sentences stay unseen in training
            if position >= len(pool):
                if first_train is None or first_train >= len(pool):
                    raise ValueError("not enough sentences for the held-out speakers")
                position = first_train
            picked.append(pool[position])
            spent += estimate_seconds(pool[position][1], speaker)
            position += 1
        chapters.extend(_chapters_of(speaker, picked, config, rng, new_chapter_id))
    return chapters


def _chapters_of(
    speaker: Speaker,
    picked: list[tuple[str, str]],
    config,
    rng: random.Random,
    new_chapter_id: Callable[[], int],
) -> list[Chapter]:
    """Split a speaker's sentences into chapters of paragraphs of one to four sentences."""
    out = []
    size = max(1, config.utterances_per_chapter)
    for start in range(0, len(picked), size):
        chapter_id = new_chapter_id()
        paragraph = rng.randint(1, 40)
        utterances, sentence_in_paragraph, paragraph_len = [], 0, rng.randint(1, 4)
        for original, normalized in picked[start : start + size]:
            if sentence_in_paragraph == paragraph_len:
                paragraph += rng.randint(1, 3)
                sentence_in_paragraph, paragraph_len = 0, rng.randint(1, 4)
            utt_id = utterance_id(speaker.speaker_id, chapter_id, paragraph, sentence_in_paragraph)
            utterances.append(
                Utterance(utt_id, original, normalized, stable_seed(config.seed, utt_id))
            )
            sentence_in_paragraph += 1
        out.append(
            Chapter(speaker, chapter_id, stable_seed(config.seed, chapter_id), tuple(utterances))
        )
    return out
