"""The one base class every codec implements, and the typed state of chunked decoding.

A codec turns a waveform into frames and back. Frames are either discrete codes
``[B, Q, T]`` (Q codebooks of ``cardinality`` entries each, for the AR/PAR models) or Gaussian
latents ``(mean, logstd)`` of shape ``[B, D, T]`` (for the continuous next-distribution model).
A codec may offer both. Waveforms are always ``[B, 1, S]`` float32 at ``sample_rate``.
"""

from __future__ import annotations

import abc
import enum
from dataclasses import dataclass

import torch
from torch import nn

DEFAULT_CODEC = "palette-codec"  # the codec every recipe and command uses unless told otherwise


class FrameKind(enum.Enum):
    """What a model generates and the codec decodes: discrete codes ``[Q, T]`` or Gaussian
    latents ``[D, T]``."""

    CODES = "codes"
    LATENTS = "latents"


@dataclass
class DecodeState:
    """What chunked decoding carries from one chunk to the next.

    ``frames`` holds the last ``context`` frames already decoded (codes ``[B, Q, T]`` or latents
    ``[B, D, T]``); they are decoded again as left context and their samples are dropped.
    """

    context: int
    frames: torch.Tensor | None = None


class Codec(nn.Module, abc.ABC):
    """Abstract codec. Subclasses set the class attributes and implement the abstract methods."""

    sample_rate: int
    hop_length: int  # waveform samples per frame
    num_codebooks: int = 0  # Q, 0 when the codec has no discrete mode
    cardinality: int = 0  # entries per codebook
    latent_dim: int = 0  # D, 0 when the codec has no Gaussian-latent mode

    @property
    def frame_rate(self) -> float:
        """Frames per second."""
        return self.sample_rate / self.hop_length

    @property
    def has_codes(self) -> bool:
        return self.num_codebooks > 0

    @property
    def has_latents(self) -> bool:
        return self.latent_dim > 0

    # --- discrete mode -------------------------------------------------------------------
    def encode(self, wav: torch.Tensor) -> torch.Tensor:
        """``wav [B, 1, S]`` -> codes ``[B, Q, T]`` (int64)."""
        raise NotImplementedError(f"{type(self).__name__} has no discrete codes")

    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        """codes ``[B, Q, T]`` -> ``wav [B, 1, T * hop_length]``."""
        raise NotImplementedError(f"{type(self).__name__} has no discrete codes")

    # --- continuous mode -----------------------------------------------------------------
    def encode_latents(self, wav: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``wav [B, 1, S]`` -> posterior ``(mean, logstd)``, each ``[B, D, T]``."""
        raise NotImplementedError(f"{type(self).__name__} has no Gaussian latents")

    def decode_latents(self, latents: torch.Tensor) -> torch.Tensor:
        """latents ``[B, D, T]`` -> ``wav [B, 1, T * hop_length]``."""
        raise NotImplementedError(f"{type(self).__name__} has no Gaussian latents")

    # --- streaming -----------------------------------------------------------------------
    def decode_chunk(
        self, frames: torch.Tensor, state: DecodeState, kind: FrameKind = FrameKind.CODES
    ) -> tuple[torch.Tensor, DecodeState]:
        """Decode new frames ``[B, Q|D, t]`` with the left context kept in ``state``.

        Returns the waveform of the new frames only, ``[B, 1, t * hop_length]``, and the state
        for the next chunk. With enough context this matches :meth:`decode` of the whole
        sequence (each codec's tests state its tolerance).
        """
        decode = self.decode_latents if kind is FrameKind.LATENTS else self.decode
        past = state.frames
        full = frames if past is None else torch.cat([past, frames], dim=-1)
        wav = decode(full)
        skip = 0 if past is None else past.shape[-1] * self.hop_length
        keep = full[..., max(0, full.shape[-1] - state.context) :] if state.context > 0 else None
        return wav[..., skip:], DecodeState(context=state.context, frames=keep)

    def decode_chunked(
        self, frames: torch.Tensor, chunk: int, context: int, kind: FrameKind = FrameKind.CODES
    ) -> torch.Tensor:
        """Decode ``[B, Q|D, T]`` in chunks of ``chunk`` frames with ``context`` frames of left
        context; the streaming counterpart of :meth:`decode`."""
        state = DecodeState(context=context)
        pieces = []
        for start in range(0, frames.shape[-1], chunk):
            wav, state = self.decode_chunk(frames[..., start : start + chunk], state, kind)
            pieces.append(wav)
        return torch.cat(pieces, dim=-1)
