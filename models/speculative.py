"""Self-speculative decoding for the VALL-E family: a CTC draft head on the model's own text
states drafts many codes at once, the AR model verifies them in one teacher-forced pass with its
KV cache, decoding resumes after the accepted prefix (no second model).

Per round, with ``n`` codes generated: the draft is the next ``K`` codes of the CTC hypothesis
(greedy CTC over the upsampled target text states, computed once at prefill); the model runs
``[last code ; draft]`` in one pass (``T = K + 1``), which gives its distribution at every draft
position and one beyond; the accepted prefix plus one code of the model's own is committed and
the cache is rolled back to it. Acceptance modes (``SpeculativeOptions.mode``):

- ``exact``: greedy; a draft code is kept while it equals the model's argmax. The output is
  identical to greedy AR decoding (tested), only faster when the draft is right.
- ``sampling``: speculative sampling with a deterministic draft (``q`` = one-hot): keep draft
  code ``d`` with probability ``p(d)``, on rejection draw from ``p`` without ``d`` (the normalised
  residual ``max(0, p - q)``). The output is distributed exactly as plain sampling with the same
  temperature / top-k / top-p (Monte-Carlo test).
- ``relaxed`` (as in CTC self-speculative ASR decoding): keep the whole draft span when the CTC
  frames' mean entropy is below ``tau_ctc``; otherwise keep draft codes while the model gives
  them probability at least ``tau_lm``.

Repetition-aware sampling looks at its own draws, so it is not applied in speculative modes.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from palette.codec.files import UserError
from palette.models.generate import ARGenerator
from palette.models.sampling import SamplingOptions, filter_logits, sample

MODES = ("exact", "sampling", "relaxed")


@dataclass(frozen=True)
class SpeculativeOptions:
    mode: str = "exact"  # "exact" (greedy), "sampling" (exact distribution), "relaxed"
    draft_tokens: int = 8  # K: codes drafted per round
    tau_ctc: float = 0.5  # relaxed: keep a whole span when the CTC mean entropy (nats) is below
    tau_lm: float = 0.1  # relaxed: else keep draft codes with model probability at least this


def ctc_greedy(logits: torch.Tensor, blank: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Draft logits ``[N, K + 1]`` -> (codes ``[M]``: argmax path with repeats merged and blanks
    dropped, entropy ``[M]`` of each kept code's first frame)."""
    log_p = logits.float().log_softmax(-1)
    best = log_p.argmax(-1)
    entropy = -(log_p.exp() * log_p).sum(-1)
    first = torch.ones_like(best, dtype=torch.bool)
    first[1:] = best[1:] != best[:-1]
    keep = first & (best != blank)
    return best[keep], entropy[keep]


