"""PALLE inference: pseudo-autoregressive span commits, then NAR refinement of the
lowest-confidence frames.

The target length is fixed first (from the prompt's frames per phoneme and a speed factor, or
given). Each PAR step predicts every masked frame and commits only the left-most ``span``.
Refinement re-masks the lowest-confidence ``quantile`` of generated frames for a few
iterations; prompt frames are never touched and no frame is refined twice.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from models.par import PARModel
from models.sampling import filter_logits


@dataclass(frozen=True)
class PAROptions:
    span: int = 8  # frames committed per PAR step
    temperature: float = 1.0  # 0 = greedy
    top_p: float = 0.9  # nucleus for every draw
    refine_iterations: int = 2  # refinement passes after PAR (0 = none)
    refine_quantile: float = 0.1  # fraction of generated frames re-masked per pass (gamma)


def target_length(
    prompt_frames: int, prompt_tokens: int, target_tokens: int, speed: float = 1.0
) -> int:
    """Frames for the target text at the prompt's frames-per-phoneme rate, divided by speed."""
    if prompt_tokens <= 0 or prompt_frames <= 0:
        raise ValueError("the prompt needs frames and phonemes to set the speaking rate")
    return max(1, round(prompt_frames / prompt_tokens * target_tokens / speed))


def _draw(logits: torch.Tensor, options: PAROptions, rng: torch.Generator):
    """logits ``[N, K]`` -> tokens ``[N]`` and their probabilities ``[N]``."""
    probs = logits.softmax(-1)
    if options.temperature <= 0:
        tokens = logits.argmax(-1)
    else:
        filtered = filter_logits(logits / options.temperature, top_p=options.top_p)
        tokens = torch.multinomial(filtered.softmax(-1), 1, generator=rng).squeeze(-1)
    return tokens, probs.gather(-1, tokens[:, None]).squeeze(-1)


class PARGenerator:
    """``text [Lt]`` (prompt text + target text), ``prompt [Tp]`` codes, ``length`` target frames.
    ``step()`` commits the next span and returns it; ``refine(refiner)`` runs stage two."""

    def __init__(self, model: PARModel, text, prompt, length: int, options=PAROptions(), seed=0):
        self.model, self.options = model.eval(), options
        self.rng = torch.Generator().manual_seed(seed)
        self.text, self.text_lens = text[None], torch.tensor([text.shape[0]])
        self.prompt_len, self.length = prompt.shape[0], length
        mask = torch.full((length,), model.mask_token, dtype=prompt.dtype)
        self.frames = torch.cat([prompt, mask])[None]  # [1, Tp + L]
        self.confidence = torch.zeros(length)
        self.committed = 0
        self.steps = 0  # forward passes so far (PAR + refinement)
        self.refined = torch.zeros(length, dtype=torch.bool)

    @property
    def generated(self) -> torch.Tensor:
        """Committed target frames ``[committed]``."""
        return self.frames[0, self.prompt_len : self.prompt_len + self.committed]

    def _logits(self, model: PARModel) -> torch.Tensor:
        self.steps += 1
        lens = torch.tensor([self.frames.shape[1]])
        return model.logits(self.text, self.text_lens, self.frames, lens)[0]  # [T, K]

    @torch.inference_mode()
    def step(self) -> torch.Tensor | None:
        if self.committed >= self.length:
            return None
        logits = self._logits(self.model)
        start = self.prompt_len + self.committed
        end = min(start + self.options.span, self.prompt_len + self.length)
        tokens, probs = _draw(logits[start:end], self.options, self.rng)
        self.frames[0, start:end] = tokens
        self.confidence[self.committed : self.committed + len(tokens)] = probs
        self.committed += len(tokens)
        return tokens

    @torch.inference_mode()
    def refine(self, refiner: PARModel) -> list[torch.Tensor]:
        """Stage two on the finished PAR output; returns the positions (target-relative)
        re-predicted in each pass."""
        if self.committed < self.length:
            raise RuntimeError("refine() needs the PAR pass to finish first")
        count = max(1, math.ceil(self.options.refine_quantile * self.length))
        passes = []
        for _ in range(self.options.refine_iterations):
            candidates = (~self.refined).nonzero().squeeze(-1)
            if candidates.numel() == 0:
                break
            order = torch.argsort(self.confidence[candidates])
            chosen = candidates[order[:count]]
            absolute = chosen + self.prompt_len
            self.frames[0, absolute] = refiner.mask_token
            tokens, probs = _draw(self._logits(refiner)[absolute], self.options, self.rng)
            self.frames[0, absolute] = tokens
            self.confidence[chosen] = probs
            self.refined[chosen] = True
            passes.append(chosen)
        return passes

    def generate(self, refiner: PARModel | None = None) -> torch.Tensor:
        """PAR to the end, then refinement if a refiner is given; returns the target ``[L]``."""
        while self.step() is not None:
            pass
        if refiner is not None and self.options.refine_iterations:
            self.refine(refiner)
        return self.generated
