"""A global speaker embedding beside the in-context prompt, shared by every model family.

``SpeakerConditioned`` is mixed into a model whose ``config.speaker_dim`` is the embedding's size
(e.g. resemblyzer's 256-dim d-vector) and that owns ``speaker_proj = nn.Linear(speaker_dim, C)``:
the projected embedding is added to every input position (text and audio alike), so the text
states, the duration head and every audio step see the voice. A model with ``speaker_dim`` 0 has
no projection and refuses an embedding.
"""

from __future__ import annotations

import torch


class SpeakerConditioned:
    config: object  # an LMConfig
    training: bool

    def speaker_inputs(self, speaker: torch.Tensor | None, B: int) -> torch.Tensor | None:
        """``speaker [B, E]`` (or None: a zero embedding, the unconditioned model) -> ``[B, 1, C]``
        added to every position; None for a model without speaker conditioning."""
        speaker = self.checked_speaker(speaker, B)
        return None if speaker is None else self.speaker_rows(speaker)

    def checked_speaker(self, speaker: torch.Tensor | None, B: int) -> torch.Tensor | None:
        """``speaker [B, E]`` checked against the model (zeros for None), or None for a model
        without speaker conditioning (which refuses an embedding)."""
        dim = self.config.speaker_dim
        if not dim:
            if speaker is not None:
                raise ValueError("this model takes no speaker embedding (speaker_dim 0)")
            return None
        if speaker is None:
            return torch.zeros(B, dim)
        if speaker.shape != (B, dim):
            raise ValueError(
                f"speaker embedding of shape {tuple(speaker.shape)}; expected ({B}, {dim})"
            )
        return speaker

    def speaker_rows(self, speaker: torch.Tensor) -> torch.Tensor:
        """The projection itself: ``[B, E]`` -> ``[B, 1, C]`` (an ONNX runtime runs a graph)."""
        return self.speaker_proj(speaker.to(self.speaker_proj.weight.dtype))[:, None]

    def training_speaker(self, batch, generator=None) -> torch.Tensor | None:
        """The batch's speaker embeddings ``[B, E]`` with ``speaker_dropout`` of them zeroed in
        training (None for a model without speaker conditioning)."""
        if not self.config.speaker_dim:
            return None
        if batch.speaker is None:
            raise ValueError("a speaker-conditioned model trains on batches with speaker")
        speaker = batch.speaker
        if self.training and self.config.speaker_dropout:
            keep = torch.rand(speaker.shape[0], generator=generator) >= self.config.speaker_dropout
            speaker = speaker * keep[:, None].to(speaker.dtype)
        return speaker


def with_speaker(x: torch.Tensor, cond: torch.Tensor | None) -> torch.Tensor:
    """``x [B, N, C]`` plus the projected speaker ``cond [B, 1, C]`` (unchanged for None)."""
    return x if cond is None else x + cond
