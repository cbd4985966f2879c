"""EnCodec (Défossez et al., 2022) through ``transformers``' ``EncodecModel``.

Real checkpoints (e.g. ``facebook/encodec_24khz``) load from a local directory or the Hugging
Face cache. Weights are read from ``model.safetensors`` only (never a pickled
``pytorch_model.bin``), and the network is touched only when the user asks for it:
``allow_download=True`` or the environment variable ``PALETTE_ALLOW_DOWNLOAD=1``. The bandwidth
fixes how many codebooks are used: for the 24 kHz model 1.5/3/6/12/24 kbps -> 2/4/8/16/32
codebooks.
"""

from __future__ import annotations

import math
import os
import socket
from pathlib import Path
from urllib.parse import urlparse

import torch

from palette.codec.base import Codec
from palette.codec.files import UserError, UserFileNotFoundError

DOWNLOAD_ENV = "PALETTE_ALLOW_DOWNLOAD"  # "1" lets EnCodec fetch a checkpoint from the hub


def downloads_allowed(allow_download: bool | None = None) -> bool:
    """``allow_download`` if given, else whether ``PALETTE_ALLOW_DOWNLOAD`` is ``1``/``true``."""
    if allow_download is not None:
        return bool(allow_download)
    return os.environ.get(DOWNLOAD_ENV, "").strip().lower() in ("1", "true", "yes")


def _hub_reachable(timeout: float = 3.0) -> bool:
    """Whether the Hugging Face endpoint answers a TCP connect (skips minutes of retries)."""
    from huggingface_hub import constants

    host = urlparse(constants.ENDPOINT).hostname or ""
    try:
        socket.create_connection((host, 443), timeout=timeout).close()
    except OSError:
        return False
    return True


def _load_local(directory: Path):
    """A ``save_pretrained`` directory with ``config.json`` + ``model.safetensors``."""
    from safetensors import SafetensorError
    from transformers import EncodecModel

    if not (directory / "model.safetensors").is_file():
        pickled = (directory / "pytorch_model.bin").is_file()
        raise UserFileNotFoundError(
            f"EnCodec directory {directory} has no model.safetensors"
            + (
                " (only a pickled pytorch_model.bin, which palette-tts does not load: convert it "
                "with EncodecModel.from_pretrained(...).save_pretrained(DIR) on a trusted "
                "machine)"
                if pickled
                else ""
            )
        )
    try:
        return EncodecModel.from_pretrained(
            str(directory), local_files_only=True, use_safetensors=True
        )
    except (OSError, ValueError, RuntimeError, SafetensorError) as err:  # bad config or tensors
        detail = " ".join(str(err).split())[:200]
        raise UserError(f"cannot load EnCodec checkpoint {directory}: {detail}") from None


def _load_hub(repo_id: str, allow_download: bool):
    """A Hugging Face id: from the local cache, or from the hub when downloads are allowed."""
    from transformers import EncodecModel

    try:
        return EncodecModel.from_pretrained(repo_id, local_files_only=True, use_safetensors=True)
    except OSError:
        pass
    hint = (
        "Download the checkpoint on a connected machine (save_pretrained) and pass its "
        "directory instead"
    )
    if not allow_download:
        raise UserFileNotFoundError(
            f"EnCodec weights for {repo_id!r} are not in the Hugging Face cache and downloads are "
            f"off: allow them with allow_download=True or {DOWNLOAD_ENV}=1, or: {hint}"
        )
    if not _hub_reachable():
        raise UserFileNotFoundError(
            f"EnCodec weights for {repo_id!r} are not cached and the hub cannot be reached. {hint}"
        )
    try:
        return EncodecModel.from_pretrained(repo_id, use_safetensors=True)
    except OSError as err:
        raise UserFileNotFoundError(
            f"cannot download EnCodec weights {repo_id!r} as safetensors "
            f"({type(err).__name__}). {hint}"
        ) from None


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
    def from_pretrained(
        cls, name_or_path: str, bandwidth: float | None = None, allow_download: bool | None = None
    ) -> EncodecCodec:
        """Load from a local ``save_pretrained`` directory or a Hugging Face id (from the cache;
        from the hub only with ``allow_download`` or ``PALETTE_ALLOW_DOWNLOAD=1``)."""
        if Path(name_or_path).is_dir():
            model = _load_local(Path(name_or_path))
        else:
            model = _load_hub(name_or_path, downloads_allowed(allow_download))
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
