"""Codecs: waveform <-> discrete codes ``[B, Q, T]`` or Gaussian latents ``[B, D, T]``."""

from palette.codec.base import DEFAULT_CODEC, Codec, DecodeState, FrameKind
from palette.codec.files import UserError, atomic_path, atomic_write
from palette.codec.registry import available_codecs, load_codec

__all__ = [
    "DEFAULT_CODEC",
    "Codec",
    "DecodeState",
    "FrameKind",
    "UserError",
    "atomic_path",
    "atomic_write",
    "available_codecs",
    "load_codec",
]
