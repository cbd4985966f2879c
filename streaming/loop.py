"""The streaming loop: audio chunks as frames are produced.

AR and Gaussian models yield after every ``chunk_frames`` new frames; PAR yields after every
committed span. Each chunk of frames is decoded with the codec's left context (``DecodeState``),
so the concatenated stream equals the offline decode of the same frames (tested). Refinement
changes frames after they are committed, so a streamed PAR sentence is not refined; extra
codebooks (NAR) are filled chunk by chunk with the frames before as prompt, the same way
offline synthesis does.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch
from palette.codec import DecodeState


@dataclass(frozen=True)
class StreamOptions:
    chunk_frames: int = 10  # AR/Gaussian: frames per emitted chunk (50 Hz: 200 ms)
    context_frames: int = 50  # codec frames of left context when decoding a chunk


def decode_stream(codec, frames: Iterator[torch.Tensor], prompt: torch.Tensor, continuous: bool,
                  options: StreamOptions) -> Iterator[np.ndarray]:  # fmt: skip
    """Decode chunks of frames ``[Q|D, t]`` as they come, with the prompt's last frames as the
    first left context; yields float32 ``[t * hop]`` per chunk."""
    context = min(options.context_frames, prompt.shape[-1])
    state = DecodeState(context=options.context_frames,
                        frames=prompt[None, :, prompt.shape[-1] - context :])  # fmt: skip
    for chunk in frames:
        if chunk.shape[-1] == 0:
            continue
        with torch.inference_mode():
            wav, state = codec.decode_chunk(chunk[None], state, continuous)
        yield wav[0, 0].numpy().astype(np.float32)


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
