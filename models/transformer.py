"""The transformer core every codec language model shares.

Pre-norm blocks (RMSNorm, SwiGLU), rotary positions, ``scaled_dot_product_attention`` with an
explicit boolean mask (``True`` = may attend), and a preallocated KV cache with rollback.
Causal, bidirectional and prefix-LM behaviour all come from the mask (see ``models.masks``).

Shapes: ``x [B, T, C]``, ``positions [B, T]`` (int), ``mask [B, 1, T, S]`` with ``S`` the
number of keys (cached + new).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class TransformerConfig:
    dim: int = 256  # model width C
    layers: int = 6  # number of blocks
    heads: int = 4  # attention heads; head size = dim // heads
    ffn_mult: float = 3.0  # SwiGLU hidden size = ffn_mult * dim
    dropout: float = 0.0  # on attention output and FFN output while training
    rope_theta: float = 10000.0  # rotary base


class KVCache:
    """Preallocated keys and values for every layer, ``[L, B, H, max_len, Dh]``.

    ``length`` positions are valid. ``rollback(n)`` forgets everything from position ``n`` on
    (a draft-and-verify step keeps only the accepted prefix).
    """

    def __init__(
        self, config: TransformerConfig, batch: int, max_len: int, device=None, dtype=None
    ):
        head_dim = config.dim // config.heads
        shape = (config.layers, batch, config.heads, max_len, head_dim)
        self.keys = torch.zeros(shape, device=device, dtype=dtype or torch.float32)
        self.values = torch.zeros_like(self.keys)
        self.max_len = max_len
        self.length = 0

    def write(
        self, layer: int, k: torch.Tensor, v: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Store ``k, v [B, H, t, Dh]`` at ``length..length+t`` of ``layer``; return all valid
        keys and values including them, ``[B, H, length + t, Dh]``."""
        end = self.length + k.shape[2]
        if end > self.max_len:
            raise RuntimeError(f"KV cache full: {end} positions > max_len {self.max_len}")
        self.keys[layer, :, :, self.length : end] = k
        self.values[layer, :, :, self.length : end] = v
        return self.keys[layer, :, :, :end], self.values[layer, :, :, :end]

    def advance(self, t: int) -> None:
        self.length += t

    def rollback(self, length: int) -> None:
        if not 0 <= length <= self.length:
            raise ValueError(f"cannot roll back to {length}: cache holds {self.length} positions")
        self.length = length


class RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float = 1e-6):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rotary_tables(positions: torch.Tensor, head_dim: int, theta: float, dtype):
    """cos, sin ``[B, 1, T, Dh / 2]`` of ``positions [B, T]`` (computed once per forward and
    shared by every layer)."""
    half = head_dim // 2
    freqs = theta ** (-torch.arange(half, device=positions.device, dtype=torch.float32) / half)
    angles = positions[:, None, :, None].float() * freqs  # [B, 1, T, half]
    return angles.cos().to(dtype), angles.sin().to(dtype)


def rotary(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate ``x [B, H, T, Dh]`` by the tables of ``rotary_tables`` (rotate-half convention)."""
    half = x.shape[-1] // 2
    x1, x2 = x[..., :half], x[..., half:]
    cos, sin = cos.to(x.dtype), sin.to(x.dtype)  # no-op unless autocast changed x's dtype
    return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1)


class Attention(nn.Module):
    def __init__(self, config: TransformerConfig):
        super().__init__()
        self.heads = config.heads
        self.qkv = nn.Linear(config.dim, 3 * config.dim, bias=False)
        self.out = nn.Linear(config.dim, config.dim, bias=False)
        self.dropout = config.dropout

    def forward(self, x, rope, mask, cache: KVCache | None = None, layer: int = 0):
        """``rope``: the (cos, sin) tables of the positions (``rotary_tables``)."""
        B, T, C = x.shape
        q, k, v = self.qkv(x).view(B, T, 3, self.heads, C // self.heads).permute(2, 0, 3, 1, 4)
        q, k = rotary(q, *rope), rotary(k, *rope)
        if cache is not None:
            k, v = cache.write(layer, k, v)
        y = F.scaled_dot_product_attention(
            q, k, v, attn_mask=mask, dropout_p=self.dropout if self.training else 0.0
        )
        return self.out(y.transpose(1, 2).reshape(B, T, C))


class FeedForward(nn.Module):
    def __init__(self, config: TransformerConfig):
        super().__init__()
        hidden = int(config.ffn_mult * config.dim)
        self.gate_up = nn.Linear(config.dim, 2 * hidden, bias=False)
        self.down = nn.Linear(hidden, config.dim, bias=False)

    def forward(self, x):
        gate, up = self.gate_up(x).chunk(2, dim=-1)
        return self.down(F.silu(gate) * up)


class Block(nn.Module):
    def __init__(self, config: TransformerConfig):
        super().__init__()
        self.norm1, self.norm2 = RMSNorm(config.dim), RMSNorm(config.dim)
        self.attn, self.ffn = Attention(config), FeedForward(config)
        self.drop = nn.Dropout(config.dropout)

    def forward(self, x, rope, mask, cache=None, layer=0):
        x = x + self.drop(self.attn(self.norm1(x), rope, mask, cache, layer))
        return x + self.drop(self.ffn(self.norm2(x)))


class Transformer(nn.Module):
    """Stack of blocks plus a final norm: ``x [B, T, C] -> [B, T, C]``.

    ``compute_dtype`` (a run-time setting, not saved): ``torch.bfloat16`` runs the blocks'
    matrix products and attention under autocast (the residual stream, norms, KV cache and the
    output stay float32); ``None`` runs everything in float32."""

    def __init__(self, config: TransformerConfig):
        super().__init__()
        self.config = config
        self.compute_dtype: torch.dtype | None = None
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.layers))
        self.norm = RMSNorm(config.dim)

    def forward(
        self,
        x: torch.Tensor,
        positions: torch.Tensor,
        mask: torch.Tensor,
        cache: KVCache | None = None,
    ) -> torch.Tensor:
        """``mask [B, 1, T, S]`` covers the ``S = cache.length + T`` keys when a cache is given
        (the new positions are written after the cached ones; the cache then advances by T)."""
        cfg = self.config
        rope = rotary_tables(positions, cfg.dim // cfg.heads, cfg.rope_theta, x.dtype)
        with torch.autocast(
            x.device.type, dtype=self.compute_dtype, enabled=self.compute_dtype is not None
        ):
            for i, block in enumerate(self.blocks):
                x = block(x, rope, mask, cache, i)
        if cache is not None:
            cache.advance(x.shape[1])
        return self.norm(x)
