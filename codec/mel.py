"""Log-mel spectrograms with ``torch.stft`` (no torchaudio, no librosa at run time).

The filterbank is librosa's default (Slaney mel scale, Slaney area normalisation), so features
match what the calibration scripts computed with ``librosa.filters.mel``.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def _hz_to_mel(hz: torch.Tensor) -> torch.Tensor:
    """Slaney mel scale: linear below 1 kHz, logarithmic above."""
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel, logstep = min_log_hz / f_sp, math.log(6.4) / 27.0
    linear = hz / f_sp
    log = min_log_mel + torch.log(torch.clamp(hz, min=min_log_hz) / min_log_hz) / logstep
    return torch.where(hz >= min_log_hz, log, linear)


def _mel_to_hz(mel: torch.Tensor) -> torch.Tensor:
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel, logstep = min_log_hz / f_sp, math.log(6.4) / 27.0
    linear = mel * f_sp
    log = min_log_hz * torch.exp(logstep * (mel - min_log_mel))
    return torch.where(mel >= min_log_mel, log, linear)


def mel_filterbank(
    sample_rate: int, n_fft: int, n_mels: int, fmin: float = 0.0, fmax: float | None = None
) -> torch.Tensor:
    """Triangular Slaney-normalised filters ``[n_mels, n_fft // 2 + 1]`` (float64 maths)."""
    fmax = sample_rate / 2 if fmax is None else fmax
    fft_hz = torch.linspace(0, sample_rate / 2, n_fft // 2 + 1, dtype=torch.float64)
    edges = torch.tensor([fmin, fmax], dtype=torch.float64)
    mel_pts = torch.linspace(*_hz_to_mel(edges).tolist(), n_mels + 2, dtype=torch.float64)
    hz_pts = _mel_to_hz(mel_pts)
    widths = hz_pts[1:] - hz_pts[:-1]  # [n_mels + 1]
    ramps = hz_pts[:, None] - fft_hz[None, :]  # [n_mels + 2, F]
    lower = -ramps[:-2] / widths[:-1, None]
    upper = ramps[2:] / widths[1:, None]
    weights = torch.clamp(torch.minimum(lower, upper), min=0.0)
    weights *= (2.0 / (hz_pts[2:] - hz_pts[:-2]))[:, None]  # Slaney: constant energy per band
    return weights.float()


class LogMel(nn.Module):
    """``wav [B, 1, S]`` -> natural log of mel-filtered STFT magnitudes ``[B, n_mels, S // hop]``.

    Frames are centred on ``t * hop + hop / 2`` by zero padding ``(n_fft - hop) / 2`` on both
    sides, so a signal of ``T * hop`` samples gives exactly ``T`` frames.
    """

    def __init__(
        self,
        sample_rate: int = 24000,
        n_fft: int = 1024,
        hop_length: int = 240,
        n_mels: int = 80,
        fmin: float = 0.0,
        fmax: float | None = None,
        floor: float = 1e-5,
    ):
        super().__init__()
        if (n_fft - hop_length) % 2:
            raise ValueError(f"n_fft - hop_length must be even, got {n_fft} - {hop_length}")
        self.n_fft, self.hop_length, self.floor = n_fft, hop_length, floor
        self.register_buffer("window", torch.hann_window(n_fft), persistent=False)
        fb = mel_filterbank(sample_rate, n_fft, n_mels, fmin, fmax)
        self.register_buffer("filters", fb, persistent=False)

    def magnitude(self, wav: torch.Tensor) -> torch.Tensor:
        """``wav [B, 1, S]`` -> |STFT| ``[B, n_fft // 2 + 1, S // hop]``."""
        pad = (self.n_fft - self.hop_length) // 2
        x = F.pad(wav[:, 0], (pad, pad))
        spec = torch.stft(
            x, self.n_fft, self.hop_length, window=self.window, center=False, return_complex=True
        )
        return spec.abs()

    def forward(self, wav: torch.Tensor) -> torch.Tensor:
        mel = torch.matmul(self.filters, self.magnitude(wav))
        return torch.log(torch.clamp(mel, min=self.floor))
