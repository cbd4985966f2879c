"""The discrete family over every codebook of a latent-RVQ codec: a residual depth head.

A latent-RVQ codec's codes stand for latent vectors: frame ``t``'s latent is approximately
``sum_q vectors[q, codes[q, t]]``, and its stages share the latent between them evenly, so no
first codebook carries the speech alone (VALL-E's AR-then-NAR split fails on them). Here one
model step predicts all ``Q`` codes of a frame, codebook by codebook (RQ-Transformer's depth
order): codebook ``q``'s logits come from the step's predicted Gaussian ``(mean, logstd)`` and
the sum ``r`` of the vectors chosen for the earlier codebooks,

    logit[q, k] = -|(vectors[q, k] - e_q) / sigma_q|^2 / 2,
    e_q = mean - r + depth(mean, logstd, r, q),   sigma_q = exp(logstd + spread[q]),

i.e. the Gaussian's log density at the latent the code would complete, with a learned
correction (``depth``, zero at the start) and per-stage spread. A step enters the transformer
as its latent (the sum of its codes' vectors) through the Gaussian adapter's projection, so a
model started from a trained KALL-E stage starts as that stage quantised: greedy decoding picks,
stage by stage, the code nearest to what the Gaussian's mean still lacks.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from palette.codec.bottleneck import LatentRVQ
from palette.models.frames import GaussianFrames


class DepthFrames(GaussianFrames):
    """codes ``[B, Q, T]`` <-> steps ``[B, T, C]`` (patch 1); predictions: the Gaussian
    ``(mean, logstd) [B, S, 1, D]`` and stop logit of ``GaussianFrames``, and per codebook
    logits ``[..., K]`` from them (:meth:`logits`)."""

    def __init__(self, codebooks: int, cardinality: int, latent_dim: int, dim: int, hidden: int):
        super().__init__(latent_dim, 1, dim)
        self.codebooks, self.cardinality = codebooks, cardinality
        # the codec's codebooks: fixed by the codec (copied in with ``set_vectors``), not trained
        self.rvq = LatentRVQ(latent_dim, cardinality, codebooks)
        self.spread = nn.Parameter(torch.zeros(codebooks, latent_dim))
        self.stage = nn.Embedding(codebooks, hidden)
        self.depth_in = nn.Linear(3 * latent_dim, hidden)
        self.depth_out = nn.Linear(hidden, latent_dim)
        nn.init.zeros_(self.depth_out.weight)
        nn.init.zeros_(self.depth_out.bias)

    @torch.no_grad()
    def set_vectors(self, vectors: torch.Tensor) -> None:
        """Take the codec's codebooks ``[Q, K, D]``."""
        if vectors.shape != self.vectors.shape:
            raise ValueError(
                f"the codec's codebooks {tuple(vectors.shape)} do not fit this model's "
                f"{tuple(self.vectors.shape)}"
            )
        self.rvq.codebooks.copy_(vectors)

    @property
    def vectors(self) -> torch.Tensor:
        """The codebooks ``[Q, K, D]``."""
        return self.rvq.codebooks

    def latents(self, codes: torch.Tensor) -> torch.Tensor:
        """codes ``[B, Q, T]`` -> the latents they code ``[B, D, T]``."""
        return self.rvq.lookup(codes)

    def quantize(self, latents: torch.Tensor) -> torch.Tensor:
        """latents ``[B, D, T]`` -> their codes ``[B, Q, T]`` (the codec's own quantisation)."""
        return self.rvq.quantize(latents)[1]

    def embed(self, codes: torch.Tensor) -> torch.Tensor:
        """codes ``[B, Q', T]`` -> the vectors of each codebook ``[B, T, Q', D]``."""
        return torch.stack(
            [F.embedding(codes[:, q], self.vectors[q]) for q in range(codes.shape[1])], dim=2
        )

    def to_steps(self, codes: torch.Tensor) -> torch.Tensor:
        """codes ``[B, Q, T]`` -> step inputs ``[B, T, C]`` (the projected latent they code)."""
        return self.proj(self.latents(codes).transpose(1, 2))

    def logits(self, mean, logstd, before: torch.Tensor, q: int) -> torch.Tensor:
        """Logits ``[..., K]`` of codebook ``q`` for a Gaussian ``mean, logstd [..., D]`` with
        ``before [..., D]`` already chosen by the earlier codebooks."""
        hidden = F.silu(self.depth_in(torch.cat([mean, logstd, before], -1)) + self.stage.weight[q])
        target = mean - before + self.depth_out(hidden)
        inv_var = torch.exp(-2 * (logstd + self.spread[q]))  # [..., D]
        book = self.vectors[q]  # [K, D]
        return (target * inv_var) @ book.T - 0.5 * inv_var @ book.square().T

    def teacher_logits(self, mean, logstd, codes: torch.Tensor) -> torch.Tensor:
        """Every codebook's logits ``[B, S, Q, K]`` for given ``codes [B, Q, S]`` (each codebook
        given the earlier ones: teacher forcing in training, verifying drafts in decoding), from
        ``mean, logstd [B, S, D]``."""
        vectors = self.embed(codes)  # [B, S, Q, D]
        before = vectors.cumsum(2) - vectors  # what the earlier codebooks chose
        rows = [self.logits(mean, logstd, before[:, :, q], q) for q in range(codes.shape[1])]
        return torch.stack(rows, dim=2)

    def draw(self, mean, logstd, pick) -> tuple[torch.Tensor, torch.Tensor]:
        """One frame's codes for the Gaussian ``mean, logstd [D]``, codebook by codebook:
        ``pick(q, logits [K]) -> code`` chooses each. -> (codes ``[Q]``, logits ``[Q, K]``)."""
        before = torch.zeros_like(mean)
        codes, rows = [], []
        for q in range(self.codebooks):
            logits = self.logits(mean, logstd, before, q)
            code = int(pick(q, logits))
            before = before + self.vectors[q, code]
            codes.append(code)
            rows.append(logits)
        return torch.tensor(codes), torch.stack(rows)
