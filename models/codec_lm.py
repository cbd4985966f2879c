"""Autoregressive codec language models on the shared core.

``CodecLM`` is the weights-only model (training ``forward`` returns losses). The sequence is
``[text phonemes ; BOS ; audio steps]``: text attends bidirectionally, audio causally. Family
``ar`` predicts codes of the first codebook plus end-of-speech (VALL-E); family ``kalle`` predicts
a diagonal Gaussian per latent frame plus a stop logit, trained with KL to the codec posterior
(KALL-E). An optional CTC head maps audio states to phonemes (alignment aid, later a draft
verifier). Generation lives in ``models.generate``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from palette.models.alignment import MAX_PROGRESS, duration_loss, frame_phonemes, phone_inputs
from palette.models.config import LMConfig
from palette.models.depth_frames import DepthFrames
from palette.models.frames import (
    DiscreteFrames,
    GaussianDraft,
    GaussianFrames,
    gaussian_kl,
    pad_to_patch,
)
from palette.models.masks import lengths_to_valid, text_audio_mask, text_audio_positions
from palette.models.speaker import SpeakerConditioned, with_speaker
from palette.models.transformer import KVCache, Transformer


@dataclass
class LMBatch:
    """A padded training batch. Text is padded with id 0; audio beyond ``audio_lens`` is junk."""

    text: torch.Tensor  # [B, Lt] phoneme ids
    text_lens: torch.Tensor  # [B]
    audio_lens: torch.Tensor  # [B] codec frames
    codes: torch.Tensor | None = None  # [B, Q, T] discrete codes
    latent_mean: torch.Tensor | None = None  # [B, D, T] codec posterior
    latent_logstd: torch.Tensor | None = None  # [B, D, T]
    durations: torch.Tensor | None = None  # [B, Lt] frames per phoneme (aligned PAR)
    speaker: torch.Tensor | None = None  # [B, E] speaker embeddings (models with speaker_dim)


DEPTH_HIDDEN = 256  # width of the depth head's correction (models.depth_frames)


class CodecLM(SpeakerConditioned, nn.Module):
    def __init__(self, config: LMConfig):
        super().__init__()
        if config.family not in ("ar", "kalle"):
            raise ValueError(f"CodecLM is autoregressive; got family {config.family!r}")
        self.config = config
        dim, patch = config.transformer.dim, config.patch
        self.text_embed = nn.Embedding(config.num_symbols, dim)
        self.bos = nn.Parameter(0.02 * torch.randn(dim))
        if config.depth:  # every codebook of a latent-RVQ codec, over a Gaussian
            self.frames = DepthFrames(
                config.num_codebooks, config.cardinality, config.latent_dim, dim, DEPTH_HIDDEN
            )
        elif config.family == "ar":
            self.frames = DiscreteFrames(config.cardinality, patch, dim)
        else:
            self.frames = GaussianFrames(config.latent_dim, patch, dim)
        self.core = Transformer(config.transformer)
        # CTC over phonemes at frame level; class num_symbols is the blank
        self.ctc = nn.Linear(dim, patch * (config.num_symbols + 1)) if config.ctc_weight else None
        # self-speculative draft head: each text state -> draft_upsample frames of codes + blank
        # (class cardinality is the blank), decoded by CTC to draft many codes at once
        k = config.draft_upsample
        self.draft = nn.Linear(dim, k * (config.cardinality + 1)) if k else None
        # kalle's self-speculative draft head: a Gaussian for each of the next draft_ahead steps
        # from one state and those steps' aligned phonemes
        self.gaussian_draft = (
            GaussianDraft(config.latent_dim, patch, dim, config.draft_ahead, config.draft_hidden)
            if config.draft_ahead
            else None
        )
        if config.aligned:  # explicit durations: every step also carries its phoneme
            self.progress_embed = nn.Embedding(MAX_PROGRESS, dim)
            self.duration_head = nn.Linear(dim, 1)
        if config.speaker_dim:
            self.speaker_proj = nn.Linear(config.speaker_dim, dim)

    @property
    def discrete(self) -> bool:
        return self.config.family == "ar"

    # --- sequence assembly -------------------------------------------------------------------
    def run(
        self,
        text: torch.Tensor,
        text_lens: torch.Tensor,
        steps: torch.Tensor,
        step_lens: torch.Tensor,
        cache: KVCache | None = None,
        with_text: bool = False,
        phones: torch.Tensor | None = None,
        speaker: torch.Tensor | None = None,
    ):
        """``[text ; BOS ; steps]`` through the core -> audio states ``[B, 1 + S, C]`` (the state
        at index s predicts audio step s). ``steps [B, S, C]`` are embedded audio steps.
        ``with_text`` also returns the text states ``[B, Lt, C]`` (the draft head reads them).
        Aligned models add ``phones [B, 1 + S, C]``: position s carries the phoneme of the step
        it predicts (``phone_inputs``). ``speaker [B, E]``: the speaker embedding of a
        speaker-conditioned model, added to every position (None: a zero embedding)."""
        B, lt = text.shape
        audio = torch.cat([self.bos.expand(B, 1, -1), steps], dim=1)
        if phones is not None:
            audio = audio + phones
        la = audio.shape[1]
        x = with_speaker(
            torch.cat([self.text_embed(text), audio], dim=1), self.speaker_inputs(speaker, B)
        )
        mask = text_audio_mask(text_lens, step_lens + 1, lt, la, causal=True)
        positions = text_audio_positions(text_lens, lt, la)
        out = self.core(x, positions, mask, cache)
        return (out[:, lt:], out[:, :lt]) if with_text else out[:, lt:]

    def phones(self, text: torch.Tensor, index: torch.Tensor, progress: torch.Tensor):
        """Aligned inputs ``[B, N, C]`` for positions whose steps carry ``index``/``progress``
        ``[B, N]`` (-1 = none)."""
        return phone_inputs(self.text_embed, self.progress_embed, text, index, progress)

    def log_durations(self, text: torch.Tensor, text_lens: torch.Tensor, speaker=None):
        """Predicted ``log(1 + frames)`` per phoneme ``[B, Lt]`` (aligned models); the text
        states never see audio, so this is one short pass (``speaker [B, E]`` as in ``run``)."""
        lt = text.shape[1]
        mask = text_audio_mask(text_lens, torch.zeros_like(text_lens), lt, 0, causal=False)
        x = with_speaker(self.text_embed(text), self.speaker_inputs(speaker, text.shape[0]))
        h = self.core(x, text_audio_positions(text_lens, lt, 0), mask)
        return self.duration_head(h).squeeze(-1)

    def _training_phones(self, batch: LMBatch, S: int, generator=None):
        """Aligned inputs for the S predicted steps of a batch, with a random prompt (a prefix
        that carries no phonemes, as at inference) per utterance."""
        if batch.durations is None:
            raise ValueError("an aligned model trains on batches with durations")
        P = self.config.patch
        lens = batch.audio_lens
        index, progress = frame_phonemes(batch.durations, torch.zeros_like(lens), S * P)
        index, progress = index[:, ::P], progress[:, ::P]  # a step carries its first frame's
        prompt = (lens.float() / P * 0.5 * torch.rand(lens.shape[0], generator=generator)).long()
        index = index.masked_fill(lengths_to_valid(prompt, S), -1)
        return self.phones(batch.text, index, progress)

    def _drop_frames(self, inputs: torch.Tensor) -> torch.Tensor:
        """Training: zero each step input ``[B, S, C]`` with probability ``frame_dropout``."""
        p = self.config.frame_dropout
        if not (p and self.training):
            return inputs
        keep = torch.rand(inputs.shape[:2], device=inputs.device) >= p
        return inputs * keep[..., None]

    def _own_draws(self, batch: LMBatch, fed: torch.Tensor, n_steps, phones, speaker=None):
        """Training, parallel scheduled sampling: a teacher-forced pass without gradients draws
        every step from the model's own prediction, and each fed step (codes ``[B, T]`` or
        latents ``[B, D, T]``, T = (S - 1) * patch) is replaced by that draw with probability
        ``own_inputs``, so that training sees the kind of history free-running decoding makes.
        With ``own_passes`` > 1 each further pass draws again from the mixed history of the pass
        before (the same steps replaced), so that a draw also carries its predecessors' errors."""
        p, P = self.config.own_inputs, self.config.patch
        if not (p and self.training):
            return fed
        mixed, replace = fed, None
        for _ in range(self.config.own_passes):
            drawn = self._draw_all(batch, mixed, n_steps, phones, speaker)
            if replace is None:
                replace = torch.rand(drawn.shape[0], drawn.shape[-1] // P, device=fed.device) < p
                replace = replace.repeat_interleave(P, dim=1)  # [B, T], per step
            mixed = torch.where(replace if self.discrete else replace[:, None], drawn, fed)
        return mixed

    @torch.no_grad()
    def _draw_all(self, batch: LMBatch, fed: torch.Tensor, n_steps, phones, speaker):
        """One teacher-forced pass over ``fed`` -> a draw for every fed step, shaped as ``fed``."""
        steps = self.step_inputs(fed)
        states = self.run(
            batch.text, batch.text_lens, steps, n_steps - 1, phones=phones, speaker=speaker
        )
        states = states[:, :-1]  # state s predicts step s: the draws for the fed steps
        if self.discrete:
            logits = self.frames.logits(states)[..., : self.config.cardinality].float()
            return torch.distributions.Categorical(logits=logits).sample().flatten(1)
        mean, logstd, _ = self.frames.predict(states)  # [B, S - 1, P, D]
        drawn = mean + logstd.exp() * torch.randn_like(mean)
        return drawn.permute(0, 3, 1, 2).flatten(2).to(fed.dtype)  # [B, D, T]

    def _duration_losses(self, losses: dict, batch: LMBatch, speaker) -> dict:
        if self.config.aligned:
            pred = self.log_durations(batch.text, batch.text_lens, speaker)
            losses["dur"] = duration_loss(pred, batch.durations, batch.text_lens)
            losses["loss"] = losses["loss"] + losses["dur"]
        return losses

    def draft_logits(self, text_states: torch.Tensor) -> torch.Tensor:
        """text states ``[B, L, C]`` -> draft logits ``[B, L * k, K + 1]`` (class K = blank)."""
        B, L, _ = text_states.shape
        return self.draft(text_states).view(B, L * self.config.draft_upsample, -1)

    def extend(
        self,
        steps: torch.Tensor,
        cache: KVCache,
        phones: torch.Tensor | None = None,
        speaker_rows: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Continue a cached sequence (batch of one layout) by ``steps [B, t, C]``: each new step
        attends to everything cached and, causally, to the new ones. -> states ``[B, t, C]``.
        Several steps at once is the verify pass of draft-and-verify decoding. ``phones``: as in
        ``run``, for the new positions. ``speaker_rows [B, 1, C]``: a speaker-conditioned
        model's projected speaker (``speaker_inputs``, made once per generation, not per step)."""
        start, t = cache.length, steps.shape[1]
        if phones is not None:
            steps = steps + phones
        steps = with_speaker(steps, speaker_rows)
        positions = (start + torch.arange(t, device=steps.device))[None].expand(steps.shape[0], t)
        mask = torch.ones(t, start + t, dtype=torch.bool, device=steps.device).tril(start)
        return self.core(steps, positions, mask[None, None], cache)

    def step_inputs(self, frames: torch.Tensor) -> torch.Tensor:
        """codes ``[B, T]`` or latents ``[B, D, T]`` (T a multiple of patch) -> ``[B, T/P, C]``."""
        return self.frames.to_steps(frames)

    # --- training ----------------------------------------------------------------------------
    def forward(self, batch: LMBatch) -> dict[str, torch.Tensor]:
        """Losses for one batch: ``loss`` (total) and its parts."""
        speaker = self.training_speaker(batch)  # one draw of the dropout for every pass
        if self.config.depth:
            losses = self._depth_losses(batch, speaker)
        elif self.discrete:
            losses = self._discrete_losses(batch, speaker)
        else:
            losses = self._gaussian_losses(batch, speaker)
        if self.ctc is not None:
            losses["ctc"] = self._ctc_loss(losses.pop("_states"), batch)
            losses["loss"] = losses["loss"] + self.config.ctc_weight * losses["ctc"]
        else:
            losses.pop("_states")
        return losses

    def _discrete_losses(self, batch: LMBatch, speaker) -> dict[str, torch.Tensor]:
        P, eos = self.config.patch, self.frames.eos
        codes = batch.codes[:, 0]
        B = codes.shape[0]
        # targets: codes, then EOS at audio_len and after, padded to whole steps
        frames = torch.cat([codes, codes.new_full((B, 1), eos)], dim=1)
        frames = frames.masked_fill(~lengths_to_valid(batch.audio_lens, frames.shape[1]), eos)
        frames = pad_to_patch(frames, P, eos)
        n_steps = (batch.audio_lens + 1 + P - 1) // P  # steps up to and including EOS
        S = int(n_steps.max())
        frames = frames[:, : S * P]
        phones = self._training_phones(batch, S) if self.config.aligned else None
        fed = self._own_draws(batch, frames[:, : (S - 1) * P], n_steps, phones, speaker)
        inputs = self._drop_frames(self.step_inputs(fed))
        if self.draft is not None:
            states, text_states = self.run(
                batch.text,
                batch.text_lens,
                inputs,
                n_steps - 1,
                with_text=True,
                phones=phones,
                speaker=speaker,
            )
        else:
            states = self.run(
                batch.text, batch.text_lens, inputs, n_steps - 1, phones=phones, speaker=speaker
            )
        logits = self.frames.logits(states)  # [B, S, P, K + 1]
        target_valid = lengths_to_valid(batch.audio_lens + 1, S * P)  # frames <= audio_len
        ce = F.cross_entropy(
            logits.reshape(-1, logits.shape[-1]), frames.reshape(-1), reduction="none"
        )
        ce = (ce * target_valid.reshape(-1)).sum() / target_valid.sum()
        losses = {"loss": ce, "ce": ce, "_states": states}
        if self.draft is not None:
            losses["draft"] = self._draft_loss(text_states, batch)
            losses["loss"] = ce + self.config.draft_weight * losses["draft"]
        return self._duration_losses(losses, batch, speaker)

    def _draft_loss(self, text_states: torch.Tensor, batch: LMBatch) -> torch.Tensor:
        """CTC from the upsampled text states to the first codebook's codes."""
        log_probs = self.draft_logits(text_states).float().log_softmax(-1).transpose(0, 1)
        lengths = batch.text_lens * self.config.draft_upsample
        return F.ctc_loss(
            log_probs,
            batch.codes[:, 0],
            lengths,
            batch.audio_lens,
            blank=self.config.cardinality,
            zero_infinity=True,
        )

    def _gaussian_losses(self, batch: LMBatch, speaker) -> dict[str, torch.Tensor]:
        P, cfg = self.config.patch, self.config
        q_mean = pad_to_patch(batch.latent_mean, P, 0.0)
        q_logstd = pad_to_patch(batch.latent_logstd, P, 0.0)
        n_steps = (batch.audio_lens + P - 1) // P + 1  # patches, then the stop step
        S = int(n_steps.max())
        q_mean = F.pad(q_mean, (0, S * P - q_mean.shape[-1]))[..., : S * P]
        q_logstd = F.pad(q_logstd, (0, S * P - q_logstd.shape[-1]))[..., : S * P]
        fed = q_mean + torch.exp(q_logstd) * torch.randn_like(q_mean)  # posterior sample
        if cfg.noise_std and self.training:
            fed = fed + cfg.noise_std * torch.randn_like(fed)  # noise augmentation
        phones = self._training_phones(batch, S) if self.config.aligned else None
        fed = self._own_draws(batch, fed[..., : (S - 1) * P], n_steps, phones, speaker)
        inputs = self._drop_frames(self.step_inputs(fed))
        states = self.run(
            batch.text, batch.text_lens, inputs, n_steps - 1, phones=phones, speaker=speaker
        )
        p_mean, p_logstd, stop_logit = self.frames.predict(states)  # [B, S, P, D], [B, S]
        B, D = q_mean.shape[:2]
        as_steps = lambda t: t.view(B, D, S, P).permute(0, 2, 3, 1)  # noqa: E731
        kl = gaussian_kl(as_steps(q_mean), as_steps(q_logstd), p_mean, p_logstd).sum(-1)
        frame_valid = lengths_to_valid(batch.audio_lens, S * P).view(B, S, P)
        kl = (kl * frame_valid).sum() / frame_valid.sum()
        stop = self._stop_loss(stop_logit, n_steps)
        losses = {"loss": kl / D + stop, "kl": kl, "stop": stop, "_states": states}
        if self.gaussian_draft is not None:
            q = as_steps(q_mean), as_steps(q_logstd)
            losses["draft"] = self._gaussian_draft_loss(states, phones, q, frame_valid) / D
            losses["loss"] = losses["loss"] + cfg.draft_weight * losses["draft"]
        return self._duration_losses(losses, batch, speaker)

    def _depth_losses(self, batch: LMBatch, speaker) -> dict[str, torch.Tensor]:
        """Cross-entropy of every codebook of every frame (each given the true earlier ones),
        ``ce`` in nats per frame summed over codebooks; the stop and draft losses as kalle's."""
        B, Q, _ = batch.codes.shape
        n_steps = batch.audio_lens + 1  # frames, then the stop step
        S = int(n_steps.max())
        codes = F.pad(batch.codes, (0, S - batch.codes.shape[-1]))[..., :S]  # [B, Q, S]
        phones = self._training_phones(batch, S) if self.config.aligned else None
        inputs = self._drop_frames(self.step_inputs(codes[..., : S - 1]))
        states = self.run(
            batch.text, batch.text_lens, inputs, n_steps - 1, phones=phones, speaker=speaker
        )
        mean, logstd, stop_logit = self.frames.predict(states)  # [B, S, 1, D], [B, S]
        logits = self.frames.teacher_logits(mean[:, :, 0], logstd[:, :, 0], codes)
        target = codes.transpose(1, 2).reshape(-1)
        ce = F.cross_entropy(logits.reshape(target.shape[0], -1).float(), target, reduction="none")
        frame_valid = lengths_to_valid(batch.audio_lens, S)
        ce = (ce.view(B, S, Q).sum(-1) * frame_valid).sum() / frame_valid.sum()
        stop = self._stop_loss(stop_logit, n_steps)
        losses = {"loss": ce / Q + stop, "ce": ce, "stop": stop, "_states": states}
        if self.gaussian_draft is not None and batch.latent_mean is not None:
            q = tuple(
                F.pad(x, (0, S - x.shape[-1])).transpose(1, 2)[:, :, None]
                for x in (batch.latent_mean, batch.latent_logstd)
            )  # [B, S, 1, D]
            draft = self._gaussian_draft_loss(states, phones, q, frame_valid[..., None])
            losses["draft"] = draft / self.config.latent_dim
            losses["loss"] = losses["loss"] + self.config.draft_weight * losses["draft"]
        return self._duration_losses(losses, batch, speaker)

    @staticmethod
    def _stop_loss(stop_logit: torch.Tensor, n_steps: torch.Tensor) -> torch.Tensor:
        """BCE of the stop logits ``[B, S]``: 1 at each sequence's last step ``n_steps - 1``."""
        S = stop_logit.shape[1]
        step_valid = lengths_to_valid(n_steps, S)
        stop_target = (
            torch.arange(S, device=n_steps.device)[None] == (n_steps - 1)[:, None]
        ).float()
        stop = F.binary_cross_entropy_with_logits(stop_logit, stop_target, reduction="none")
        return (stop * step_valid).sum() / step_valid.sum()

    def _gaussian_draft_loss(self, states, phones, q, frame_valid) -> torch.Tensor:
        """KL of every step ``k`` = 1..ahead ahead of each state to the codec posterior ``q``
        (``[B, S, P, D]`` twice), averaged over k. The states are detached: the draft head learns
        to read the backbone, it does not steer it."""
        S, total = states.shape[1], 0.0
        ks = range(1, min(self.config.draft_ahead, S - 1) + 1)
        for k in ks:
            offset = torch.full((S - k,), k, dtype=torch.long, device=states.device)
            mean, logstd = self.gaussian_draft(states[:, : S - k].detach(), phones[:, k:], offset)
            kl = gaussian_kl(q[0][:, k:], q[1][:, k:], mean, logstd).sum(-1)
            valid = frame_valid[:, k:]
            total = total + (kl * valid).sum() / valid.sum().clamp(min=1)
        return total / max(len(ks), 1)

    def _ctc_loss(self, states: torch.Tensor, batch: LMBatch) -> torch.Tensor:
        B, S, _ = states.shape
        V = self.config.num_symbols
        logits = self.ctc(states).view(B, S * self.config.patch, V + 1)
        log_probs = logits.float().log_softmax(-1).transpose(0, 1)  # [T, B, V + 1]
        return F.ctc_loss(
            log_probs, batch.text, batch.audio_lens, batch.text_lens, blank=V, zero_infinity=True
        )
