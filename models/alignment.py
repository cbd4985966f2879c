"""Explicit durations shared by the aligned families (latent PAR, aligned AR/KALL-E): which
phoneme every frame carries, how a frame's phoneme enters the model, the duration loss, and the
target's durations at inference from a model's duration head.

Aligned models add to every target frame's input the embedding of its phoneme and of its
position inside that phoneme; prompt frames carry none. Durations come from CTC-Viterbi in
training (``models.align``) and from the model's own duration head at inference.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from palette.models.masks import lengths_to_valid

MAX_PROGRESS = 16  # frame-within-phoneme positions embedded (longer phonemes share the last)


def frame_phonemes(durations: torch.Tensor, first_frame: torch.Tensor, T: int):
    """Which phoneme every frame carries. ``durations [B, Lt]`` (frames per phoneme; the
    alignment starts at ``first_frame [B]``) -> ``index [B, T]`` (text position, -1 = none) and
    ``progress [B, T]`` (frame index inside its phoneme)."""
    B = durations.shape[0]
    index = torch.full((B, T), -1, dtype=torch.long, device=durations.device)
    progress = torch.zeros(B, T, dtype=torch.long, device=durations.device)
    for b in range(B):
        d = durations[b]
        pos = torch.arange(d.shape[0], device=d.device).repeat_interleave(d)
        starts = torch.cumsum(d, 0) - d
        inner = torch.arange(pos.shape[0], device=d.device) - starts[pos]
        f0 = int(first_frame[b])
        n = min(pos.shape[0], T - f0)
        index[b, f0 : f0 + n], progress[b, f0 : f0 + n] = pos[:n], inner[:n]
    return index, progress


def phone_inputs(
    text_embed: nn.Embedding,
    progress_embed: nn.Embedding,
    text: torch.Tensor,
    index: torch.Tensor,
    progress: torch.Tensor,
) -> torch.Tensor:
    """What aligned frames add to their inputs: ``[B, T, C]`` from ``text [B, Lt]`` and
    ``index``/``progress [B, T]`` (``frame_phonemes``); zero where ``index`` is -1."""
    has = (index >= 0)[..., None]
    phones = text_embed(text.gather(1, index.clamp(min=0)))
    steps = progress_embed(progress.clamp(max=MAX_PROGRESS - 1))
    return (phones + steps) * has


def duration_loss(
    log_durations: torch.Tensor, durations: torch.Tensor, text_lens: torch.Tensor
) -> torch.Tensor:
    """MSE of predicted ``log(1 + frames) [B, Lt]`` to the stored ``durations [B, Lt]``."""
    text_valid = lengths_to_valid(text_lens, durations.shape[1])
    target = torch.log1p(durations.float())
    return F.mse_loss(log_durations[text_valid], target[text_valid])


def spread_durations(log_durations: torch.Tensor, length: int) -> torch.Tensor:
    """Predicted ``log(1 + frames) [N]`` -> integer frames ``[N]`` summing to ``length``, in the
    predicted proportions (every phoneme weighs at least half a frame)."""
    weights = torch.expm1(log_durations.float()).clamp(min=0.5)
    ends = torch.round(torch.cumsum(weights, 0) / weights.sum() * length).long()
    return torch.diff(ends, prepend=ends.new_zeros(1))


def target_durations(log_durations: torch.Tensor, target_start: int, length: int) -> torch.Tensor:
    """Frames per text position ``[Lt]``: zero for the prompt's phonemes, the target's share of
    ``length`` by the predicted ``log_durations [Lt]``."""
    durations = torch.zeros(log_durations.shape[0], dtype=torch.long)
    durations[target_start:] = spread_durations(log_durations[target_start:], length)
    return durations
