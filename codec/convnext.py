"""ConvNeXt blocks over frame sequences ``[B, C, T]`` (Vocos's backbone), centred or causal.

A causal stack pads on the left only, so output frame ``t`` depends on input frames
``t - receptive_field .. t``: decoding a chunk after ``receptive_field`` frames of left context
reproduces the whole-sequence output exactly (up to float rounding).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class ChannelNorm(nn.LayerNorm):
    """LayerNorm over the channels of ``[B, C, T]`` (per frame: no statistics over time)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x.transpose(1, 2)).transpose(1, 2)


class ConvNeXtBlock(nn.Module):
    """Depthwise conv -> LayerNorm -> pointwise MLP -> layer scale -> residual. ``[B, C, T]``."""

    def __init__(self, dim: int, kernel_size: int, causal: bool, expansion: int = 3):
        super().__init__()
        if kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd, got {kernel_size}")
        k = kernel_size - 1
        self.padding = (k, 0) if causal else (k // 2, k // 2)
        self.dwconv = nn.Conv1d(dim, dim, kernel_size, groups=dim)
        self.norm = nn.LayerNorm(dim)
        self.up = nn.Linear(dim, expansion * dim)
        self.down = nn.Linear(expansion * dim, dim)
        self.scale = nn.Parameter(torch.full((dim,), 0.1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.dwconv(F.pad(x, self.padding)).transpose(1, 2)  # [B, T, C]
        h = self.down(F.gelu(self.up(self.norm(h))))
        return x + (self.scale * h).transpose(1, 2)


class ConvNeXtStack(nn.Sequential):
    """``blocks`` ConvNeXt blocks of one width; ``receptive_field`` = left context in frames."""

    def __init__(self, dim: int, blocks: int, kernel_size: int, causal: bool):
        super().__init__(*(ConvNeXtBlock(dim, kernel_size, causal) for _ in range(blocks)))
        self.receptive_field = blocks * (kernel_size - 1) if causal else 0
