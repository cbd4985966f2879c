"""Prompts without a transcript: Whisper tiny.en transcribes them (asr extra), or a clear error."""

import sys
from pathlib import Path

import pytest

from palette.tts.audio import load_audio

DEMO = Path(__file__).resolve().parents[2] / "demos"


def test_the_demo_prompt_is_transcribed():
    pytest.importorskip("faster_whisper")
    from palette.tts.transcribe import transcribe

    wav, sr = load_audio(DEMO / "prompt.wav")
    heard = set(transcribe(wav, sr).lower().replace(",", "").replace(".", "").split())
    said = set((DEMO / "prompt.txt").read_text().lower().replace(",", "").replace(".", "").split())
    assert len(heard & said) >= 0.6 * len(said)


def test_without_the_asr_extra_the_error_asks_for_the_transcript(monkeypatch):
    from palette.tts import transcribe

    transcribe._whisper.cache_clear()
    monkeypatch.setitem(sys.modules, "faster_whisper", None)  # import fails as if not installed
    with pytest.raises(ValueError, match="pass prompt_text"):
        transcribe.transcribe(load_audio(DEMO / "prompt.wav")[0], 24000)
    transcribe._whisper.cache_clear()


def test_synthesizer_transcribes_a_prompt_given_without_text(synth):
    pytest.importorskip("faster_whisper")
    voice = synth.encode_voice(DEMO / "prompt.wav")
    assert voice.text and voice.phonemes
