"""Self-speculative decoding for the KALL-E family: the Gaussian draft head drafts the next K
steps from one state of the model's own backbone (and those steps' aligned phonemes), the model
verifies them in one teacher-forced pass with its KV cache, decoding resumes after the accepted
prefix (no second model).

A round starts from a pending step ``m`` (drawn, not yet fed) and the state that predicted it.
From that state the draft head gives Gaussians ``q`` for steps ``m+1 .. m+K``; their drafts are
drawn, ``[pending ; drafts]`` run in one pass (``T = K + 1``), which gives the model's ``p`` at
every draft step and one beyond. The pending step and the accepted drafts are committed; the
first rejected step's replacement (or, when all are kept, a draw from ``p`` one beyond) is the
next round's pending step, and the cache is rolled back to the committed steps. Modes
(``SpeculativeOptions.mode``):

- ``sampling``: speculative sampling with a stochastic draft: ``x ~ q`` is kept with
  probability ``min(1, p(x) / q(x))`` (joint densities of the whole step at the sampling
  temperature), a rejection is replaced by a draw from the normalised residual
  ``max(0, p - q)``; the output follows plain sampling's distribution exactly (Monte-Carlo
  test). Needs temperature > 0.
- ``relaxed``: a draft ``x ~ q`` is kept while the model finds it plausible:
  ``exp(-mean(z^2) / 2) >= tau_lm`` with ``z = (x - mean_p) / std_p`` (1 at the model's mean,
  0.61 for a typical draw of ``p``); a rejection is replaced by a plain draw from ``p``.
  ``tau_ctc`` (a CTC entropy) has no meaning here.
- ``exact`` (greedy) is refused: a drawn or predicted draft frame never equals the model's mean,
  so nothing would ever be accepted.
"""

from __future__ import annotations

import torch

from palette.codec.files import UserError
from palette.models.generate import ARGenerator, GaussianSampling
from palette.models.sampling import GaussianDraftCheck, draw_gaussian, gaussian_confidence
from palette.models.speculative import MODES, SpeculativeOptions


