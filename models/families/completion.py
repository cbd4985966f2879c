"""Codebook completion: first-codebook codes from an AR or PAR family -> all codebooks, by the
NAR stage, chunk by chunk (the NAR model sees the prompt and every frame completed so far)."""

from __future__ import annotations

from collections.abc import Iterator

import torch

from palette.codec import UserError
from palette.models.families.base import Models, SentenceRequest, rechunk


def complete_codebooks(
    first: Iterator[torch.Tensor], request: SentenceRequest, models: Models, chunk: int
) -> Iterator[torch.Tensor]:
    """First-codebook pieces ``[t]`` -> all codebooks ``[Q, t']``."""
    prompt = request.prompt_codes
    if prompt.shape[0] == 1:
        yield from (piece[None] for piece in first)
        return
    if "nar" not in models:
        raise UserError("the codec has several codebooks but the model has no nar stage")
    nar, prefix = models["nar"], prompt
    for piece in rechunk(first, chunk):
        full = nar.complete(request.text, prefix, piece)
        prefix = torch.cat([prefix, full], dim=-1)
        yield full
