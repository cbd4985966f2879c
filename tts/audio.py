"""Audio I/O: load any soundfile format, mix down, resample (soxr), trim, normalise loudness,
check that voice prompts hold voiced speech (writing audio: ``tts.audio_output``).

Waveforms here are 1-D float32 numpy arrays ``[S]`` in [-1, 1] plus a sample rate.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from palette.codec.files import UserError


class AudioError(UserError):
    """An audio file or prompt that palette-tts cannot use; the message says why."""


@dataclass(frozen=True)
class PromptLimits:
    """Bounds a voice prompt must meet (seconds, dBFS, fractions)."""

    min_seconds: float = 1.0  # shorter prompts carry too little voice to clone
    max_seconds: float = 20.0  # longer prompts are cut to this with a warning
    max_read_seconds: float = 120.0  # of a prompt file read at all (leading silence included)
    silence_db: float = -50.0  # RMS below this (dBFS) counts as silent
    clip_level: float = 0.999  # |sample| at or above this counts as clipped
    max_clipped_fraction: float = 0.01  # more clipped samples than this is an error
    min_sample_rate: int = 8000  # telephone speech; below this no voice survives
    max_sample_rate: int = 384000  # the highest rate audio hardware records at
    min_voiced_seconds: float = 0.3  # periodic (pitched) frames needed in the prompt
    min_voiced_fraction: float = 0.15  # of the frames that are not silence
    max_tonality: float = 0.9  # energy share of the strongest partial; a sine is ~1.0
    min_pitch_range: float = 1.0  # semitones (10th to 90th percentile) speech moves over
    min_loudness_variation: float = 0.1  # std / mean of frame levels (syllables come and go)


MAX_CHANNELS = 64  # more is not a recording of a voice


def load_audio(
    path: str | os.PathLike, sample_rate: int | None = None, max_seconds: float | None = None
) -> tuple[np.ndarray, int]:
    """Read wav/flac/ogg/mp3 (whatever libsndfile reads) -> mono float32 ``[S]`` and its rate.

    With ``sample_rate`` given, the audio is resampled to it; with ``max_seconds``, only that
    much of the file's start is read (memory stays bounded for a prompt cut from an hour-long
    file). The rate and channel count are checked before any samples are read.
    """
    path = Path(path)
    if not path.is_file():
        raise AudioError(f"audio file not found: {path}")
    try:
        with sf.SoundFile(str(path)) as fh:
            check_sample_rate(fh.samplerate, f"audio file {path}")
            if not 1 <= fh.channels <= MAX_CHANNELS:
                raise AudioError(
                    f"audio file {path} has {fh.channels} channels; "
                    f"palette-tts reads 1 to {MAX_CHANNELS}"
                )
            frames = -1 if max_seconds is None else int(max_seconds * fh.samplerate)
            data, sr = fh.read(frames, dtype="float32", always_2d=True), fh.samplerate
    except (sf.LibsndfileError, RuntimeError, TypeError) as err:
        raise AudioError(f"cannot read audio file {path}: {err}") from None
    if data.shape[0] == 0:
        raise AudioError(f"audio file is empty: {path}")
    wav = data.mean(axis=1).astype(np.float32)
    if sample_rate is not None and sr != sample_rate:
        wav, sr = resample(wav, sr, sample_rate), sample_rate
    return wav, sr


def check_sample_rate(
    sample_rate: int, what: str = "the audio", limits: PromptLimits = PromptLimits()
) -> None:
    """Raise ``AudioError`` for a sample rate no recording has (e.g. 1 Hz, 10 MHz)."""
    if not limits.min_sample_rate <= sample_rate <= limits.max_sample_rate:
        raise AudioError(
            f"{what} has a sample rate of {sample_rate} Hz; palette-tts reads "
            f"{limits.min_sample_rate} to {limits.max_sample_rate} Hz"
        )


def resample(wav: np.ndarray, orig_sr: int, target_sr: int) -> np.ndarray:
    """Resample ``[S]`` from ``orig_sr`` to ``target_sr`` with soxr (VHQ)."""
    if orig_sr == target_sr:
        return wav.astype(np.float32, copy=False)
    return soxr.resample(wav, orig_sr, target_sr, quality="VHQ").astype(np.float32)


def rms_db(wav: np.ndarray) -> float:
    """Root-mean-square level in dBFS (-inf for digital silence)."""
    rms = float(np.sqrt(np.mean(np.square(wav, dtype=np.float64)))) if wav.size else 0.0
    return 20.0 * np.log10(rms) if rms > 0 else float("-inf")


def normalize_loudness(wav: np.ndarray, target_db: float = -20.0, peak: float = 0.95) -> np.ndarray:
    """Scale to ``target_db`` dBFS RMS, then down if needed so that no sample exceeds ``peak``."""
    level = rms_db(wav)
    if not np.isfinite(level):
        return wav.astype(np.float32, copy=True)
    out = wav * (10.0 ** ((target_db - level) / 20.0))
    top = float(np.max(np.abs(out)))
    if top > peak:
        out = out * (peak / top)
    return out.astype(np.float32)


def trim_silence(
    wav: np.ndarray, sample_rate: int, threshold_db: float = -40.0, pad_seconds: float = 0.05
) -> np.ndarray:
    """Cut leading and trailing stretches quieter than ``threshold_db`` below the loudest 10 ms
    frame, keeping ``pad_seconds`` of margin."""
    frame = max(1, sample_rate // 100)
    n = len(wav) // frame
    if n == 0:
        return wav
    energy = np.sqrt(np.mean(wav[: n * frame].reshape(n, frame) ** 2, axis=1)) + 1e-12
    db = 20 * np.log10(energy / energy.max())
    voiced = np.nonzero(db > threshold_db)[0]
    if voiced.size == 0:
        return wav[:0]
    pad = int(pad_seconds * sample_rate)
    start = max(0, voiced[0] * frame - pad)
    end = min(len(wav), (voiced[-1] + 1) * frame + pad)
    return wav[start:end]


def prepare_prompt(
    wav: np.ndarray, sample_rate: int, limits: PromptLimits = PromptLimits()
) -> np.ndarray:
    """Check a voice prompt ``[S]`` and return it trimmed and loudness-normalised.

    Raises :class:`AudioError` for empty, silent, clipped or too short prompts; prompts longer
    than ``limits.max_seconds`` are cut with a warning.
    """
    check_sample_rate(int(sample_rate), "the voice prompt", limits)
    if wav.ndim != 1:
        raise AudioError(f"the voice prompt must be mono samples [S], not shape {list(wav.shape)}")
    if wav.size == 0:
        raise AudioError("the voice prompt is empty")
    if not np.all(np.isfinite(wav)):
        raise AudioError("the voice prompt contains NaN or infinite samples")
    if rms_db(wav) < limits.silence_db:
        raise AudioError(f"the voice prompt is silent (level {rms_db(wav):.1f} dBFS)")
    if rms_db(wav - np.mean(wav)) < limits.silence_db:
        raise AudioError("the voice prompt is a constant (DC) signal, not speech")
    clipped = float(np.mean(np.abs(wav) >= limits.clip_level))
    if clipped > limits.max_clipped_fraction:
        raise AudioError(
            f"the voice prompt is clipped ({clipped:.1%} of samples at full scale); "
            "record it at a lower level"
        )
    wav = trim_silence(wav, sample_rate)
    seconds = len(wav) / sample_rate
    if seconds < limits.min_seconds:
        raise AudioError(
            f"the voice prompt is too short: {seconds:.2f} s of speech, "
            f"at least {limits.min_seconds:g} s needed"
        )
    if seconds > limits.max_seconds:
        warnings.warn(
            f"voice prompt is {seconds:.1f} s long; using its first {limits.max_seconds:g} s",
            stacklevel=2,
        )
        wav = wav[: int(limits.max_seconds * sample_rate)]
    check_voiced(wav, sample_rate, limits)
    return normalize_loudness(wav)


# --- is it speech? ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Voicing:
    """What ``analyse_voicing`` measures on 40 ms frames (10 ms hop) of a prompt."""

    voiced_seconds: float  # frames with a clear pitch period (60-500 Hz)
    voiced_fraction: float  # of the frames within 30 dB of the loudest
    tonality: float  # median energy share of the strongest partial in voiced frames
    pitch_range: float  # semitones between the 10th and 90th percentile of the pitch
    loudness_variation: float  # std / mean of the frame amplitudes above silence


ANALYSIS_RATE = 16000


def _frames(x: np.ndarray, size: int, hop: int) -> np.ndarray:
    """``[S]`` -> overlapping frames ``[N, size]`` (``N >= 1``; short input is zero-padded)."""
    if len(x) < size:
        x = np.pad(x, (0, size - len(x)))
    count = 1 + (len(x) - size) // hop
    return x[np.arange(size)[None] + hop * np.arange(count)[:, None]]


def _pitch(power: np.ndarray, window: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Per frame: periodicity (normalised autocorrelation peak, 0-1) and its period in samples.

    The peak must be a local maximum after the autocorrelation has dipped, so that low-pass
    noise (whose autocorrelation only decays) is not taken for a pitch."""
    nfft = power.shape[1] * 2 - 2
    ac = np.fft.irfft(power, nfft)[:, :size]
    win_ac = np.fft.irfft(np.abs(np.fft.rfft(window, nfft)) ** 2, nfft)[:size]
    ac = ac / np.maximum(ac[:, :1], 1e-20) / np.maximum(win_ac / win_ac[0], 1e-3)
    lo, hi = ANALYSIS_RATE // 500, ANALYSIS_RATE // 60
    seg = ac[:, lo : hi + 1]
    best = seg.max(axis=1)
    local_max = (seg >= ac[:, lo - 1 : hi]) & (seg >= ac[:, lo + 1 : hi + 2])
    strong = local_max & (seg >= 0.9 * best[:, None])
    lag = np.argmax(strong, axis=1) + lo  # the shortest strong period (avoids octave errors)
    rows = np.arange(len(ac))
    dip = np.minimum.accumulate(ac[:, 1:], axis=1)[rows, lag - 2]  # lowest value before lag
    periodic = np.where(strong.any(axis=1) & (dip < best - 0.5), ac[rows, lag], 0.0)
    return periodic, lag


