import os
import warnings

import numpy as np
import pytest
import soundfile as sf

from palette.tts.audio import (
    AudioError,
    load_audio,
    normalize_loudness,
    prepare_prompt,
    resample,
    rms_db,
    trim_silence,
)
from palette.tts.audio_output import save_wav

from .conftest import speech_like

SR = 24000


def tone(seconds=2.0, sr=SR, amp=0.3, freq=220.0):
    t = np.arange(int(seconds * sr)) / sr
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


@pytest.mark.parametrize(
    "fmt,ext", [("WAV", "wav"), ("FLAC", "flac"), ("OGG", "ogg"), ("MP3", "mp3")]
)
def test_load_formats_mixes_down_and_resamples(tmp_path, fmt, ext):
    if fmt not in sf.available_formats():
        pytest.skip(f"libsndfile here cannot write {fmt}")
    stereo = np.stack([tone(sr=16000), tone(sr=16000, freq=330.0)], axis=1)
    path = tmp_path / f"x.{ext}"
    sf.write(path, stereo, 16000, format=fmt)
    wav, sr = load_audio(path)
    assert sr == 16000 and wav.ndim == 1 and wav.dtype == np.float32
    wav24, sr24 = load_audio(path, sample_rate=SR)
    assert sr24 == SR and abs(len(wav24) - len(wav) * 1.5) <= 2000  # mp3 adds encoder padding


def test_resample_preserves_frequency():
    x = tone(1.0, sr=16000, freq=440.0)
    y = resample(x, 16000, SR)
    spectrum = np.abs(np.fft.rfft(y))
    assert len(y) == SR and abs(np.argmax(spectrum) * SR / len(y) - 440.0) < 2.0


def test_corrupt_missing_and_empty_files_are_clear_errors(tmp_path):
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF not really a wav file")
    with pytest.raises(AudioError, match="cannot read audio file"):
        load_audio(bad)
    with pytest.raises(AudioError, match="not found"):
        load_audio(tmp_path / "missing.wav")
    empty = tmp_path / "empty.wav"
    sf.write(empty, np.zeros(0, dtype=np.float32), SR)
    with pytest.raises(AudioError, match="empty"):
        load_audio(empty)


def test_loudness_normalisation_hits_target_and_respects_peak():
    y = normalize_loudness(tone(amp=0.01), target_db=-20.0)
    assert abs(rms_db(y) - -20.0) < 0.01
    loud = normalize_loudness(np.r_[tone(amp=0.01), [0.9]].astype(np.float32), target_db=-3.0)
    assert np.max(np.abs(loud)) <= 0.95 + 1e-6


def test_trim_silence_cuts_leading_and_trailing_silence():
    x = np.r_[np.zeros(SR), tone(1.0), np.zeros(SR)].astype(np.float32)
    y = trim_silence(x, SR, pad_seconds=0.05)
    assert abs(len(y) / SR - 1.1) < 0.03


def test_prompt_checks():
    noise = np.random.default_rng(0).normal(0, 1e-5, SR * 2).astype(np.float32)
    with pytest.raises(AudioError, match="silent"):
        prepare_prompt(noise, SR)
    with pytest.raises(AudioError, match="empty"):
        prepare_prompt(np.zeros(0, np.float32), SR)
    with pytest.raises(AudioError, match="clipped"):
        prepare_prompt(np.clip(tone(amp=3.0), -1, 1), SR)
    with pytest.raises(AudioError, match="too short"):
        prepare_prompt(np.r_[np.zeros(SR), tone(0.5)].astype(np.float32), SR)
    with pytest.raises(AudioError, match="NaN"):
        prepare_prompt(np.full(SR * 2, np.nan, np.float32), SR)
    with pytest.warns(UserWarning, match="first 20 s"):
        long = prepare_prompt(speech_like(25.0), SR)
    assert len(long) == 20 * SR
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ok = prepare_prompt(0.5 * speech_like(3.0), SR)
    assert abs(rms_db(ok) - -20.0) < 0.5


def test_save_wav_is_atomic(tmp_path, monkeypatch):
    out = tmp_path / "sub" / "out.wav"
    save_wav(out, tone(0.5), SR)
    data, sr = sf.read(out)
    assert sr == SR and len(data) == SR // 2
    assert os.listdir(out.parent) == ["out.wav"]

    def explode(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(sf, "write", explode)
    with pytest.raises(RuntimeError):
        save_wav(out, tone(1.0), SR)
    assert os.listdir(out.parent) == ["out.wav"]  # old file intact, no temporary left
    assert len(sf.read(out)[0]) == SR // 2
