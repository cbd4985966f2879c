"""PALLE-style pseudo-autoregressive (PAR) generation and NAR refinement.

``PARModel`` is bidirectional over ``[text ; audio frames]`` where some audio frames are masked;
it predicts every masked frame: first-codebook codes (softmax, PALLE) or, when the config has
``latent_dim``, codec latents as a diagonal Gaussian trained with KL(posterior || prediction)
as in KALL-E. Stage one trains PALLE's way: pick ``s``, mask every frame ``>= s`` and take the
loss on the left-most ``k = floor(score_ratio * T)`` masked frames only (PALLE: 0.1). Stage two
(the refinement model, fine-tuned from stage one) trains on i.i.d. masks.

With ``aligned`` the model takes explicit durations: every target frame also carries the
embedding of the phoneme it belongs to (from CTC-Viterbi durations in training, from the
model's own duration head at inference) and its position inside that phoneme; prompt frames
carry none. The duration head reads the text states (text attends only to text, so it never
sees the audio) and predicts ``log(1 + frames)`` per phoneme. Generation and refinement live in
``models.par_generate``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from palette.models.alignment import MAX_PROGRESS, duration_loss, frame_phonemes, phone_inputs
from palette.models.codec_lm import LMBatch
from palette.models.config import LMConfig
from palette.models.frames import DiscreteFrames, GaussianFrames, gaussian_kl
from palette.models.masks import lengths_to_valid, text_audio_mask, text_audio_positions
from palette.models.speaker import SpeakerConditioned, with_speaker
from palette.models.transformer import Transformer


def par_loss_mask(audio_lens: torch.Tensor, T: int, generator=None, ratio: float = 0.1):
    """PALLE's stage-one mask. Returns ``(masked, scored)``, both ``[B, T]`` bool: every frame
    from a random ``s`` on is masked; only the left-most ``max(1, floor(ratio * len))`` masked
    frames are scored. ``ratio <= 0`` scores every masked frame (more signal per step, for
    models whose frames know their phonemes)."""
    B = audio_lens.shape[0]
    if ratio <= 0:  # every masked frame is scored; s anywhere in the utterance
        k = audio_lens
        s = (torch.rand(B, generator=generator) * audio_lens.float()).long()
    else:
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


class PARModel(SpeakerConditioned, nn.Module):
    def __init__(self, config: LMConfig):
        super().__init__()
        if config.family != "par" or config.patch != 1:
            raise ValueError("PARModel needs family 'par' and patch 1")
        self.config = config
        dim = config.transformer.dim
        self.continuous = config.latent_dim > 0
        self.text_embed = nn.Embedding(config.num_symbols, dim)
        if self.continuous:
            self.frames = GaussianFrames(config.latent_dim, 1, dim, stop=False)
            self.mask_embed = nn.Parameter(0.02 * torch.randn(dim))
        else:
            self.frames = DiscreteFrames(config.cardinality, 1, dim, extra_tokens=1)
            self.mask_token = config.cardinality + 1
        if config.aligned:
            self.progress_embed = nn.Embedding(MAX_PROGRESS, dim)
            self.duration_head = nn.Linear(dim, 1)
        if config.speaker_dim:
            self.speaker_proj = nn.Linear(config.speaker_dim, dim)
        self.core = Transformer(config.transformer)

    def audio_inputs(self, frames, masked, phone_index=None, progress=None, text=None):
        """Frame embeddings ``[B, T, C]``. ``frames``: codes ``[B, T]`` or latents ``[B, D, T]``;
        ``masked [B, T]`` bool; aligned models also take ``phone_index``/``progress [B, T]``
        (see ``frame_phonemes``) and the ``text [B, Lt]`` they index."""
        if self.continuous:
            x = self.frames.to_steps(frames)
            x = torch.where(masked[..., None], self.mask_embed.to(x.dtype), x)
        else:
            x = self.frames.to_steps(frames.masked_fill(masked, self.mask_token))
        if self.config.aligned:
            x = x + phone_inputs(self.text_embed, self.progress_embed, text, phone_index, progress)
        return x

    def states(self, text, text_lens, audio: torch.Tensor, audio_lens, speaker=None):
        """``[text ; audio]`` (plus the projected ``speaker [B, E]`` at every position) through
        the core -> states ``[B, Lt + T, C]``."""
        lt, la = text.shape[1], audio.shape[1]
        x = torch.cat([self.text_embed(text), audio], dim=1)
        x = with_speaker(x, self.speaker_inputs(speaker, x.shape[0]))
        mask = text_audio_mask(text_lens, audio_lens, lt, la, causal=False)
        return self.core(x, text_audio_positions(text_lens, lt, la), mask)

    def predict(self, h: torch.Tensor):
        """Audio states ``[B, T, C]`` -> logits ``[B, T, K]`` (no EOS class: the length is fixed
        in advance) or, for latents, ``(mean, logstd)`` each ``[B, T, D]``."""
        if self.continuous:
            mean, logstd, _ = self.frames.predict(h)
            return mean[:, :, 0], logstd[:, :, 0]
        return self.frames.logits(h)[:, :, 0, : self.config.cardinality]

    def logits(
        self,
        text,
        text_lens,
        frames,
        audio_lens,
        masked=None,
        phone_index=None,
        progress=None,
        speaker=None,
    ):
        """Predictions for every frame (see ``predict``); discrete frames may mark masked
        positions with ``mask_token`` instead of passing ``masked``."""
        if masked is None:
            masked = frames == self.mask_token
        audio = self.audio_inputs(frames, masked, phone_index, progress, text)
        h = self.states(text, text_lens, audio, audio_lens, speaker)[:, text.shape[1] :]
        return self.predict(h)

    def log_durations(self, text: torch.Tensor, text_lens: torch.Tensor, speaker=None):
        """Predicted ``log(1 + frames)`` per phoneme ``[B, Lt]`` (aligned models; the speaker
        embedding, when the model takes one, sets the pace too)."""
        empty = torch.zeros(text.shape[0], 0, self.config.transformer.dim)
        h = self.states(text, text_lens, empty, torch.zeros_like(text_lens), speaker)
        return self.duration_head(h).squeeze(-1)

    def forward(
        self, batch: LMBatch, stage: str = "par", generator=None
    ) -> dict[str, torch.Tensor]:
        """Masked-prediction loss; ``stage`` is ``"par"`` (PALLE mask) or ``"refine"`` (i.i.d.)."""
        lens = batch.audio_lens
        B, T = lens.shape[0], int(lens.max())
        if stage == "par":
            masked, scored = par_loss_mask(lens, T, generator, self.config.score_ratio)
            start = (~masked & lengths_to_valid(lens, T)).sum(1)  # s of every utterance
            prompt_lens = (start.float() * torch.rand(B, generator=generator)).long()
        elif stage == "refine":
            prompt_lens = (lens.float() * 0.3 * torch.rand(B, generator=generator)).long()
            masked, scored = iid_loss_mask(lens, T, prompt_lens, generator)
        else:
            raise ValueError(f"unknown PAR stage {stage!r}")
        masked = masked | ~lengths_to_valid(lens, T)
        speaker = self.training_speaker(batch, generator)
        index = progress = None
        if self.config.aligned:
            if batch.durations is None:
                raise ValueError("an aligned PAR model trains on batches with durations")
            index, progress = frame_phonemes(batch.durations, torch.zeros_like(lens), T)
            is_prompt = lengths_to_valid(prompt_lens, T)
            index = index.masked_fill(is_prompt, -1)  # the prompt carries no phonemes
        if self.continuous:
            q_mean, q_logstd = batch.latent_mean[..., :T], batch.latent_logstd[..., :T]
            fed = q_mean + torch.exp(q_logstd) * torch.randn_like(q_mean)  # posterior sample
            if self.config.noise_std and self.training:
                fed = fed + self.config.noise_std * torch.randn_like(fed)
            p_mean, p_logstd = self.logits(
                batch.text, batch.text_lens, fed, lens, masked, index, progress, speaker
            )
            kl = gaussian_kl(q_mean.transpose(1, 2), q_logstd.transpose(1, 2), p_mean, p_logstd)
            frame_loss = kl[scored].mean()  # per latent dimension
            losses = {"loss": frame_loss, "kl": frame_loss}
        else:
            codes = batch.codes[:, 0, :T]
            logits = self.logits(
                batch.text, batch.text_lens, codes, lens, masked, index, progress, speaker
            )
            frame_loss = F.cross_entropy(logits[scored], codes[scored])
            losses = {"loss": frame_loss, "ce": frame_loss}
        if self.config.aligned:
            pred = self.log_durations(batch.text, batch.text_lens, speaker)
            losses["dur"] = duration_loss(pred, batch.durations, batch.text_lens)
            losses["loss"] = losses["loss"] + losses["dur"]
        return losses
