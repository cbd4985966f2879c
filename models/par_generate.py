"""PALLE inference: pseudo-autoregressive span commits, then NAR refinement of the
lowest-confidence frames.

The target length is fixed first (from the prompt's frames per phoneme and a speed factor, or
given); an aligned model spreads it over the target phonemes by its duration head. Each PAR
step predicts every masked frame and commits only the left-most ``span``. Refinement re-masks
the lowest-confidence ``quantile`` of generated frames for a few iterations; prompt frames are
never touched and no frame is refined twice. Confidence is the drawn code's probability, or for
latents the negative mean predicted log-std.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from palette.codec.files import UserError
from palette.models.alignment import frame_phonemes, target_durations
from palette.models.par import PARModel
from palette.models.sampling import draw_with_confidence


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
        raise UserError("the prompt needs frames and phonemes to set the speaking rate")
    return max(1, round(prompt_frames / prompt_tokens * target_tokens / speed))


def _draw(prediction, options: PAROptions, rng: torch.Generator):
    return draw_with_confidence(prediction, options.temperature, options.top_p, rng)


class PARGenerator:
    """``text [Lt]`` (prompt text + target text), ``prompt`` codes ``[Tp]`` or latents
    ``[D, Tp]``, ``length`` target frames. Aligned models also need ``target_start``, the text
    position where the target's phonemes begin. ``step()`` commits the next span and returns
    it (codes ``[t]`` or latents ``[D, t]``); ``refine(refiner)`` runs stage two. A
    speaker-conditioned model also takes the prompt's ``speaker`` embedding ``[E]``; given
    ``durations [Lt]`` (frames per text position), an aligned model uses them instead of its
    duration head's."""

    def __init__(
        self,
        model: PARModel,
        text,
        prompt,
        length: int,
        options=PAROptions(),
        seed=0,
        target_start: int | None = None,
        speaker: torch.Tensor | None = None,
        durations: torch.Tensor | None = None,
    ):
        self.model, self.options = model.eval(), options
        self.speaker = None if speaker is None else speaker.reshape(1, -1)  # [1, E]
        self.rng = torch.Generator().manual_seed(seed)
        self.text, self.text_lens = text[None], torch.tensor([text.shape[0]])
        self.prompt_len, self.length = prompt.shape[-1], length
        if model.continuous:
            self.frames = torch.cat([prompt, prompt.new_zeros(prompt.shape[0], length)], -1)[None]
        else:
            self.frames = torch.cat([prompt, prompt.new_zeros(length)])[None]  # [1, Tp + L]
        self.masked = torch.zeros(1, self.prompt_len + length, dtype=torch.bool)
        self.masked[0, self.prompt_len :] = True
        self.index = self.progress = None
        self.steps = 0  # forward passes so far (durations, PAR, refinement)
        if model.config.aligned:
            self.durations = self._durations(target_start) if durations is None else durations
            first = torch.tensor([self.prompt_len])
            self.index, self.progress = frame_phonemes(
                self.durations[None], first, self.prompt_len + length
            )
        self.confidence = torch.zeros(length)
        self.committed = 0
        self.refined = torch.zeros(length, dtype=torch.bool)

    @torch.inference_mode()
    def _durations(self, target_start: int | None) -> torch.Tensor:
        """Frames per text position ``[Lt]``: zero for the prompt's phonemes, the target's
        share of ``length`` by the duration head."""
        if target_start is None or not 0 <= target_start < self.text.shape[1]:
            raise UserError("an aligned PAR model needs target_start inside the text")
        self.steps += 1
        log_d = self.model.log_durations(self.text, self.text_lens, self.speaker)[0]
        return target_durations(log_d, target_start, self.length)

    @property
    def generated(self) -> torch.Tensor:
        """Committed target frames: codes ``[committed]`` or latents ``[D, committed]``."""
        return self.frames[0, ..., self.prompt_len : self.prompt_len + self.committed]

    def _predict(self, model: PARModel, rows: torch.Tensor):
        """One forward pass; predictions at absolute frame positions ``rows``."""
        self.steps += 1
        lens = torch.tensor([self.frames.shape[-1]])
        speaker = self.speaker if model.config.speaker_dim else None  # the refiner's own config
        out = model.logits(
            self.text,
            self.text_lens,
            self.frames,
            lens,
            self.masked,
            self.index,
            self.progress,
            speaker,
        )
        return tuple(o[0, rows] for o in out) if isinstance(out, tuple) else out[0, rows]

    def _write(self, rows: torch.Tensor, values: torch.Tensor) -> None:
        if self.model.continuous:
            self.frames[0, :, rows] = values.T
        else:
            self.frames[0, rows] = values
        self.masked[0, rows] = False

    @torch.inference_mode()
    def step(self) -> torch.Tensor | None:
        if self.committed >= self.length:
            return None
        start = self.prompt_len + self.committed
        rows = torch.arange(start, min(start + self.options.span, self.prompt_len + self.length))
        values, confidence = _draw(self._predict(self.model, rows), self.options, self.rng)
        self._write(rows, values)
        self.confidence[self.committed : self.committed + len(rows)] = confidence
        self.committed += len(rows)
        return self.frames[0, ..., rows]

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
            rows = chosen + self.prompt_len
            self.masked[0, rows] = True
            values, confidence = _draw(self._predict(refiner, rows), self.options, self.rng)
            self._write(rows, values)
            self.confidence[chosen] = confidence
            self.refined[chosen] = True
            passes.append(chosen)
        return passes

    def fill(self, frames: torch.Tensor, confidence: torch.Tensor) -> None:
        """Take the whole target from elsewhere (``frames``: codes ``[L]`` or latents
        ``[D, L]``, ``confidence [L]``), as if the PAR pass had made it; then ``refine``."""
        if frames.shape[-1] != self.length or confidence.shape != (self.length,):
            raise ValueError(f"fill() needs {self.length} frames and as many confidences")
        rows = torch.arange(self.prompt_len, self.prompt_len + self.length)
        self._write(rows, frames.T if self.model.continuous else frames)
        self.confidence = confidence.float().clone()
        self.committed = self.length

    def generate(self, refiner: PARModel | None = None) -> torch.Tensor:
        """PAR to the end, then refinement if a refiner is given; returns the target frames."""
        while self.step() is not None:
            pass
        if refiner is not None and self.options.refine_iterations:
            self.refine(refiner)
        return self.generated
