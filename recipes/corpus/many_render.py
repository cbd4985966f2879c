"""Render a chapter of the many-voice corpus: the base voice speaks (``recipes.corpus.sources``),
WORLD warps it when the speaker is a pseudo-speaker, and the result is resampled to 24 kHz, set
to the speaker's loudness and written in the LibriTTS layout.

Every utterance is rendered on its own with its own seed (Piper's noise is seeded per
utterance here, not per chapter as in the mini corpus), so a resumed build renders only the
missing utterances. A source that is unavailable on this machine is skipped with one warning
per process; an utterance a voice fails to speak is logged and left out (a rerun tries again).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from palette.recipes.corpus import layout, sources, world
from palette.recipes.corpus.bases import BaseVoice
from palette.recipes.corpus.plan import Chapter
from palette.recipes.corpus.render import finish
from palette.recipes.corpus.voices import WorldVoice

logger = logging.getLogger(__name__)
_JOE = BaseVoice("piper", "joe", "M")
_warned: set[str] = set()


@dataclass(frozen=True)
class ChapterResult:
    kind: str
    utterances: int
    written: int
    audio_seconds: float
    cpu_seconds: float


F0_METHOD = "dio"  # WORLD's F0 analysis here (Harvest costs ~3x as much CPU as the rest)


def render_utterance(voice, text: str, seed: int) -> tuple[np.ndarray, int]:
    """``text`` spoken by a corpus voice (``SourceVoice`` or the joe+WORLD ``WorldVoice`` of
    the old warp-test groups) -> (``[S]`` float32, sample rate), before loudness."""
    if isinstance(voice, WorldVoice):
        wav, sr = sources.speak(_JOE, text, rate=1.0 / voice.rate, seed=seed)
        return world.transform(wav, sr, voice, F0_METHOD), sr
    wav, sr = sources.speak(voice.base, text, rate=voice.rate, seed=seed)
    if voice.warp is not None:
        wav = world.transform(wav, sr, voice.warp, F0_METHOD)
    return wav, sr


def chapter_source(chapter: Chapter) -> str:
    """The voice source that renders ``chapter`` (WORLD warps start from Piper's joe)."""
    voice = chapter.speaker.voice
    return "piper" if isinstance(voice, WorldVoice) else voice.base.source


def render_chapter(root: str | Path, chapter: Chapter, limit: int = 0) -> ChapterResult:
    """Render and write the chapter's utterances that are not on disk yet (the first ``limit``
    of them when ``limit`` > 0)."""
    start = time.process_time()
    speaker, source = chapter.speaker, chapter_source(chapter)
    directory = layout.chapter_dir(
        Path(root), speaker.subset, speaker.speaker_id, chapter.chapter_id
    )
    missing = [u for u in chapter.utterances if not layout.is_written(directory, u.utt_id)]
    if limit > 0:
        missing = missing[:limit]
    written, seconds = 0, 0.0
    reason = sources.unavailable(source) if missing else None
    if reason:
        if source not in _warned:
            _warned.add(source)
            logger.warning("skipping source %s: %s", source, reason)
        missing = []
    for utt in missing:
        try:
            wav, sr = render_utterance(speaker.voice, utt.normalized, utt.seed)
        except Exception as err:  # one bad sentence must not stop a long render
            logger.warning("%s (%s) failed: %s", utt.utt_id, speaker.voice.name, err)
            continue
        wav = finish(wav, sr, speaker.gain_db)
        layout.write_utterance(
            directory, utt.utt_id, utt.original, utt.normalized, wav, layout.SAMPLE_RATE
        )
        written += 1
        seconds += len(wav) / layout.SAMPLE_RATE
    return ChapterResult(
        source, len(chapter.utterances), written, seconds, time.process_time() - start
    )
