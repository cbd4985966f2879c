"""The codec's bottlenecks: residual finite scalar quantisation of the encoder's features or
residual vector quantisation of the Gaussian latent (discrete codes), and a diagonal Gaussian
(VAE) posterior (continuous latents). All work frame by frame on ``[B, C, T]``.

FSQ (Mentzer et al., 2023) bounds each of a few dimensions with tanh and rounds it to one of
``levels[i]`` values; a code is the mixed-radix number of the rounded values, so every code is
used and no codebook can collapse. Residual stages quantise what the earlier stages missed,
scaled up by ``levels - 1`` each time; trained with quantiser dropout, the first codebook alone
already decodes to coarse speech (the AR/PAR models predict it, the NAR model the rest).

The latent RVQ codes what the Gaussian path already decodes: each stage picks the nearest of
``size`` vectors to what the earlier stages left of the posterior mean. Its codebooks are
fitted by k-means after the codec is trained (``recipes/libritts/fit_codes.py``), so the code
path adds nothing to train and leaves the encoder, the latents and the decoder as they are; more
stages converge on the latent round trip.
"""

from __future__ import annotations

import math

import torch
from torch import nn


def gaussian_kl_to_standard(mean: torch.Tensor, logstd: torch.Tensor) -> torch.Tensor:
    """Elementwise KL( N(mean, exp(logstd)^2) || N(0, 1) ) = (mean^2 + sigma^2 - 1) / 2 - log sigma."""
    return 0.5 * (mean.square() + torch.exp(2 * logstd) - 1.0) - logstd


class ResidualCodes(nn.Module):
    """What both code paths share: ``stages`` codebooks of ``cardinality`` codes, and
    :meth:`dequantize` = the range checks + the subclass's traceable ``lookup``."""

    stages: int
    cardinality: int

    def dequantize(self, codes: torch.Tensor) -> torch.Tensor:
        """codes ``[B, Q', T]`` (the first ``Q' <= Q`` stages) -> what they stand for,
        ``[B, C, T]`` (FSQ: the decoder input; latent RVQ: latents ``[B, D, T]``)."""
        if codes.shape[1] > self.stages:
            raise ValueError(f"got {codes.shape[1]} codebooks, the codec has {self.stages}")
        if codes.min() < 0 or codes.max() >= self.cardinality:
            raise ValueError(f"codes must lie in [0, {self.cardinality})")
        return self.lookup(codes)

    def lookup(self, codes: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError


class ResidualFSQ(ResidualCodes):
    """``h [B, C, T]`` <-> codes ``[B, Q, T]`` in ``[0, prod(levels))``, and back to ``[B, C, T]``."""

    def __init__(self, dim: int, levels: tuple[int, ...], stages: int):
        super().__init__()
        if stages < 1 or any(level < 2 for level in levels):
            raise ValueError(f"need >= 1 stage and levels >= 2, got {stages} x {levels}")
        self.stages = stages
        self.cardinality = math.prod(levels)
        self.proj_in = nn.Conv1d(dim, len(levels), 1)
        self.proj_out = nn.Conv1d(len(levels), dim, 1)
        lv = torch.tensor(levels, dtype=torch.float32)[:, None]  # [L, 1]
        radix = torch.cumprod(torch.tensor((1,) + tuple(levels[:-1])), 0)[:, None]
        self.register_buffer("levels", lv, persistent=False)
        self.register_buffer("radix", radix, persistent=False)

    def _round(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``x [B, L, T]`` in [-1, 1] -> (grid values in [-1, 1], integer levels), straight-through."""
        half = (self.levels - 1) / 2
        k = torch.round((x.clamp(-1, 1) + 1) * half)
        q = k / half - 1
        return x + (q - x).detach(), k.long()

    def quantize(
        self, h: torch.Tensor, active: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``h [B, C, T]`` -> (decoder input ``[B, C, T]``, codes ``[B, Q, T]``).

        ``active [B]`` (training: quantiser dropout) keeps only the first ``active[b]`` stages.
        """
        x = torch.tanh(self.proj_in(h))  # [B, L, T]
        total, codes, scale = torch.zeros_like(x), [], torch.ones_like(self.levels)
        for stage in range(self.stages):
            q, k = self._round(x * scale)
            q = q / scale
            if active is not None:
                q = q * (stage < active).to(q.dtype)[:, None, None]
            total, x = total + q, x - q
            codes.append((k * self.radix).sum(1))
            scale = scale * (self.levels - 1)
        return self.proj_out(total), torch.stack(codes, 1)

    def lookup(self, codes: torch.Tensor) -> torch.Tensor:
        """:meth:`dequantize` without the range checks (traceable for ONNX)."""
        half = (self.levels - 1) / 2
        total, scale = 0.0, torch.ones_like(self.levels)
        for stage in range(codes.shape[1]):
            k = (codes[:, stage : stage + 1] // self.radix) % self.levels.long()  # [B, L, T]
            total = total + (k / half - 1) / scale
            scale = scale * (self.levels - 1)
        return self.proj_out(total)


class LatentRVQ(ResidualCodes):
    """Latents ``[B, D, T]`` <-> codes ``[B, Q, T]`` in ``[0, size)`` by residual nearest-vector
    search in ``codebooks [Q, size, D]`` (a buffer: fitted, not trained)."""

    def __init__(self, latent_dim: int, size: int, stages: int):
        super().__init__()
        if stages < 1 or size < 2:
            raise ValueError(
                f"need >= 1 stage and >= 2 vectors per codebook, got {stages} x {size}"
            )
        self.stages, self.cardinality = stages, size
        self.register_buffer("codebooks", torch.zeros(stages, size, latent_dim))

    def quantize(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """latents ``[B, D, T]`` -> (their quantisation ``[B, D, T]``, codes ``[B, Q, T]``)."""
        rest = z.transpose(1, 2)  # [B, T, D]
        total, codes = torch.zeros_like(rest), []
        for book in self.codebooks:  # [K, D]
            distance = book.square().sum(-1) - 2 * rest @ book.T  # [B, T, K], + |rest|^2
            index = distance.argmin(-1)
            picked = nn.functional.embedding(index, book)
            total, rest = total + picked, rest - picked
            codes.append(index)
        return total.transpose(1, 2), torch.stack(codes, 1)

    def lookup(self, codes: torch.Tensor) -> torch.Tensor:
        """:meth:`dequantize` without the range checks (traceable for ONNX)."""
        total = 0.0
        for stage in range(codes.shape[1]):
            total = total + nn.functional.embedding(codes[:, stage], self.codebooks[stage])
        return total.transpose(1, 2)


class GaussianBottleneck(nn.Module):
    """``h [B, C, T]`` -> posterior ``(mean, logstd) [B, D, T]``; latents ``[B, D, T]`` -> ``[B, C, T]``."""

    def __init__(self, dim: int, latent_dim: int, min_logstd: float = -7.0):
        super().__init__()
        self.min_logstd = min_logstd
        self.proj_in = nn.Conv1d(dim, 2 * latent_dim, 1)
        self.proj_out = nn.Conv1d(latent_dim, dim, 1)

    def posterior(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mean, logstd = self.proj_in(h).chunk(2, dim=1)
        return mean, logstd.clamp(min=self.min_logstd, max=2.0)

    def sample(self, mean: torch.Tensor, logstd: torch.Tensor) -> torch.Tensor:
        """Reparameterised sample ``mean + sigma * eps``."""
        return mean + torch.exp(logstd) * torch.randn_like(mean)
