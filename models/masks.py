"""Attention masks (``True`` = may attend) and position ids for [text ; audio] sequences.

A batch is laid out as ``[text padded to Lt ; audio padded to La]``. Text attends to text
bidirectionally; audio attends to all text and, causally or bidirectionally, to audio.
Padding is never attended to as a key; every query also attends to itself, which keeps the
softmax of padded queries finite.
"""

from __future__ import annotations

import torch


def lengths_to_valid(lengths: torch.Tensor, max_len: int) -> torch.Tensor:
    """``lengths [B]`` -> ``valid [B, max_len]`` (bool)."""
    return torch.arange(max_len, device=lengths.device)[None, :] < lengths[:, None]


def text_audio_mask(
    text_lens: torch.Tensor, audio_lens: torch.Tensor, lt: int, la: int, causal: bool
) -> torch.Tensor:
    """Mask ``[B, 1, Lt + La, Lt + La]`` for the padded layout ``[text ; audio]``."""
    valid = torch.cat([lengths_to_valid(text_lens, lt), lengths_to_valid(audio_lens, la)], dim=1)
    T = lt + la
    is_audio = torch.arange(T, device=text_lens.device) >= lt
    q_audio, k_audio = is_audio[:, None], is_audio[None, :]
    allowed = ~k_audio | q_audio  # text keys for everyone, audio keys for audio queries
    if causal:
        idx = torch.arange(T, device=text_lens.device)
        allowed = allowed & (~k_audio | (idx[None, :] <= idx[:, None]))
    mask = allowed[None] & valid[:, None, :]
    mask = mask | torch.eye(T, dtype=torch.bool, device=mask.device)[None]
    return mask[:, None]


def text_audio_positions(text_lens: torch.Tensor, lt: int, la: int) -> torch.Tensor:
    """Positions ``[B, Lt + La]``: text 0..Lt-1, audio continues right after each real text."""
    text_pos = torch.arange(lt, device=text_lens.device)[None].expand(text_lens.shape[0], lt)
    audio_pos = text_lens[:, None] + torch.arange(la, device=text_lens.device)[None]
    return torch.cat([text_pos, audio_pos], dim=1)
