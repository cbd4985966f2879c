"""Training losses of the palette codec: multi-resolution log-mel L1, log-magnitude L1 and
spectral convergence, one STFT per resolution shared by the three. Training-only helpers; the
codec itself never imports this module.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from palette.codec.mel import mel_filterbank


@dataclass(frozen=True)
class Resolution:
    n_fft: int
    hop: int
    n_mels: int


# short windows for timing, long ones for pitch harmonics (DAC / HiFi-GAN style)
RESOLUTIONS = (Resolution(512, 128, 40), Resolution(1024, 256, 80), Resolution(2048, 512, 128))


class SpectralLoss(nn.Module):
    """``(prediction, target) [B, 1, S]`` -> dict of scalar losses ``mel``, ``logmag``, ``sc``,
    each averaged over the resolutions."""

    def __init__(self, sample_rate: int, resolutions: tuple[Resolution, ...] = RESOLUTIONS):
        super().__init__()
        self.resolutions = resolutions
        for i, r in enumerate(resolutions):
            self.register_buffer(f"window{i}", torch.hann_window(r.n_fft), persistent=False)
            fb = mel_filterbank(sample_rate, r.n_fft, r.n_mels)
            self.register_buffer(f"filters{i}", fb, persistent=False)

    def _magnitude(self, wav: torch.Tensor, i: int) -> torch.Tensor:
        r = self.resolutions[i]
        spec = torch.stft(
            wav[:, 0], r.n_fft, r.hop, window=getattr(self, f"window{i}"), return_complex=True
        )
        return spec.abs().clamp(min=1e-5)  # [B, F, K]

    def forward(self, prediction: torch.Tensor, target: torch.Tensor) -> dict[str, torch.Tensor]:
        totals = {"mel": 0.0, "logmag": 0.0, "sc": 0.0}
        for i in range(len(self.resolutions)):
            p, t = self._magnitude(prediction, i), self._magnitude(target, i)
            fb = getattr(self, f"filters{i}")
            p_mel = torch.log(torch.matmul(fb, p).clamp(min=1e-5))
            t_mel = torch.log(torch.matmul(fb, t).clamp(min=1e-5))
            totals["mel"] = totals["mel"] + (p_mel - t_mel).abs().mean()
            totals["logmag"] = totals["logmag"] + (p.log() - t.log()).abs().mean()
            sc = torch.linalg.vector_norm(p - t, dim=(1, 2)) / torch.linalg.vector_norm(
                t, dim=(1, 2)
            )
            totals["sc"] = totals["sc"] + sc.mean()
        return {k: v / len(self.resolutions) for k, v in totals.items()}
