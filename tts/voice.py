"""What synthesis produces and reuses: ``Audio`` (samples + rate) and ``Voice`` (a prompt encoded
once: its codec frames and phonemes), savable to a small safetensors file."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from palette.codec.files import UserError, UserFileNotFoundError
from palette.tts.audio import save_wav


@dataclass
class Audio:
    samples: np.ndarray  # [S] float32 in [-1, 1]
    sample_rate: int

    @property
    def duration(self) -> float:
        return len(self.samples) / self.sample_rate

    def save(self, path: str | os.PathLike) -> Path:
        """Write a 16-bit wav atomically."""
        return save_wav(path, self.samples, self.sample_rate)


@dataclass
class Voice:
    """A voice prompt, encoded: codes ``[Q, T]`` and/or latents ``[D, T]`` of the codec it was
    encoded with, its transcript and the transcript's phonemes (one token per character)."""

    codec: str  # codec name/dir the frames belong to
    text: str
    phonemes: str
    codes: torch.Tensor | None = None  # [Q, T] int64
    latents: torch.Tensor | None = None  # [D, T] posterior mean

    @property
    def frames(self) -> int:
        x = self.codes if self.codes is not None else self.latents
        return int(x.shape[-1])

    def save(self, path: str | os.PathLike) -> Path:
        path = Path(path)
        tensors = {k: v.contiguous() for k, v in (("codes", self.codes), ("latents", self.latents))
                   if v is not None}  # fmt: skip
        meta = {"codec": self.codec, "text": self.text, "phonemes": self.phonemes}
        tmp = path.with_name(f".{path.name}.tmp")
        save_file(
            tensors, str(tmp), metadata={"palette_voice": json.dumps(meta, ensure_ascii=False)}
        )
        os.replace(tmp, path)
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> Voice:
        from safetensors import safe_open

        path = Path(path)
        if not path.is_file():
            raise UserFileNotFoundError(f"voice file not found: {path}")
        try:
            with safe_open(str(path), "pt") as fh:
                meta = json.loads((fh.metadata() or {})["palette_voice"])
            tensors = load_file(str(path))
        except Exception as err:  # safetensors raises its own error types
            raise UserError(f"{path} is not a palette voice file ({err})") from None
        return cls(codes=tensors.get("codes"), latents=tensors.get("latents"), **meta)
