"""Frame adapters: how codec frames enter the transformer and how predictions leave it.

A model step covers ``patch`` codec frames (the reduction factor). Discrete frames are codes
of the first codebook with an end-of-speech class; Gaussian frames are codec latents with a
diagonal Gaussian prediction and a stop logit.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def pad_to_patch(x: torch.Tensor, patch: int, value: float) -> torch.Tensor:
    """Pad the last dim of ``x [..., T]`` to a multiple of ``patch``."""
    extra = (-x.shape[-1]) % patch
    return F.pad(x, (0, extra), value=value) if extra else x


class DiscreteFrames(nn.Module):
    """codes ``[B, T]`` (one codebook) <-> steps ``[B, S, C]``; logits ``[B, S, P, K + 1]``.

    Class ``K`` (= cardinality) is end-of-speech; it also fills the last partial patch.
    """

    def __init__(self, cardinality: int, patch: int, dim: int, extra_tokens: int = 0):
        super().__init__()
        self.cardinality, self.patch = cardinality, patch
        self.eos = cardinality
        # extra input-only tokens (e.g. PAR's mask token) follow EOS in the embedding table
        self.embed = nn.Embedding(cardinality + 1 + extra_tokens, dim)
        self.merge = nn.Linear(patch * dim, dim) if patch > 1 else nn.Identity()
        self.head = nn.Linear(dim, patch * (cardinality + 1))

    def to_steps(self, codes: torch.Tensor) -> torch.Tensor:
        """codes ``[B, T]`` (T a multiple of patch) -> step inputs ``[B, T / P, C]``."""
        B, T = codes.shape
        e = self.embed(codes).view(B, T // self.patch, -1)
        return self.merge(e)

    def logits(self, h: torch.Tensor) -> torch.Tensor:
        """states ``[B, S, C]`` -> logits ``[B, S, P, K + 1]``."""
        return self.head(h).view(*h.shape[:2], self.patch, self.cardinality + 1)


class GaussianFrames(nn.Module):
    """latents ``[B, D, T]`` <-> steps; predictions ``(mean, logstd) [B, S, P, D]`` and a stop
    logit ``[B, S]``."""

    def __init__(self, latent_dim: int, patch: int, dim: int, stop: bool = True):
        super().__init__()
        self.latent_dim, self.patch = latent_dim, patch
        self.proj = nn.Sequential(
            nn.Linear(patch * latent_dim, dim), nn.SiLU(), nn.Linear(dim, dim)
        )
        self.head = nn.Linear(dim, patch * latent_dim * 2)
        self.stop = nn.Linear(dim, 1) if stop else None  # PAR knows its length: no stop

    def to_steps(self, latents: torch.Tensor) -> torch.Tensor:
        """latents ``[B, D, T]`` (T a multiple of patch) -> step inputs ``[B, T / P, C]``."""
        B, D, T = latents.shape
        x = latents.transpose(1, 2).reshape(B, T // self.patch, self.patch * D)
        return self.proj(x)

    def predict(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """states ``[B, S, C]`` -> mean, logstd ``[B, S, P, D]``, stop logit ``[B, S]``."""
        out = self.head(h).view(*h.shape[:2], self.patch, 2, self.latent_dim)
        mean, logstd = out.unbind(dim=3)
        stop = self.stop(h).squeeze(-1) if self.stop is not None else None
        return mean, logstd.clamp(-7.0, 2.0), stop


class GaussianDraft(nn.Module):
    """The Gaussian family's self-speculative draft head: from the state that predicts step
    ``s``, the aligned inputs of step ``s + k`` (its phoneme and progress) and the offset ``k``
    (1..ahead), a Gaussian for step ``s + k``. Many steps are drafted from one state at once."""

    def __init__(self, latent_dim: int, patch: int, dim: int, ahead: int, hidden: int = 0):
        super().__init__()
        self.latent_dim, self.patch, self.ahead = latent_dim, patch, ahead
        hidden = hidden or dim
        self.offset = nn.Embedding(ahead, dim)
        self.net = nn.Sequential(
            nn.Linear(dim, hidden), nn.SiLU(), nn.Linear(hidden, patch * latent_dim * 2)
        )

    def forward(
        self, states: torch.Tensor, phones: torch.Tensor, k: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """states, phones ``[B, S, C]`` and offsets ``k [S]`` (1..ahead) -> mean, logstd
        ``[B, S, P, D]`` of the steps ``k`` ahead of each state."""
        h = states + phones + self.offset(k - 1)
        out = self.net(h).view(*h.shape[:2], self.patch, 2, self.latent_dim)
        mean, logstd = out.unbind(dim=3)
        return mean, logstd.clamp(-7.0, 2.0)


def gaussian_kl(
    q_mean: torch.Tensor, q_logstd: torch.Tensor, p_mean: torch.Tensor, p_logstd: torch.Tensor
) -> torch.Tensor:
    """Elementwise KL(q || p) of diagonal Gaussians.

    We train the prediction ``p`` against the codec posterior ``q`` with KL(q || p): it equals
    the expected negative log-likelihood of posterior samples under ``p`` up to ``q``'s entropy,
    so ``p`` must cover all of ``q`` (mass-covering); the reverse direction lets ``p`` collapse
    onto one mode and under-estimate the spread that sampling later relies on.
    """
    var_ratio = torch.exp(2 * (q_logstd - p_logstd))
    diff = (q_mean - p_mean) * torch.exp(-p_logstd)
    return p_logstd - q_logstd + 0.5 * (var_ratio + diff.pow(2) - 1.0)


@torch.no_grad()
def discrete_from_gaussian(
    target: DiscreteFrames, source: GaussianFrames, codebook: torch.Tensor
) -> None:
    """Start a discrete adapter from a trained Gaussian one, for codes that stand for latent
    vectors ``codebook [K, D]`` (the first codebook of a latent-RVQ codec). Code ``k`` enters
    as the Gaussian adapter's input for ``codebook[k]``; its logit is the log density of
    ``codebook[k]`` under the predicted mean with the head's typical std (its log-std bias),
    which is linear in the state. End-of-speech gets the lowest code's bias and no weight.
    Patch 1 only."""
    K, D = codebook.shape
    if target.patch != 1 or source.patch != 1:
        raise ValueError("a Gaussian-to-discrete start needs patch 1 on both sides")
    if K != target.cardinality or D != source.latent_dim:
        raise ValueError(
            f"codebook [{K}, {D}] does not fit {target.cardinality} codes of "
            f"{source.latent_dim}-dim latents"
        )
    codebook = codebook.to(target.embed.weight.dtype)
    target.embed.weight[:K] = source.proj(codebook)
    weight, bias = source.head.weight, source.head.bias  # [2D, C], [2D]: mean, then logstd
    scaled = codebook * torch.exp(-2 * bias[D:].clamp(-7.0, 2.0))  # c_k / sigma^2, [K, D]
    target.head.weight[:K] = scaled @ weight[:D]
    target.head.bias[:K] = scaled @ bias[:D] - 0.5 * (codebook * scaled).sum(-1)
    target.head.weight[K] = 0.0
    target.head.bias[K] = target.head.bias[:K].min()
