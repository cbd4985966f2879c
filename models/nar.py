"""VALL-E's non-autoregressive model for the codebooks after the first.

For codebook ``j >= 1`` the input of every target frame is the sum of its embeddings of
codebooks ``< j``; prompt frames carry all their codebooks. A stage embedding tells the model
which ``j`` it predicts. Text attends bidirectionally, as does audio (``[text ; audio]``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from palette.models.codec_lm import LMBatch
from palette.models.config import LMConfig
from palette.models.masks import lengths_to_valid, text_audio_mask, text_audio_positions
from palette.models.transformer import Transformer


class NARModel(nn.Module):
    def __init__(self, config: LMConfig):
        super().__init__()
        if config.family != "nar" or config.num_codebooks < 2:
            raise ValueError("NARModel needs family 'nar' and at least 2 codebooks")
        self.config = config
        Q, K, dim = config.num_codebooks, config.cardinality, config.transformer.dim
        self.text_embed = nn.Embedding(config.num_symbols, dim)
        self.code_embed = nn.ModuleList(nn.Embedding(K, dim) for _ in range(Q))
        self.stage_embed = nn.Embedding(Q, dim)
        self.core = Transformer(config.transformer)
        self.heads = nn.ModuleList(nn.Linear(dim, K) for _ in range(Q))  # head 0 unused

    def logits(self, text, text_lens, codes, audio_lens, prompt_lens, stage: int) -> torch.Tensor:
        """``codes [B, Q, T]`` (target frames need codebooks ``< stage`` only) -> logits of
        codebook ``stage``, ``[B, T, K]``."""
        B, Q, T = codes.shape
        is_prompt = lengths_to_valid(prompt_lens, T)
        audio = torch.zeros(B, T, self.config.transformer.dim, device=codes.device)
        for c in range(Q):
            visible = is_prompt if c >= stage else torch.ones_like(is_prompt)
            audio = audio + self.code_embed[c](codes[:, c]) * visible[..., None]
        audio = audio + self.stage_embed.weight[stage]
        lt = text.shape[1]
        x = torch.cat([self.text_embed(text), audio], dim=1)
        mask = text_audio_mask(text_lens, audio_lens, lt, T, causal=False)
        h = self.core(x, text_audio_positions(text_lens, lt, T), mask)[:, lt:]
        return self.heads[stage](h)

    def forward(self, batch: LMBatch, generator=None) -> dict[str, torch.Tensor]:
        """Loss on one random codebook ``j >= 1`` over the non-prompt frames."""
        codes, lens = batch.codes, batch.audio_lens
        B, Q, T = codes.shape
        stage = int(torch.randint(1, Q, (1,), generator=generator))
        prompt_lens = (lens.float() * 0.5 * torch.rand(B, generator=generator)).long()
        logits = self.logits(batch.text, batch.text_lens, codes, lens, prompt_lens, stage)
        scored = lengths_to_valid(lens, T) & ~lengths_to_valid(prompt_lens, T)
        ce = F.cross_entropy(logits[scored], codes[:, stage][scored])
        return {"loss": ce, "ce": ce}

    @torch.inference_mode()
    def complete(
        self, text: torch.Tensor, prompt: torch.Tensor, first: torch.Tensor
    ) -> torch.Tensor:
        """Fill in codebooks ``1..Q-1`` greedily. ``text [Lt]``, ``prompt [Q, Tp]``,
        ``first [T]`` (generated codebook 0) -> codes of the target ``[Q, T]``."""
        Q, Tp = prompt.shape
        T = first.shape[0]
        codes = torch.zeros(1, Q, Tp + T, dtype=torch.long)
        codes[0, :, :Tp] = prompt
        codes[0, 0, Tp:] = first
        lens, plens = torch.tensor([Tp + T]), torch.tensor([Tp])
        for stage in range(1, Q):
            logits = self.logits(text[None], torch.tensor([len(text)]), codes, lens, plens, stage)
            codes[0, stage, Tp:] = logits[0, Tp:].argmax(-1)
        return codes[0, :, Tp:]
