"""A CTC aligner: phoneme durations for any corpus without an external aligner.

A stack of residual 1-D convolutions over codec frames (latent means when the codec has them,
else first-codebook codes) with a CTC head over phonemes + blank. Its receptive field is local
(``layers * (kernel - 1) + 1`` frames), so a phoneme's CTC spike can only sit near the frames
that carry it: the Viterbi path (``models.align``) then gives durations that follow the audio.
Sizes come from ``LMConfig`` (family ``"align"``): ``transformer.dim`` is the channel count and
``transformer.layers`` the number of conv blocks.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from palette.models.align import ctc_viterbi_durations
from palette.models.codec_lm import LMBatch
from palette.models.config import LMConfig
from palette.models.masks import lengths_to_valid

KERNEL = 5


class ConvBlock(nn.Module):
    def __init__(self, dim: int):
        super().__init__()
        self.conv = nn.Conv1d(dim, dim, KERNEL, padding=KERNEL // 2)
        self.norm = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 2 * dim), nn.GELU(), nn.Linear(2 * dim, dim))

    def forward(self, x: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        """``x [B, T, C]``, ``valid [B, T]`` -> ``[B, T, C]`` (padding kept at zero)."""
        h = self.conv((x * valid[..., None]).transpose(1, 2)).transpose(1, 2)
        return x + self.mlp(self.norm(h))


class CTCAligner(nn.Module):
    def __init__(self, config: LMConfig):
        super().__init__()
        if config.family != "align":
            raise ValueError("CTCAligner needs family 'align'")
        self.config = config
        dim = config.transformer.dim
        self.continuous = config.latent_dim > 0
        if self.continuous:
            self.inp = nn.Linear(config.latent_dim, dim)
        else:
            self.inp = nn.Embedding(config.cardinality, dim)
        self.blocks = nn.ModuleList(ConvBlock(dim) for _ in range(config.transformer.layers))
        self.out_norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, config.num_symbols + 1)  # class num_symbols is the blank

    @property
    def blank(self) -> int:
        return self.config.num_symbols

    def log_probs(self, frames: torch.Tensor, audio_lens: torch.Tensor) -> torch.Tensor:
        """latents ``[B, D, T]`` or codes ``[B, T]`` -> log-probabilities ``[B, T, V + 1]``."""
        x = self.inp(frames.transpose(1, 2)) if self.continuous else self.inp(frames)
        valid = lengths_to_valid(audio_lens, x.shape[1])
        for block in self.blocks:
            x = block(x, valid)
        return self.head(self.out_norm(x)).float().log_softmax(-1)

    def inputs(self, batch: LMBatch) -> torch.Tensor:
        return batch.latent_mean if self.continuous else batch.codes[:, 0]

    def forward(self, batch: LMBatch) -> dict[str, torch.Tensor]:
        log_probs = self.log_probs(self.inputs(batch), batch.audio_lens)
        ctc = F.ctc_loss(
            log_probs.transpose(0, 1),
            batch.text,
            batch.audio_lens,
            batch.text_lens,
            blank=self.blank,
            zero_infinity=True,
        )
        return {"loss": ctc, "ctc": ctc}

    @torch.inference_mode()
    def durations(self, batch: LMBatch, blanks: str = "midpoint") -> list[torch.Tensor | None]:
        """Frames per phoneme of every utterance in the batch: a list of ``[Lt_b]`` (sum
        ``audio_len_b``), ``None`` where an utterance is too short for its phonemes."""
        log_probs = self.log_probs(self.inputs(batch), batch.audio_lens)
        out = []
        for b in range(log_probs.shape[0]):
            n, t = int(batch.text_lens[b]), int(batch.audio_lens[b])
            try:
                out.append(
                    ctc_viterbi_durations(log_probs[b, :t], batch.text[b, :n], self.blank, blanks)
                )
            except ValueError:
                out.append(None)
        return out
