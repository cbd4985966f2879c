"""Vocos-style vocoder: causal ConvNeXt blocks -> log-magnitude + phase -> causal inverse STFT.

Vocoder frame ``k`` (``hop`` samples apart) is one windowed inverse FFT of ``n_fft`` samples
placed at ``[k * hop, k * hop + n_fft)``; overlap-add keeps the first ``K * hop`` samples. So the
samples of frame ``k``'s hop come from frames ``k - n_fft / hop + 1 .. k`` only: the waveform is
causal in the frames, and chunked decoding with left context matches whole-sequence decoding.
(``torch.istft`` centres its frames, which would make each hop depend on later frames.)
The first ``n_fft - hop`` samples fade in, because fewer frames overlap there.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from palette.codec.convnext import ChannelNorm, ConvNeXtStack


class ISTFTHead(nn.Module):
    """features ``[B, C, K]`` -> waveform ``[B, 1, K * hop]``."""

    def __init__(self, dim: int, n_fft: int, hop: int, max_log_magnitude: float = 4.6):
        super().__init__()
        if n_fft % hop:
            raise ValueError(f"vocoder n_fft ({n_fft}) must be a multiple of its hop ({hop})")
        self.n_fft, self.hop, self.max_log_magnitude = n_fft, hop, max_log_magnitude
        self.proj = nn.Linear(dim, n_fft + 2)  # (n_fft / 2 + 1) log-magnitudes and phases
        window = torch.hann_window(n_fft)
        # the overlap-added squared window is periodic in hop; dividing by it undoes the windowing
        envelope = window.square().view(n_fft // hop, hop).sum(0)
        self.register_buffer("window", window, persistent=False)
        self.register_buffer("envelope", envelope, persistent=False)

    @property
    def overlap(self) -> int:
        """Earlier frames that contribute to a frame's hop (left context of the overlap-add)."""
        return self.n_fft // self.hop - 1

    def spectrum(self, x: torch.Tensor) -> torch.Tensor:
        """features ``[B, C, K]`` -> complex spectrum ``[B, n_fft / 2 + 1, K]``."""
        log_mag, phase = self.proj(x.transpose(1, 2)).transpose(1, 2).chunk(2, dim=1)
        magnitude = torch.exp(log_mag.clamp(max=self.max_log_magnitude))
        return torch.polar(magnitude, phase)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.synthesize(self.spectrum(x))

    def synthesize(self, spec: torch.Tensor) -> torch.Tensor:
        """Causal inverse STFT: complex ``[B, n_fft / 2 + 1, K]`` -> ``[B, 1, K * hop]``."""
        frames = torch.fft.irfft(spec, n=self.n_fft, dim=1) * self.window[:, None]  # [B, n_fft, K]
        K = frames.shape[-1]
        length = (K - 1) * self.hop + self.n_fft
        wav = F.fold(frames, (1, length), kernel_size=(1, self.n_fft), stride=(1, self.hop))
        wav = wav.view(spec.shape[0], 1, -1)[..., : K * self.hop]
        return wav / self.envelope.repeat(K)


class Vocoder(nn.Module):
    """Causal ConvNeXt blocks and the iSTFT head: features ``[B, C, K]`` -> ``[B, 1, K * hop]``."""

    def __init__(self, dim: int, blocks: int, kernel_size: int, n_fft: int, hop: int):
        super().__init__()
        self.blocks = ConvNeXtStack(dim, blocks, kernel_size, causal=True)
        self.norm = ChannelNorm(dim)
        self.head = ISTFTHead(dim, n_fft, hop)

    @property
    def receptive_field(self) -> int:
        """Left context in vocoder frames that an output hop depends on."""
        return self.blocks.receptive_field + self.head.overlap

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.norm(self.blocks(x)))