class SpeculativeGaussianGenerator(ARGenerator):
    """``ARGenerator`` for an aligned kalle model with a Gaussian draft head whose ``step()``
    commits a verified span of steps per forward pass (at most ``draft_tokens`` drafts, and no
    more than the head was trained to reach, ``draft_ahead``). ``passes``, ``drafted`` and
    ``accepted`` count the work."""

    def __init__(
        self,
        model,
        text,
        prompt,
        max_frames: int,
        options: GaussianSampling,
        speculative: SpeculativeOptions,
        seed: int = 0,
        durations: torch.Tensor | None = None,
        speaker: torch.Tensor | None = None,
    ):
        self._check(model, options, speculative)
        super().__init__(
            model, text, prompt, max_frames, options, seed, durations=durations, speaker=speaker
        )
        self.spec = speculative
        self.passes = self.drafted = self.accepted = 0
        self._pending = None  # the next step's frames [P, D], drawn, not yet fed
        self._anchor = None  # the state [1, C] that predicted the pending step
        self._pending_confidence = None  # the pending step's frame confidence [P]

    @staticmethod
    def _check(model, options, speculative: SpeculativeOptions) -> None:
        """Refuse a model or mode this generator cannot decode with (a ``UserError``)."""
        if model.discrete or model.gaussian_draft is None:
            raise UserError(
                "speculative decoding of the kalle family needs a model trained with a "
                "Gaussian draft head (draft_ahead > 0)"
            )
        if speculative.mode not in MODES:
            raise UserError(
                f"unknown speculative mode {speculative.mode!r}; one of {', '.join(MODES)}"
            )
        if speculative.mode == "exact":
            raise UserError(
                "speculative mode exact (greedy) needs discrete codes: a Gaussian draft never "
                "equals the model's mean; use sampling or relaxed with the kalle family"
            )
        if speculative.mode == "sampling" and options.temperature <= 0:
            raise UserError("speculative sampling needs temperature > 0 (or use relaxed)")

    @property
    def _steps_done(self) -> int:
        """Audio steps before the pending one (prompt included): the pending step's index."""
        return (self.prompt.shape[-1] + self.generated.shape[-1]) // self.P

    def _predict(self, states: torch.Tensor):
        """states ``[1, N, C]`` -> the model's ``(mean, logstd) [N, P, D]``."""
        mean, logstd, _ = self.model.frames.predict(states)
        return mean[0], logstd[0]

    def _prefill(self) -> None:
        states = self._prefill_states(self.spec.draft_tokens + 2)
        self.passes += 1
        self._anchor = states[:, -1]
        mean, logstd = self._predict(self._anchor[:, None])
        self._pending = self._draw(mean[0], logstd[0])
        self._pending_confidence = gaussian_confidence(logstd[0])

    def _draw(self, mean: torch.Tensor, logstd: torch.Tensor) -> torch.Tensor:
        """A plain draw of one step ``[P, D]`` from the model's ``mean, logstd [P, D]``."""
        return draw_gaussian(mean, logstd, self.options.temperature, self.rng)

    def _draft_gaussians(self, m: int, K: int):
        """The draft head's Gaussians ``q = (mean, logstd) [K, P, D]`` for steps ``m+1 .. m+K``
        from the anchor state."""
        phones = self.phone_rows(m + 1, K)
        k = torch.arange(1, K + 1)
        mean, logstd = self.model.gaussian_draft(self._anchor[:, None].expand(1, K, -1), phones, k)
        return mean[0], logstd[0]

    def _drafts(self, m: int, K: int):
        """Gaussians ``q`` ``[K, P, D]`` for steps ``m+1 .. m+K`` and the drafts drawn from them."""
        q = self._draft_gaussians(m, K)
        return q, draw_gaussian(*q, self.options.temperature, self.rng)

    def _accept(self, p, q, drafts) -> tuple[int, torch.Tensor]:
        """-> (drafts kept, the next pending step ``[P, D]``). ``p`` covers the K drafts and one
        step beyond (``[K + 1, P, D]``)."""
        t = self.options.temperature
        for j in range(drafts.shape[0]):
            if self.spec.mode == "sampling":
                check = GaussianDraftCheck((p[0][j], p[1][j]), (q[0][j], q[1][j]), t)
                if not check.accept(drafts[j], self.rng):
                    return j, check.residual(self.rng)
            else:  # relaxed
                z = (drafts[j] - p[0][j]) * torch.exp(-p[1][j])
                if float(torch.exp(-0.5 * z.pow(2).mean())) < self.spec.tau_lm:
                    return j, self._draw(p[0][j], p[1][j])
        K = drafts.shape[0]
        return K, self._draw(p[0][K], p[1][K])

    @torch.inference_mode()
    def step(self) -> torch.Tensor | None:
        """Commit the next verified span of latents ``[D, t]``, or ``None`` at the end."""
        if self.done:
            return None
        if self.cache is None:
            self._prefill()
        n = self.generated.shape[-1]
        remaining = -(-(self.max_frames - n) // self.P)  # steps still to commit, pending included
        K = min(self.spec.draft_tokens, self.model.config.draft_ahead, remaining - 1)
        commit, confidence = [self._pending], [self._pending_confidence]
        if K > 0:
            m = self._steps_done
            q, drafts = self._drafts(m, K)
            feed = torch.cat([self._pending[None], drafts])  # [K + 1, P, D] (depth: [.., 1, Q])
            feed = feed.reshape(-1, feed.shape[-1]).T[None]  # frames [1, D, (K + 1) P]
            start = self.cache.length
            states = self.model.extend(
                self.model.step_inputs(feed),
                self.cache,
                self.phone_rows(m + 1, K + 1),
                self.speaker_rows,
            )
            self.passes += 1
            p = self._predict(states)
            kept, pending = self._accept(p, q, drafts)
            self.drafted += K
            self.accepted += kept
            self.cache.rollback(start + 1 + kept)
            commit += list(drafts[:kept])
            confidence += list(gaussian_confidence(p[1][:kept]))  # the model's Gaussians, as drawn
            self._anchor, self._pending = states[:, kept], pending
            self._pending_confidence = gaussian_confidence(p[1][kept])
        out = torch.cat([c.T for c in commit], dim=-1)[:, : self.max_frames - n]  # [D, t]
        if n + out.shape[-1] >= self.max_frames:
            self.done = True
        self.frames.append(out)
        self._confidence.append(torch.cat(confidence)[: out.shape[-1]])
        return out
