"""Audio I/O: load any soundfile format, mix down, resample (soxr), trim, normalise loudness,
check voice prompts, and save wav files atomically.

Waveforms here are 1-D float32 numpy arrays ``[S]`` in [-1, 1] plus a sample rate.
"""

from __future__ import annotations

import os
import tempfile
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
    silence_db: float = -50.0  # RMS below this (dBFS) counts as silent
    clip_level: float = 0.999  # |sample| at or above this counts as clipped
    max_clipped_fraction: float = 0.01  # more clipped samples than this is an error


def load_audio(path: str | os.PathLike, sample_rate: int | None = None) -> tuple[np.ndarray, int]:
    """Read wav/flac/ogg/mp3 (whatever libsndfile reads) -> mono float32 ``[S]`` and its rate.

    With ``sample_rate`` given, the audio is resampled to it.
    """
    path = Path(path)
    if not path.is_file():
        raise AudioError(f"audio file not found: {path}")
    try:
        data, sr = sf.read(str(path), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError) as err:
        raise AudioError(f"cannot read audio file {path}: {err}") from None
    if data.shape[0] == 0:
        raise AudioError(f"audio file is empty: {path}")
    wav = data.mean(axis=1).astype(np.float32)
    if sample_rate is not None and sr != sample_rate:
        wav, sr = resample(wav, sr, sample_rate), sample_rate
    return wav, sr


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
    if wav.size == 0:
        raise AudioError("the voice prompt is empty")
    if not np.all(np.isfinite(wav)):
        raise AudioError("the voice prompt contains NaN or infinite samples")
    if rms_db(wav) < limits.silence_db:
        raise AudioError(f"the voice prompt is silent (level {rms_db(wav):.1f} dBFS)")
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
    return normalize_loudness(wav)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def save_wav(path: str | os.PathLike, wav: np.ndarray, sample_rate: int) -> Path:
    """Write mono ``[S]`` (or ``[S, C]``) float audio as 16-bit PCM wav, atomically: a temporary
    file in the same folder is renamed into place, so a reader never sees half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = np.clip(np.asarray(wav, dtype=np.float32), -1.0, 1.0)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            sf.write(fh, data, sample_rate, subtype="PCM_16", format="WAV")
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual permissions
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
