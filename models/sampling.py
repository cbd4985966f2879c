"""Every random draw of generation, in one place: discrete tokens (temperature, top-k, top-p,
VALL-E 2's repetition-aware sampling), PALLE's draws with their confidences, Gaussian frames
(KALL-E, latent PAR), and speculative sampling's accept-or-redraw for Gaussian drafts."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class SamplingOptions:
    temperature: float = 1.0  # divides the logits; 0 means greedy (argmax)
    top_k: int = 0  # keep the k most likely tokens (0 = all)
    top_p: float = 1.0  # keep the smallest set whose probability reaches top_p (1 = all)
    ras_window: int = 0  # repetition-aware sampling: look back this many tokens (0 = off)
    ras_threshold: float = 0.1  # resample from the full distribution when the nucleus pick
    # already fills more than this fraction of the window (VALL-E 2)
    stop_threshold: float = 0.5  # depth-head ar models: stop when sigmoid(stop logit) exceeds it


def filter_logits(logits: torch.Tensor, top_k: int = 0, top_p: float = 1.0) -> torch.Tensor:
    """Set logits ``[N, K]`` outside top-k / the top-p nucleus to -inf."""
    if top_k and top_k < logits.shape[-1]:
        kth = torch.topk(logits, top_k, dim=-1).values[..., -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if top_p < 1.0:
        sorted_logits, order = torch.sort(logits, dim=-1, descending=True)
        cum = sorted_logits.softmax(-1).cumsum(-1)
        drop_sorted = cum - sorted_logits.softmax(-1) >= top_p  # keeps the token crossing top_p
        drop = torch.zeros_like(drop_sorted).scatter(-1, order, drop_sorted)
        logits = logits.masked_fill(drop, float("-inf"))
    return logits


def _draw(logits: torch.Tensor, temperature: float, generator: torch.Generator | None):
    if temperature <= 0:
        return logits.argmax(-1)
    probs = (logits / temperature).softmax(-1)
    return torch.multinomial(probs, 1, generator=generator).squeeze(-1)


def sample(
    logits: torch.Tensor,
    options: SamplingOptions,
    history: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Draw one token per row of ``logits [N, K]``. ``history [N, t]`` holds the tokens
    generated so far for repetition-aware sampling."""
    token = _draw(
        filter_logits(logits, options.top_k, options.top_p), options.temperature, generator
    )
    if options.ras_window and history is not None and history.shape[-1]:
        window = history[:, -options.ras_window :]
        ratio = (window == token[:, None]).float().sum(-1) / options.ras_window
        repeat = ratio > options.ras_threshold
        if repeat.any():
            fallback = _draw(logits, max(options.temperature, 1e-5), generator)
            token = torch.where(repeat, fallback, token)
    return token


def draw_gaussian(
    mean: torch.Tensor, logstd: torch.Tensor, temperature: float, generator: torch.Generator | None
) -> torch.Tensor:
    """One sample of the diagonal Gaussian ``(mean, logstd)`` (any shape), its noise scaled by
    ``temperature`` (0 = the mean)."""
    noise = torch.randn(mean.shape, generator=generator)
    return mean + temperature * torch.exp(logstd) * noise


def gaussian_confidence(logstd: torch.Tensor) -> torch.Tensor:
    """A Gaussian frame's confidence, the negative mean predicted log-std over its last
    (latent) dim: ``[..., D]`` -> ``[...]``. PAR's draws and kalle's frames are ranked by it
    for refinement."""
    return -logstd.mean(-1)


def draw_with_confidence(
    prediction, temperature: float, top_p: float, generator: torch.Generator | None
):
    """PALLE's draw for N frames -> ``(values, confidence [N])``. Discrete: logits ``[N, K]``
    -> codes ``[N]`` (nucleus of the tempered distribution), confidence = the drawn code's
    probability; continuous: ``(mean, logstd) [N, D]`` -> latents ``[N, D]``, confidence = the
    negative mean predicted log-std."""
    if isinstance(prediction, tuple):
        mean, logstd = prediction
        return draw_gaussian(mean, logstd, temperature, generator), gaussian_confidence(logstd)
    logits = prediction
    probs = logits.softmax(-1)
    if temperature <= 0:
        tokens = logits.argmax(-1)
    else:
        filtered = filter_logits(logits / temperature, top_p=top_p)
        tokens = torch.multinomial(filtered.softmax(-1), 1, generator=generator).squeeze(-1)
    return tokens, probs.gather(-1, tokens[:, None]).squeeze(-1)


def gaussian_log_density(x, mean, logstd, temperature: float = 1.0) -> torch.Tensor:
    """Log density of ``x`` under the diagonal Gaussian ``(mean, temperature * exp(logstd))``,
    summed over every element (one joint density of a whole step)."""
    logstd = logstd + math.log(temperature)
    z = (x - mean) * torch.exp(-logstd)
    return -(0.5 * z.pow(2) + logstd + 0.5 * math.log(2 * math.pi)).sum()


@dataclass(frozen=True)
class GaussianDraftCheck:
    """Speculative sampling for one Gaussian draft step: the model's ``p = (mean, logstd)``,
    the draft's ``q``, both at ``temperature`` (> 0), and the drawn draft ``x ~ q``."""

    p: tuple[torch.Tensor, torch.Tensor]
    q: tuple[torch.Tensor, torch.Tensor]
    temperature: float
    max_redraws: int = 64  # residual draws before falling back to a plain draw from p

    def log_ratio(self, x: torch.Tensor) -> torch.Tensor:
        """``log p(x) - log q(x)``."""
        t = self.temperature
        return gaussian_log_density(x, *self.p, t) - gaussian_log_density(x, *self.q, t)

    def accept(self, x: torch.Tensor, generator: torch.Generator | None) -> bool:
        """Keep the draft ``x`` with probability ``min(1, p(x) / q(x))``."""
        u = torch.rand((), generator=generator)
        return bool(torch.log(u) < self.log_ratio(x))

    def residual(self, generator: torch.Generator | None) -> torch.Tensor:
        """A draw from the normalised residual ``max(0, p - q)`` (what a rejection must be
        replaced with for the output to follow ``p`` exactly), by rejection: ``y ~ p`` is kept
        with probability ``1 - min(1, q(y) / p(y))``."""
        y = None
        for _ in range(self.max_redraws):
            y = draw_gaussian(*self.p, self.temperature, generator)
            keep = 1.0 - torch.exp(-self.log_ratio(y)).clamp(max=1.0)
            if torch.rand((), generator=generator) < keep:
                return y
        return y  # p and q nearly equal: a draw from p is (almost exactly) the residual
