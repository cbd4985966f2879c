"""PALLE-style pseudo-autoregressive (PAR) generation and NAR refinement.

``PARModel`` is bidirectional over ``[text ; audio frames]`` where some audio frames are the
mask token; it predicts every masked frame (first codebook). Stage one trains PALLE's way: pick
``s``, mask every frame ``>= s`` and take the loss on the left-most ``k = floor(0.1 T)`` masked
frames only. Stage two (the refinement model, fine-tuned from stage one) trains on i.i.d. masks.
Generation and refinement live in ``models.par_generate``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from models.codec_lm import LMBatch
from models.config import LMConfig
from models.frames import DiscreteFrames
from models.masks import lengths_to_valid, text_audio_mask, text_audio_positions
from models.transformer import Transformer


def par_loss_mask(audio_lens: torch.Tensor, T: int, generator=None, ratio: float = 0.1):
    """PALLE's stage-one mask. Returns ``(masked, scored)``, both ``[B, T]`` bool: every frame
    from a random ``s`` on is masked; only the left-most ``max(1, floor(ratio * len))`` masked
    frames are scored."""
    B = audio_lens.shape[0]
    k = torch.clamp((ratio * audio_lens).floor().long(), min=1)
    s = (torch.rand(B, generator=generator) * (audio_lens - k + 1).float()).long()
    idx = torch.arange(T, device=audio_lens.device)[None]
    masked = (idx >= s[:, None]) & (idx < audio_lens[:, None])
    scored = masked & (idx < (s + k)[:, None])
    return masked, scored


def iid_loss_mask(audio_lens: torch.Tensor, T: int, prompt_lens: torch.Tensor, generator=None):
    """Refinement-stage mask: frames after the prompt are masked i.i.d. with a per-utterance
    rate drawn from U(0.05, 0.6); every masked frame is scored. Prompt frames are never masked."""
    B = audio_lens.shape[0]
    rate = 0.05 + 0.55 * torch.rand(B, 1, generator=generator)
    idx = torch.arange(T, device=audio_lens.device)[None]
    target = (idx >= prompt_lens[:, None]) & (idx < audio_lens[:, None])
    masked = target & (torch.rand(B, T, generator=generator) < rate)
    # at least one masked frame per utterance (the first target frame if the draw gave none)
    none = ~masked.any(dim=1)
    masked[none, prompt_lens[none]] = True
    return masked, masked


class PARModel(nn.Module):
    def __init__(self, config: LMConfig):
        super().__init__()
        if config.family != "par" or config.patch != 1:
            raise ValueError("PARModel needs family 'par' and patch 1")
        self.config = config
        dim = config.transformer.dim
        self.text_embed = nn.Embedding(config.num_symbols, dim)
        self.frames = DiscreteFrames(config.cardinality, 1, dim, extra_tokens=1)
        self.mask_token = config.cardinality + 1
        self.core = Transformer(config.transformer)

    def logits(
        self, text, text_lens, frames: torch.Tensor, audio_lens: torch.Tensor
    ) -> torch.Tensor:
        """``frames [B, T]`` (codes or the mask token) -> logits ``[B, T, K]`` (no EOS class:
        the length is fixed in advance)."""
        lt, la = text.shape[1], frames.shape[1]
        x = torch.cat([self.text_embed(text), self.frames.to_steps(frames)], dim=1)
        mask = text_audio_mask(text_lens, audio_lens, lt, la, causal=False)
        h = self.core(x, text_audio_positions(text_lens, lt, la), mask)[:, lt:]
        return self.frames.logits(h)[:, :, 0, : self.config.cardinality]

    def forward(
        self, batch: LMBatch, stage: str = "par", generator=None
    ) -> dict[str, torch.Tensor]:
        """Masked-prediction loss; ``stage`` is ``"par"`` (PALLE mask) or ``"refine"`` (i.i.d.)."""
        codes = batch.codes[:, 0]
        B, T = codes.shape
        if stage == "par":
            masked, scored = par_loss_mask(batch.audio_lens, T, generator)
        elif stage == "refine":
            prompt_lens = (
                batch.audio_lens.float() * 0.3 * torch.rand(B, generator=generator)
            ).long()
            masked, scored = iid_loss_mask(batch.audio_lens, T, prompt_lens, generator)
        else:
            raise ValueError(f"unknown PAR stage {stage!r}")
        frames = codes.masked_fill(masked, self.mask_token)
        frames = frames.masked_fill(~lengths_to_valid(batch.audio_lens, T), self.mask_token)
        logits = self.logits(batch.text, batch.text_lens, frames, batch.audio_lens)
        ce = F.cross_entropy(logits[scored], codes[scored])
        return {"loss": ce, "ce": ce}
