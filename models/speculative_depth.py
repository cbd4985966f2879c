"""Self-speculative decoding for depth-head ar models (``models.depth_frames``): the Gaussian
draft head drafts the next K steps from one state of the model's own backbone, the depth head
turns each drafted Gaussian into codes, and the model verifies all K frames in one
teacher-forced pass with its KV cache (the round structure of ``speculative_gaussian``).

A frame's codes are a sequence of sub-tokens (codebook 1, 2, ... Q), so acceptance runs over
that sequence: the draft's distribution for codebook ``q`` of frame ``j`` is the depth head's
under the drafted Gaussian, the model's the depth head's under its own Gaussian, both given the
drafted codes before it. Modes (``SpeculativeOptions.mode``):

- ``exact``: greedy; a drafted frame is kept while all its codes equal the model's greedy codes.
  The output is identical to greedy decoding (tested), only faster where the draft is right.
- ``sampling``: speculative sampling sub-token by sub-token: a drafted code ``d`` is kept with
  probability ``min(1, p(d) / q(d))``; on the first rejection it is replaced by a draw from the
  normalised residual ``max(0, p - q)``, the frame's later codebooks are drawn from the model,
  and the round ends. The output follows plain sampling exactly (Monte-Carlo test).
- ``relaxed``: a whole draft span is kept when its drafts' mean per-codebook entropy is below
  ``tau_ctc`` nats; otherwise drafted frames are kept while the model's geometric-mean
  probability of their codes is at least ``tau_lm``; a rejection is a plain draw from the model
  (greedy at temperature 0: drafts and the model's own frames are then argmax codes).
"""

from __future__ import annotations

import torch

from palette.codec.files import UserError
from palette.models.sampling import SamplingOptions, filter_logits
from palette.models.speculative import MODES, SpeculativeOptions
from palette.models.speculative_gaussian import SpeculativeGaussianGenerator


class SpeculativeDepthGenerator(SpeculativeGaussianGenerator):
    """``SpeculativeGaussianGenerator`` for a depth-head ar model: a step is one frame of codes,
    held as ``[1, Q]`` (one frame of Q values, where a Gaussian step holds ``[P, D]``)."""

    options: SamplingOptions

    @staticmethod
    def _check(model, options, speculative: SpeculativeOptions) -> None:
        if not model.config.depth or model.gaussian_draft is None:
            raise UserError(
                "speculative decoding of a depth-head ar model needs its Gaussian draft head "
                "(draft_ahead > 0)"
            )
        if speculative.mode not in MODES:
            raise UserError(
                f"unknown speculative mode {speculative.mode!r}; one of {', '.join(MODES)}"
            )

    @property
    def _greedy(self) -> bool:
        return self.spec.mode == "exact" or self.options.temperature <= 0

    def _probs(self, logits: torch.Tensor) -> torch.Tensor:
        """The distribution plain sampling draws from: ``logits [..., K]`` -> ``[..., K]``."""
        o = self.options
        flat = filter_logits(logits.reshape(-1, logits.shape[-1]), o.top_k, o.top_p)
        return (flat / o.temperature).softmax(-1).view(logits.shape)

    def _pick(self, q: int, logits: torch.Tensor) -> torch.Tensor:
        """Greedy in exact mode (or at temperature 0), else plain sampling's draw."""
        return logits.argmax(-1) if self._greedy else self.pick_code(q, logits)

    def _draw(self, mean: torch.Tensor, logstd: torch.Tensor) -> torch.Tensor:
        """The model's own frame ``[1, Q]`` from its Gaussian ``[1, D]``."""
        return self.model.frames.draw(mean[0], logstd[0], self._pick)[0][None]

    def _drafts(self, m: int, K: int):
        """Drafted Gaussians for steps ``m+1 .. m+K`` and their frames ``[K, 1, Q]``; ``q``
        also carries each drafted code's draft logits ``[K, Q, K']``."""
        mean, logstd = self._draft_gaussians(m, K)
        drawn = [self.model.frames.draw(mean[j, 0], logstd[j, 0], self._pick) for j in range(K)]
        frames = torch.stack([codes for codes, _ in drawn])[:, None]
        return (mean, logstd, torch.stack([logits for _, logits in drawn])), frames

    def _model_logits(self, p, drafts: torch.Tensor) -> torch.Tensor:
        """The model's logits ``[K, Q, K']`` for every drafted code, given the drafted codes
        before it in its frame."""
        K = drafts.shape[0]
        mean, logstd = p[0][:K, 0], p[1][:K, 0]  # [K, D]
        return self.model.frames.teacher_logits(
            mean[:, None], logstd[:, None], drafts.transpose(1, 2)
        )[:, 0]

    def _accept(self, p, q, drafts) -> tuple[int, torch.Tensor]:
        """-> (drafted frames kept, the next pending frame ``[1, Q]``)."""
        K = drafts.shape[0]
        codes = drafts[:, 0]  # [K, Q]
        logits = self._model_logits(p, drafts)
        if self.spec.mode != "relaxed" and self._greedy:  # exact, or sampling at temperature 0
            for j in range(K):
                own = self._draw(p[0][j], p[1][j])
                if not torch.equal(own[0], codes[j]):
                    return j, own
        elif self.spec.mode == "sampling":
            p_probs, q_probs = self._probs(logits), self._probs(q[2])
            for j in range(K):
                for c in range(codes.shape[1]):
                    d = codes[j, c]
                    ratio = p_probs[j, c, d] / q_probs[j, c, d]
                    if torch.rand((), generator=self.rng) < ratio:
                        continue
                    residual = (p_probs[j, c] - q_probs[j, c]).clamp(min=0)
                    if residual.sum() <= 0:  # p equals q up to rounding: keep the draft code
                        continue
                    return j, self._complete(p, j, codes[j, :c], residual)
        else:  # relaxed
            entropy = -(q[2].softmax(-1) * q[2].log_softmax(-1)).sum(-1)  # [K, Q]
            if float(entropy.mean()) >= self.spec.tau_ctc:
                own = logits.log_softmax(-1).gather(-1, codes[..., None])[..., 0]  # [K, Q]
                for j in range(K):
                    if float(own[j].mean().exp()) < self.spec.tau_lm:
                        return j, self._draw(p[0][j], p[1][j])
        return K, self._draw(p[0][K], p[1][K])

    def _complete(self, p, j: int, kept: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        """Frame ``j`` after a rejection at codebook ``len(kept)``: the kept draft codes, a draw
        from ``residual [K']`` in place of the rejected one, the later codebooks drawn from the
        model. -> ``[1, Q]``."""
        replaced = torch.multinomial(residual / residual.sum(), 1, generator=self.rng)
        prefix = torch.cat([kept, replaced]).tolist()
        pick = lambda c, logits: prefix[c] if c < len(prefix) else self._pick(c, logits)  # noqa: E731
        return self.model.frames.draw(p[0][j, 0], p[1][j, 0], pick)[0][None]
