"""Phoneme durations from CTC posteriors by Viterbi (no external aligner).

Given frame-level log-probabilities over phonemes + blank (e.g. from a model's CTC head, run
teacher-forced, or ``models.aligner.CTCAligner``), the best CTC path assigns every frame to one
phoneme. Blank frames count for the phoneme before them (``blanks="previous"``, right for a
causal model whose spikes come late) or are split at the middle of each blank run between its
two neighbours (``blanks="midpoint"``, right for a bidirectional model whose spikes sit inside
the phoneme); leading blanks go to the first phoneme, trailing ones to the last. The durations
sum to the frame count.
"""

from __future__ import annotations

import torch


def ctc_viterbi_durations(
    log_probs: torch.Tensor, tokens: torch.Tensor, blank: int, blanks: str = "previous"
) -> torch.Tensor:
    """``log_probs [T, V + 1]``, ``tokens [N]`` -> durations ``[N]`` (int64, sum T).

    Needs ``T >= N`` plus one frame per repeated neighbour pair (CTC's blank between repeats).
    """
    T, N = log_probs.shape[0], tokens.shape[0]
    if N == 0:
        raise ValueError("cannot align an empty phoneme sequence")
    S = 2 * N + 1
    ext = torch.full((S,), blank, dtype=torch.long)
    ext[1::2] = tokens
    # a state may come from s, s-1, or s-2 when s is a token differing from the token at s-2
    skip = torch.zeros(S, dtype=torch.bool)
    skip[3::2] = tokens[1:] != tokens[:-1]
    emit = log_probs[:, ext].float()  # [T, S]
    neg = torch.tensor(float("-inf"))
    score = torch.full((S,), float("-inf"))
    score[:2] = emit[0, :2]
    back = torch.zeros(T, S, dtype=torch.long)
    idx = torch.arange(S)
    for t in range(1, T):
        stay = score
        step = torch.cat([neg[None], score[:-1]])
        jump = torch.where(skip, torch.cat([neg.repeat(2), score[:-2]]), neg)
        options = torch.stack([stay, step, jump])  # [3, S]
        best, arg = options.max(dim=0)
        score = best + emit[t]
        back[t] = idx - arg
    end = S - 1 if score[S - 1] >= score[S - 2] else S - 2
    if not torch.isfinite(score[end]):
        raise ValueError(f"{T} frames cannot be aligned to {N} phonemes")
    path = torch.empty(T, dtype=torch.long)
    path[-1] = end
    for t in range(T - 1, 0, -1):
        path[t - 1] = back[t, path[t]]
    token_of_state = torch.clamp((path - 1) // 2, min=0)  # blank 2i+2 -> token i; blank 0 -> 0
    if blanks == "midpoint":
        token_of_state = _split_blank_runs(path, token_of_state, N)
    elif blanks != "previous":
        raise ValueError(f"blanks must be 'previous' or 'midpoint', not {blanks!r}")
    return torch.bincount(token_of_state, minlength=N)


def _split_blank_runs(path: torch.Tensor, token: torch.Tensor, N: int) -> torch.Tensor:
    """Give the second half of every inner blank run (state ``2i``, ``0 < i < N``) to token i."""
    token = token.clone()
    states, counts = torch.unique_consecutive(path, return_counts=True)
    start = 0
    for state, count in zip(states.tolist(), counts.tolist(), strict=True):
        if state % 2 == 0 and 0 < state // 2 < N:
            half = count // 2
            token[start + count - half : start + count] = state // 2
        start += count
    return token
