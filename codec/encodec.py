"""EnCodec (Défossez et al., 2022) through ``transformers``' ``EncodecModel``.

Real checkpoints (e.g. ``facebook/encodec_24khz``) load from a local directory or, when the
machine has them cached or can reach the hub, from a Hugging Face id. The bandwidth fixes how
many codebooks are used: for the 24 kHz model 1.5/3/6/12/24 kbps -> 2/4/8/16/32 codebooks.
"""

from __future__ import annotations

import math
import socket
from pathlib import Path
from urllib.parse import urlparse

import torch

from palette.codec.base import Codec


def _hub_reachable(timeout: float = 3.0) -> bool:
    """Whether the Hugging Face endpoint answers a TCP connect (skips minutes of retries)."""
    from huggingface_hub import constants

    host = urlparse(constants.ENDPOINT).hostname or ""
    try:
        socket.create_connection((host, 443), timeout=timeout).close()
    except OSError:
        return False
    return True


class EncodecCodec(Codec):
    """Discrete codec wrapping a ``transformers.EncodecModel``; codes ``[B, Q, T]``."""

    def __init__(self, model, bandwidth: float | None = None):
        super().__init__()
        config = model.config
        bandwidths = list(config.target_bandwidths)
        bandwidth = bandwidths[0] if bandwidth is None else float(bandwidth)
        if bandwidth not in bandwidths:
            raise ValueError(f"bandwidth {bandwidth} kbps not offered; choose one of {bandwidths}")
        if config.chunk_length_s is not None:
            raise ValueError("chunked EnCodec checkpoints (48 kHz) are not supported; use 24 kHz")
        self.model = model.eval()
        self.bandwidth = bandwidth
        self.sample_rate = int(config.sampling_rate)
        self.hop_length = int(math.prod(config.upsampling_ratios))
        self.cardinality = int(config.codebook_size)
        self.num_codebooks = model.quantizer.get_num_quantizers_for_bandwidth(bandwidth)

    @classmethod
    def from_pretrained(cls, name_or_path: str, bandwidth: float | None = None) -> EncodecCodec:
        """Load from a local ``save_pretrained`` directory or a Hugging Face id."""
        from transformers import EncodecModel

        try:  # a local directory or the Hugging Face cache first, then the hub if reachable
            try:
                model = EncodecModel.from_pretrained(name_or_path, local_files_only=True)
            except OSError:
                if Path(name_or_path).is_dir() or not _hub_reachable():
                    raise
                model = EncodecModel.from_pretrained(name_or_path)
        except OSError as err:
            raise FileNotFoundError(
                f"EnCodec weights for {name_or_path!r} are not available: not a local checkpoint "
                "directory, not in the Hugging Face cache, and the hub could not be reached. "
                "Download the checkpoint on a connected machine (save_pretrained) and pass its "
                f"directory instead. ({type(err).__name__})"
            ) from None
        return cls(model, bandwidth=bandwidth)

    @torch.inference_mode()
    def encode(self, wav: torch.Tensor) -> torch.Tensor:
        """``wav [B, 1, S]`` -> codes ``[B, Q, T]``."""
        out = self.model.encode(wav, bandwidth=self.bandwidth, return_dict=True)
        return out.audio_codes[0]  # one chunk for the 24 kHz model: [1, B, Q, T] -> [B, Q, T]

    @torch.inference_mode()
    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        """codes ``[B, Q, T]`` -> ``wav [B, 1, T * hop_length]``."""
        out = self.model.decode(codes[None], [None], return_dict=True)
        return out.audio_values[..., : codes.shape[-1] * self.hop_length]