class SpeculativeARGenerator(ARGenerator):
    """``ARGenerator`` whose ``step()`` commits a verified draft span per forward pass. Needs a
    discrete model with a draft head and patch 1; ``target_start`` is where the target's
    phonemes begin in ``text``. ``passes``, ``drafted`` and ``accepted`` count the work."""

    def __init__(
        self,
        model,
        text,
        prompt,
        max_frames: int,
        options: SamplingOptions,
        speculative: SpeculativeOptions,
        target_start: int,
        seed: int = 0,
        durations: torch.Tensor | None = None,
        speaker: torch.Tensor | None = None,
    ):
        if not model.discrete or model.draft is None:
            raise UserError(
                "speculative decoding needs an ar model trained with a draft head "
                "(draft_upsample > 0)"
            )
        if model.config.patch != 1:
            raise UserError("speculative decoding needs an ar model with patch 1")
        if speculative.mode not in MODES:
            raise UserError(
                f"unknown speculative mode {speculative.mode!r}; one of {', '.join(MODES)}"
            )
        super().__init__(
            model, text, prompt, max_frames, options, seed, durations=durations, speaker=speaker
        )
        self.spec, self.target_start = speculative, target_start
        self.hypothesis = self.entropy = None
        self.passes = self.drafted = self.accepted = 0
        self._pending_state = None  # prefill state predicting the first code

    # --- drafting ---------------------------------------------------------------------------
    def _prefill(self) -> None:
        states, text_states = self._prefill_states(self.spec.draft_tokens + 1, with_text=True)
        self.passes += 1
        self._pending_state = states[:, -1]
        draft = self.model.draft_logits(text_states[:, self.target_start :])[0]
        self.hypothesis, self.entropy = ctc_greedy(draft, self.model.config.cardinality)

    def _draft(self, n: int) -> torch.Tensor:
        room = max(0, self.max_frames - n - 1)  # leave room for the model's own code
        return self.hypothesis[n : n + min(self.spec.draft_tokens, room)]

    # --- verifying --------------------------------------------------------------------------
    def _probs(self, logits: torch.Tensor) -> torch.Tensor:
        """The distribution plain sampling draws from: ``logits [N, K + 1]`` -> ``[N, K + 1]``."""
        o = self.options
        return (filter_logits(logits, o.top_k, o.top_p) / o.temperature).softmax(-1)

    def _own(self, logits: torch.Tensor, history: torch.Tensor) -> torch.Tensor:
        """The model's own next code from ``logits [1, K + 1]``."""
        if self.spec.mode == "exact" or self.options.temperature <= 0:
            return logits.argmax(-1)
        plain = SamplingOptions(self.options.temperature, self.options.top_k, self.options.top_p)
        return sample(logits, plain, history[None], self.rng)

    def _accept(self, logits: torch.Tensor, draft: torch.Tensor, n: int):
        """-> (accepted draft codes, the model's next code). ``logits [len(draft) + 1, K + 1]``."""
        greedy = self.spec.mode == "exact" or self.options.temperature <= 0
        a = 0
        if greedy:
            while a < len(draft) and int(logits[a].argmax()) == int(draft[a]):
                a += 1
        elif self.spec.mode == "sampling":
            probs = self._probs(logits)
            while a < len(draft):
                p = probs[a, draft[a]]
                if torch.rand((), generator=self.rng) < p:
                    a += 1
                    continue
                residual = probs[a].clone()
                residual[draft[a]] = 0.0
                if residual.sum() <= 0:  # p(d) was 1 up to rounding: keep the draft code
                    a += 1
                    continue
                own = torch.multinomial(residual / residual.sum(), 1, generator=self.rng)
                return draft[:a], own
        else:  # relaxed
            if len(draft) and float(self.entropy[n : n + len(draft)].mean()) < self.spec.tau_ctc:
                a = len(draft)
            else:
                probs = logits.float().softmax(-1)
                while a < len(draft) and float(probs[a, draft[a]]) >= self.spec.tau_lm:
                    a += 1
        history = torch.cat([self.prompt, self.generated, draft[:a]])
        if not greedy and self.spec.mode == "sampling":
            own = torch.multinomial(self._probs(logits[a : a + 1])[0], 1, generator=self.rng)
        else:
            own = self._own(logits[a : a + 1], history)
        return draft[:a], own.reshape(1)

    @torch.inference_mode()
    def step(self) -> torch.Tensor | None:
        """Commit the next verified span of codes ``[t]`` (``t >= 1``), or ``None`` at the end."""
        if self.done:
            return None
        if self.cache is None:
            self._prefill()
        first = not self.frames  # the prefill's last state predicts the first code
        n = self.generated.shape[-1]
        draft = self._draft(n)
        feed = draft if first else torch.cat([self.frames[-1][-1:], draft])
        start = self.cache.length
        states = []
        if first:
            states.append(self._pending_state[:, None])
        if feed.numel():
            position = start - self.text.shape[1]
            phones = self.phone_rows(position, feed.shape[0])
            steps = self.model.step_inputs(feed[None])
            states.append(self.model.extend(steps, self.cache, phones, self.speaker_rows))
            self.passes += 1
        logits = self.model.frames.logits(torch.cat(states, dim=1))[0, :, 0]  # [len(draft)+1, K+1]
        if self.index is not None:  # aligned: the length is fixed, end-of-speech never drawn
            logits[:, self.model.frames.eos] = float("-inf")
        kept, own = self._accept(logits, draft, n)
        self.drafted += len(draft)
        self.accepted += len(kept)
        self.cache.rollback(start + feed.shape[0] - (len(draft) - len(kept)))
        out = kept
        if int(own) == self.model.frames.eos and self.index is None:
            self.done = True
        else:
            out = torch.cat([kept, own])
        if n + out.shape[0] >= self.max_frames:
            out, self.done = out[: self.max_frames - n], True
        if out.numel() == 0:
            self.done = True
            return None
        self.frames.append(out)
        return out
