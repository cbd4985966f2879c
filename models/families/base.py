"""What every model family declares, and what one sentence needs to be generated.

A family is one way of turning phonemes and a voice prompt into codec frames (VALL-E AR, KALL-E
Gaussian AR, PALLE PAR). Each family module declares the model-directory stages it needs, the
frame kind it produces, which ``SynthesisOptions`` fields it reads (so that the facade can warn
about the ones it would ignore), and owns its generator chain. Families are stateless: one
instance per family lives in the table of ``palette.models.families``.
"""

from __future__ import annotations

import abc
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn

from palette.codec import FrameKind, UserError
from palette.models.alignment import target_durations
from palette.models.generate import length_cap
from palette.models.par_generate import target_length

Models = Mapping[str, nn.Module]  # stage name ("ar", "nar", "par", "refine", ...) -> model


@dataclass(frozen=True)
class SentenceRequest:
    """One sentence to generate in one voice.

    ``text [Lt]`` holds the prompt's phoneme ids, a word separator, then the target's ids;
    ``target_start`` is where the target begins. The prompt's frames are given in both kinds the
    codec has: codes ``[Q, Tp]`` and/or latents ``[D, Tp]``; ``speaker [E]`` is the prompt's
    speaker embedding, for models that take one.
    """

    text: torch.Tensor
    target_start: int
    prompt_codes: torch.Tensor | None
    prompt_latents: torch.Tensor | None
    frame_rate: float
    speaker: torch.Tensor | None = None

    def speaker_for(self, model) -> torch.Tensor | None:
        """The speaker embedding ``[1, E]`` if ``model`` is speaker-conditioned, else None."""
        if not getattr(model.config, "speaker_dim", 0) or self.speaker is None:
            return None
        return self.speaker.reshape(1, -1)

    @property
    def prompt_tokens(self) -> int:
        return self.target_start - 1  # without the separator

    @property
    def target_tokens(self) -> int:
        return int(self.text.shape[0]) - self.target_start

    @property
    def prompt_length(self) -> int:
        """Frames in the prompt."""
        x = self.prompt_codes if self.prompt_codes is not None else self.prompt_latents
        return int(x.shape[-1])

    def prompt_frames(self, kind: FrameKind) -> torch.Tensor:
        """The prompt as ``kind`` frames: codes ``[Q, Tp]`` or latents ``[D, Tp]``."""
        frames = self.prompt_codes if kind is FrameKind.CODES else self.prompt_latents
        if frames is None:
            raise UserError(
                f"the voice has no {kind.value}: encode the prompt again with a codec that has them"
            )
        return frames


MAX_SENTENCE_SECONDS = 60.0  # no sentence is generated longer than this, whatever the text


def frame_cap(request: SentenceRequest, frames: int) -> int:
    """``frames`` bounded by ``MAX_SENTENCE_SECONDS`` (with a warning when it cuts)."""
    cap = int(MAX_SENTENCE_SECONDS * request.frame_rate)
    if frames > cap:
        warnings.warn(
            f"a sentence would take {frames / request.frame_rate:.0f} s; it is cut at "
            f"{MAX_SENTENCE_SECONDS:g} s",
            stacklevel=3,
        )
        return cap
    return frames


def target_frames(request: SentenceRequest, options) -> int:
    """Frames of a sentence whose length is set in advance (PAR, aligned AR): the given
    duration, or the prompt's frames-per-phoneme rate divided by the speed; capped."""
    if options.duration:
        return max(1, round(options.duration * request.frame_rate))
    return frame_cap(
        request,
        target_length(
            request.prompt_length, request.prompt_tokens, request.target_tokens, options.speed
        ),
    )


@torch.inference_mode()
def predicted_durations(model, request: SentenceRequest, length: int) -> torch.Tensor:
    """Frames per text position ``[Lt]`` from an aligned model's duration head: zero for the
    prompt's phonemes, ``length`` spread over the target's."""
    lens = torch.tensor([request.text.shape[0]])
    log_d = model.log_durations(request.text[None], lens, request.speaker_for(model))[0]
    return target_durations(log_d, request.target_start, length)


def autoregressive_length(model, request: SentenceRequest, options):
    """-> (most frames, durations) for an AR/Gaussian model: a cap from the text for plain
    models; for aligned ones the length set in advance (``target_frames``) and the duration
    head's durations, which fix it."""
    if not model.config.aligned:
        return frame_cap(request, length_cap(request.target_tokens, request.frame_rate)), None
    length = target_frames(request, options)
    return length, predicted_durations(model, request, length)


# options every family's sentences use; they are read by the streaming loop, not the family
LOOP_OPTIONS = frozenset(
    {
        "family",
        "seed",
        "sentence_pause",
        "max_sentence_chars",
        "chunk_frames",
        "context_frames",
        "verify",
        "verify_retries",
        "verify_max_wer",
    }
)


class Family(abc.ABC):
    """One model family: its stages, frame kind, options and generator chain."""

    name: ClassVar[str]
    stages: ClassVar[tuple[str, ...]]  # required stages; the first is the family's own model
    optional_stages: ClassVar[tuple[str, ...]] = ()  # used when present (refinement, NAR)
    options: ClassVar[frozenset[str]]  # SynthesisOptions fields the family reads
    summary: ClassVar[str]  # one line for --help and docs

    def available(self, models: Models) -> bool:
        return all(stage in models for stage in self.stages)

    @abc.abstractmethod
    def frame_kind(self, models: Models) -> FrameKind:
        """The kind of frames this family generates with these models."""

    @abc.abstractmethod
    def pieces(
        self, request: SentenceRequest, models: Models, options, whole: bool
    ) -> Iterator[torch.Tensor]:
        """Target frames of one sentence as they are produced: codes ``[Q, t]`` or latents
        ``[D, t]`` per piece. ``options`` is a ``SynthesisOptions`` (already resolved and
        seeded). ``whole=True`` asks for the finished sentence (refinement and any other pass
        that rewrites committed frames); ``whole=False`` for pieces as soon as they are final."""


def steps(generator) -> Iterator[torch.Tensor]:
    """Pieces a generator's ``step()`` returns until it returns ``None``."""
    return iter(generator.step, None)


def rechunk(pieces: Iterator[torch.Tensor], size: int) -> Iterator[torch.Tensor]:
    """Regroup frame pieces ``[C, t_i]`` into chunks of ``size`` frames (the last may be
    shorter)."""
    buffer = None
    for piece in pieces:
        buffer = piece if buffer is None else torch.cat([buffer, piece], dim=-1)
        while buffer.shape[-1] >= size:
            yield buffer[..., :size]
            buffer = buffer[..., size:]
    if buffer is not None and buffer.shape[-1]:
        yield buffer
