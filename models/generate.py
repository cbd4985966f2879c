"""Stateful generation for the autoregressive families (moshi's model vs generator split).

``ARGenerator`` holds the KV cache and sampling state; ``step()`` returns the next patch of
frames — codes ``[P]`` for ``ar`` or latents ``[D, P]`` for ``kalle`` — until end of speech.
With ``use_cache=False`` each step recomputes the whole sequence (the reference the cache must
reproduce exactly).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from palette.codec.files import UserError
from palette.models.alignment import frame_phonemes
from palette.models.codec_lm import CodecLM
from palette.models.sampling import SamplingOptions, draw_gaussian, gaussian_confidence, sample
from palette.models.transformer import KVCache


def length_cap(num_text_tokens: int, frame_rate: float, seconds_per_token: float = 0.25) -> int:
    """Most frames to generate for a text: generous (about 3x normal speech rate) but finite."""
    return int(frame_rate * (1.0 + seconds_per_token * num_text_tokens))


@dataclass(frozen=True)
class GaussianSampling:
    temperature: float = 1.0  # scale on the sampled noise (0 = use the predicted mean)
    stop_threshold: float = 0.5  # stop when sigmoid(stop logit) exceeds this


class ARGenerator:
    """Generate continuation frames of ``prompt`` for ``text`` (prompt text + target text).

    ``text [Lt]`` ids; ``prompt`` codes ``[Tp]`` (first codebook) or latents ``[D, Tp]``; leading
    frames are dropped so that the prompt fills whole steps.
    """

    def __init__(
        self,
        model: CodecLM,
        text: torch.Tensor,
        prompt: torch.Tensor,
        max_frames: int,
        options: SamplingOptions | GaussianSampling | None = None,
        seed: int = 0,
        use_cache: bool = True,
        durations: torch.Tensor | None = None,
        speaker: torch.Tensor | None = None,
    ):
        """``durations [Lt]``: frames per text position (zero for the prompt's phonemes), for
        aligned models; it fixes the length to ``max_frames`` (end-of-speech is never drawn).
        ``speaker [1, E]``: the prompt's speaker embedding, for a speaker-conditioned model."""
        self.model = model.eval()
        self.P = model.config.patch
        self.options = options or (SamplingOptions() if model.discrete else GaussianSampling())
        self.rng = torch.Generator().manual_seed(seed)
        self.text = text[None]
        self.text_lens = torch.tensor([text.shape[0]])
        self.speaker = speaker
        with torch.inference_mode():  # what extend() adds to every step (None: unconditioned)
            self.speaker_rows = model.speaker_inputs(speaker, 1)
        keep = (prompt.shape[-1] // self.P) * self.P
        self.prompt = prompt[..., prompt.shape[-1] - keep :]
        self.frames: list[torch.Tensor] = []  # generated patches
        self._confidence: list[torch.Tensor] = []  # Gaussian: each patch's frame confidence
        self.max_frames, self.done, self.use_cache = max_frames, False, use_cache
        self.cache = None
        self._pending = None  # last state, predicting the next step
        self.index = self.progress = None  # aligned: phoneme and progress of every step
        self._phone_rows = None  # aligned: their input rows [1, steps, C], made on first use
        if model.config.aligned:
            if durations is None:
                raise UserError("an aligned model needs the target's durations")
            frames = frame_phonemes(durations[None], torch.tensor([keep]), keep + max_frames)
            self.index, self.progress = (x[:, :: self.P] for x in frames)

    @property
    def generated(self) -> torch.Tensor:
        """All frames so far: codes ``[T]`` or latents ``[D, T]``."""
        empty = self.prompt[..., :0]
        return torch.cat(self.frames, dim=-1) if self.frames else empty

    def _all_steps(self) -> torch.Tensor:
        frames = torch.cat([self.prompt, self.generated], dim=-1)[None]
        return self.model.step_inputs(frames)

    def phone_rows(self, first: int, count: int) -> torch.Tensor | None:
        """Aligned inputs ``[1, count, C]`` of audio positions ``first..first+count`` (position
        s predicts step s; steps past the alignment carry none)."""
        if self.index is None:
            return None
        if self._phone_rows is None:  # every step's rows at once: one call, not one per step
            self._phone_rows = self.model.phones(self.text, self.index, self.progress)
        rows = self._phone_rows[:, first : first + count]
        return torch.nn.functional.pad(rows, (0, 0, 0, count - rows.shape[1]))

    def _prefill_states(self, slack: int = 0, with_text: bool = False):
        """Allocate the KV cache (room for every step to come plus ``slack`` rows) and run
        ``[text ; BOS ; prompt steps]`` into it -> audio states ``[1, 1 + S, C]`` (and the text
        states ``[1, Lt, C]`` with ``with_text``)."""
        steps = self._all_steps()
        length = self.text.shape[1] + 1 + steps.shape[1] + self.max_frames // self.P + 1
        self.cache = KVCache(self.model.config.transformer, 1, length + slack)
        return self.model.run(
            self.text,
            self.text_lens,
            steps,
            torch.tensor([steps.shape[1]]),
            self.cache,
            with_text=with_text,
            phones=self.phone_rows(0, steps.shape[1] + 1),
            speaker=self.speaker,
        )

    @torch.inference_mode()
    def _next_state(self) -> torch.Tensor:
        """State ``[1, C]`` that predicts the next step."""
        if not self.use_cache:
            steps = self._all_steps()
            states = self.model.run(
                self.text,
                self.text_lens,
                steps,
                torch.tensor([steps.shape[1]]),
                phones=self.phone_rows(0, steps.shape[1] + 1),
                speaker=self.speaker,
            )
            return states[:, -1]
        if self.cache is None:
            return self._prefill_states()[:, -1]
        last = self.frames[-1][None]
        position = self.cache.length - self.text.shape[1]
        return self.model.extend(
            self.model.step_inputs(last),
            self.cache,
            self.phone_rows(position, 1),
            self.speaker_rows,
        )[:, -1]

    @torch.inference_mode()
    def step(self) -> torch.Tensor | None:
        """Next patch of frames, or ``None`` once speech has ended or the cap is reached."""
        if self.done:
            return None
        state = self._next_state()
        if self.model.config.depth:
            patch, confidence = self._sample_depth(state)
        elif self.model.discrete:
            patch, confidence = self._sample_discrete(state), None
        else:
            patch, confidence = self._sample_gaussian(state)
        n_generated = self.generated.shape[-1]
        if patch is not None and n_generated + patch.shape[-1] > self.max_frames:
            patch = patch[..., : self.max_frames - n_generated]
        if patch is None or patch.shape[-1] < self.P:
            self.done = True
        if patch is None or patch.shape[-1] == 0:
            return None
        self.frames.append(patch)
        if confidence is not None:
            self._confidence.append(confidence[: patch.shape[-1]])
        return patch

    @property
    def confidence(self) -> torch.Tensor:
        """Gaussian models: each generated frame's confidence ``[T]``, the negative mean
        log-std the model predicted for it (what refinement ranks frames by)."""
        if self.model.discrete and not self.model.config.depth:
            raise TypeError("frame confidence is recorded for Gaussian-headed models only")
        empty = torch.zeros(0)
        return torch.cat(self._confidence) if self._confidence else empty

    def _sample_discrete(self, state: torch.Tensor) -> torch.Tensor | None:
        logits = self.model.frames.logits(state[:, None])[0, 0]  # [P, K + 1]
        if self.index is not None:  # aligned: the length is fixed, end-of-speech never drawn
            logits[:, self.model.frames.eos] = float("-inf")
        history = torch.cat([self.prompt, self.generated])
        out = []
        for p in range(self.P):
            token = sample(logits[p : p + 1], self.options, history[None], self.rng)
            if int(token) == self.model.frames.eos:
                break
            out.append(token)
            history = torch.cat([history, token])
        if not out:
            return None
        return torch.cat(out)

    def _predicted(self, state: torch.Tensor):
        """Gaussian-headed models: the next step's ``(mean, logstd) [P, D]``, or None where
        the model stops (unaligned models only: an aligned one's length is fixed)."""
        mean, logstd, stop = self.model.frames.predict(state[:, None])
        if self.index is None and torch.sigmoid(stop[0, 0]) > self.options.stop_threshold:
            return None
        return mean[0, 0], logstd[0, 0]

    def _sample_depth(self, state: torch.Tensor):
        """Depth-head models -> (codes ``[Q, 1]``, confidence ``[1]``), or ``(None, None)``."""
        predicted = self._predicted(state)
        if predicted is None:
            return None, None
        mean, logstd = predicted
        codes, _ = self.model.frames.draw(mean[0], logstd[0], self.pick_code)
        return codes[:, None], gaussian_confidence(logstd)

    def pick_code(self, q: int, logits: torch.Tensor) -> torch.Tensor:
        """One code of codebook ``q`` from its ``logits [K]`` (temperature, top-k, top-p)."""
        return sample(logits[None], self.options, None, self.rng)[0]

    def _sample_gaussian(self, state: torch.Tensor):
        """-> (latents ``[D, P]``, their confidence ``[P]``), or ``(None, None)`` at the end."""
        predicted = self._predicted(state)
        if predicted is None:
            return None, None
        mean, logstd = predicted
        z = draw_gaussian(mean, logstd, self.options.temperature, self.rng)  # [P, D]
        return z.T, gaussian_confidence(logstd)

    def generate(self) -> torch.Tensor:
        """Run to the end; returns all generated frames."""
        while self.step() is not None:
            pass
        return self.generated
