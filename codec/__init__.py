"""Codecs: waveform <-> discrete codes ``[B, Q, T]`` or Gaussian latents ``[B, D, T]``."""

from palette.codec.base import Codec, DecodeState
from palette.codec.registry import available_codecs, load_codec

__all__ = ["Codec", "DecodeState", "available_codecs", "load_codec"]
