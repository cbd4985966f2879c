"""Response audio formats: ``pcm`` and ``wav`` stream chunk by chunk; ``flac``, ``mp3`` and
``opus`` (Ogg) are encoded by libsndfile once the whole utterance is generated, since their
writers seek back to finish headers.

A chunk is float32 ``[s]`` in [-1, 1] at the model rate; every format is mono.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass

import numpy as np
import soundfile as sf

STREAMING_SIZE = 0xFFFFFFFF  # RIFF/data size for a wav of unknown length (readers take "to EOF")


@dataclass(frozen=True)
class Format:
    name: str
    media_type: str
    streams: bool  # True: bytes go out as each chunk is made; False: encoded at the end
    libsndfile: tuple[str, str | None] | None = None  # (format, subtype) for encoded formats


FORMATS = {
    "pcm": Format("pcm", "audio/pcm", True),
    "wav": Format("wav", "audio/wav", True),
    "flac": Format("flac", "audio/flac", False, ("FLAC", "PCM_16")),
    "mp3": Format("mp3", "audio/mpeg", False, ("MP3", "MPEG_LAYER_III")),
    "opus": Format("opus", "audio/ogg", False, ("OGG", "OPUS")),
}
OPENAI_ONLY = ("aac",)  # OpenAI formats libsndfile cannot write


def available_formats() -> dict[str, Format]:
    """The formats this libsndfile can write (pcm and wav always)."""
    out = {}
    for name, fmt in FORMATS.items():
        if fmt.libsndfile is None or sf.check_format(*fmt.libsndfile):
            out[name] = fmt
    return out


def pcm16(chunk: np.ndarray) -> bytes:
    """float32 ``[s]`` -> signed 16-bit little-endian bytes."""
    return (np.clip(chunk, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()


def wav_header(sample_rate: int, data_bytes: int = STREAMING_SIZE) -> bytes:
    """A 44-byte PCM16 mono wav header; the default sizes mean "until the end of the stream"."""
    riff = STREAMING_SIZE if data_bytes == STREAMING_SIZE else 36 + data_bytes
    return (
        b"RIFF"
        + struct.pack("<I", riff)
        + b"WAVEfmt "
        + struct.pack("<IHHIIHH", 16, 1, 1, sample_rate, 2 * sample_rate, 2, 16)
        + b"data"
        + struct.pack("<I", data_bytes)
    )


def encode_whole(fmt: Format, samples: np.ndarray, sample_rate: int) -> bytes:
    """float32 ``[S]`` -> the bytes of a complete file in ``fmt`` (a non-streaming format)."""
    if fmt.libsndfile is None:
        raise ValueError(f"{fmt.name} is a streaming format")
    buf = io.BytesIO()
    name, subtype = fmt.libsndfile
    sf.write(buf, np.clip(samples, -1.0, 1.0), sample_rate, format=name, subtype=subtype)
    return buf.getvalue()
