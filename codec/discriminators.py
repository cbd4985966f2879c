"""Discriminators and GAN losses for the adversarial fine-tune of the palette codec's decoder.

Training-only (the codec never imports this module). Two families, as in HiFi-GAN and
UniVNet/Vocos, kept small enough for a 2-core CPU:

- :class:`PeriodDiscriminator`: the waveform ``[B, 1, S]`` folded into ``[B, 1, S / p, p]``
  (every p-th sample in one column) and read by 2-D convolutions along time: it sees periodic
  structure (pitch harmonics) that a spectral loss averages away;
- :class:`ResolutionDiscriminator`: 2-D convolutions over one STFT log-magnitude ``[B, 1, F, K]``.

:class:`Discriminators` runs a set of both and returns, per discriminator, its logits and the
feature maps of every layer (for feature matching). Losses are least squares (HiFi-GAN):
``D: (1 - D(x))^2 + D(G(z))^2``, ``G: (1 - D(G(z)))^2``, and feature matching is the L1 distance
between the feature maps of the real and the generated audio, each map's mean divided by the
number of maps.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import weight_norm

Outputs = list[tuple[torch.Tensor, list[torch.Tensor]]]  # per discriminator: (logits, features)


@dataclass(frozen=True)
class DiscriminatorConfig:
    periods: tuple[int, ...] = (2, 3, 5, 7, 11)  # one period discriminator each
    period_channels: tuple[int, ...] = (16, 32, 64, 64)  # conv widths of a period discriminator
    resolutions: tuple[tuple[int, int], ...] = ((512, 128), (1024, 256), (2048, 512))  # n_fft, hop
    resolution_channels: int = 16  # conv width of a resolution discriminator


class PeriodDiscriminator(nn.Module):
    """``wav [B, 1, S]`` -> logits ``[B, 1, S', p]`` and the feature maps of every layer."""

    def __init__(self, period: int, channels: tuple[int, ...]):
        super().__init__()
        self.period = period
        widths = (1, *channels)
        self.convs = nn.ModuleList(
            weight_norm(nn.Conv2d(a, b, (5, 1), (3 if i < len(channels) - 1 else 1, 1), (2, 0)))
            for i, (a, b) in enumerate(zip(widths[:-1], widths[1:], strict=True))
        )
        self.out = weight_norm(nn.Conv2d(widths[-1], 1, (3, 1), 1, (1, 0)))

    def forward(self, wav: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        B, _, S = wav.shape
        pad = (-S) % self.period
        x = F.pad(wav, (0, pad), mode="reflect" if pad < S else "constant")
        x = x.view(B, 1, -1, self.period)
        return conv_stack(self.convs, self.out, x)


def conv_stack(convs: nn.ModuleList, out: nn.Module, x: torch.Tensor):
    """Leaky-ReLU convolutions then the logit layer -> (logits, every layer's output)."""
    features = []
    for conv in convs:
        x = F.leaky_relu(conv(x), 0.1)
        features.append(x)
    x = out(x)
    features.append(x)
    return x, features


class ResolutionDiscriminator(nn.Module):
    """``wav [B, 1, S]`` -> logits over one STFT log-magnitude ``[B, 1, F', K]`` + features."""

    def __init__(self, n_fft: int, hop: int, channels: int):
        super().__init__()
        self.n_fft, self.hop = n_fft, hop
        self.register_buffer("window", torch.hann_window(n_fft), persistent=False)
        c = channels
        self.convs = nn.ModuleList(
            [
                weight_norm(nn.Conv2d(1, c, (7, 5), (2, 1), (3, 2))),
                weight_norm(nn.Conv2d(c, c, (5, 3), (2, 1), (2, 1))),
                weight_norm(nn.Conv2d(c, c, (5, 3), (2, 1), (2, 1))),
                weight_norm(nn.Conv2d(c, c, (3, 3), 1, 1)),
            ]
        )
        self.out = weight_norm(nn.Conv2d(c, 1, 3, 1, 1))

    def forward(self, wav: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        spec = torch.stft(wav[:, 0], self.n_fft, self.hop, window=self.window, return_complex=True)
        x = torch.log(spec.abs().clamp(min=1e-5))[:, None]  # [B, 1, F, K]
        return conv_stack(self.convs, self.out, x)


class Discriminators(nn.Module):
    """All period and resolution discriminators of a :class:`DiscriminatorConfig`."""

    def __init__(self, config: DiscriminatorConfig | None = None):
        super().__init__()
        self.config = config = config or DiscriminatorConfig()
        self.members = nn.ModuleList(
            [PeriodDiscriminator(p, config.period_channels) for p in config.periods]
            + [
                ResolutionDiscriminator(n, h, config.resolution_channels)
                for n, h in config.resolutions
            ]
        )

    def forward(self, wav: torch.Tensor) -> Outputs:
        return [member(wav) for member in self.members]


def discriminator_loss(real: Outputs, fake: Outputs) -> torch.Tensor:
    """Least-squares loss of the discriminators (``fake`` computed from detached audio)."""
    total = 0.0
    for (r, _), (f, _) in zip(real, fake, strict=True):
        total = total + ((1 - r) ** 2).mean() + (f**2).mean()
    return total / len(real)


def generator_loss(fake: Outputs) -> torch.Tensor:
    """Least-squares adversarial loss of the generator."""
    return sum(((1 - f) ** 2).mean() for f, _ in fake) / len(fake)


def feature_matching_loss(real: Outputs, fake: Outputs) -> torch.Tensor:
    """L1 between the feature maps of real (detached here) and generated audio."""
    total, count = 0.0, 0
    for (_, real_maps), (_, fake_maps) in zip(real, fake, strict=True):
        for r, f in zip(real_maps, fake_maps, strict=True):
            total = total + (r.detach() - f).abs().mean()
            count += 1
    return total / count