def analyse_voicing(wav: np.ndarray, sample_rate: int) -> Voicing:
    """Measure how speech-like ``wav [S]`` is: pitch periodicity, pitch movement, loudness
    movement and how much of its energy one partial carries."""
    x = np.asarray(wav, dtype=np.float64) - float(np.mean(wav))
    if sample_rate != ANALYSIS_RATE:
        x = soxr.resample(x, sample_rate, ANALYSIS_RATE, quality="HQ")
    size, hop = int(0.04 * ANALYSIS_RATE), int(0.01 * ANALYSIS_RATE)
    window = np.hanning(size)
    frames = _frames(x, size, hop) * window
    power = np.abs(np.fft.rfft(frames, 2 * size)) ** 2
    energy = power.sum(axis=1) + 1e-20
    active = energy > energy.max() * 1e-3  # within 30 dB of the loudest frame
    periodic, lag = _pitch(power, window, size)
    voiced = active & (periodic > 0.6)
    peak = np.argmax(power, axis=1)
    padded = np.pad(power, ((0, 0), (4, 4)))  # the strongest bin and 4 on each side (Hann lobe)
    share = (
        np.take_along_axis(padded, peak[:, None] + np.arange(9)[None], axis=1).sum(axis=1) / energy
    )
    semitones = 12 * np.log2(ANALYSIS_RATE / lag[voiced]) if voiced.any() else np.zeros(1)
    level = np.sqrt(energy[active])
    return Voicing(
        voiced_seconds=float(voiced.sum() * hop / ANALYSIS_RATE),
        voiced_fraction=float(voiced.sum() / max(1, active.sum())),
        tonality=float(np.median(share[voiced])) if voiced.any() else 0.0,
        pitch_range=float(np.percentile(semitones, 90) - np.percentile(semitones, 10)),
        loudness_variation=float(level.std() / level.mean()),
    )


def check_voiced(
    wav: np.ndarray, sample_rate: int, limits: PromptLimits = PromptLimits()
) -> Voicing:
    """Raise ``AudioError`` unless ``wav`` contains voiced speech: enough pitched frames (not
    noise), more than one partial (not a pure tone or sweep), pitch and loudness that move
    (not a steady hum, buzz or beep)."""
    v = analyse_voicing(wav, sample_rate)
    if (
        v.voiced_seconds < limits.min_voiced_seconds
        or v.voiced_fraction < limits.min_voiced_fraction
    ):
        raise AudioError(
            f"the voice prompt has no voiced speech ({v.voiced_seconds:.2f} s with a pitch, "
            f"{v.voiced_fraction:.0%} of the sound): it sounds like noise or whispering; "
            "use a recording of someone speaking"
        )
    if v.tonality > limits.max_tonality:
        raise AudioError(
            f"the voice prompt is a pure tone ({v.tonality:.0%} of its energy in one frequency), "
            "not speech"
        )
    if (
        v.pitch_range < limits.min_pitch_range
        or v.loudness_variation < limits.min_loudness_variation
    ):
        raise AudioError(
            f"the voice prompt is a steady sound (pitch moves {v.pitch_range:.1f} semitones, "
            f"loudness varies {v.loudness_variation:.0%}): a hum or buzz, not speech"
        )
    return v
