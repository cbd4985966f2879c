"""Model sizes and their storage: a frozen dataclass saved as ``config.json`` beside
``model.safetensors`` (the symbol table the model was trained with is saved in the same file)."""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import torch
from palette.models.transformer import TransformerConfig
from safetensors.torch import load_file, save_file

FAMILIES = ("ar", "kalle", "par", "nar", "align")


@dataclass(frozen=True)
class LMConfig:
    family: str  # "ar" (VALL-E), "kalle" (Gaussian next-distribution), "par" (PALLE), "nar",
    # or "align" (the CTC aligner that gives phoneme durations)
    num_symbols: int  # phoneme vocabulary size (the symbol table's length)
    cardinality: int = 0  # entries per codebook for discrete families
    num_codebooks: int = 1  # codebooks the codec gives; AR/PAR model the first, NAR the rest
    latent_dim: int = 0  # D of Gaussian latents (kalle; par and align use latents when > 0)
    patch: int = 1  # codec frames per model step (reduction factor)
    ctc_weight: float = 0.0  # weight of the auxiliary CTC loss from audio states to phonemes
    noise_std: float = 0.0  # kalle/par latents: std of noise added to input latents in training
    aligned: bool = False  # par: frames carry their aligned phoneme; a head predicts durations
    score_ratio: float = 0.1  # par: frames scored after the mask start s, fraction of T; 0 = all
    transformer: TransformerConfig = field(default_factory=TransformerConfig)

    def __post_init__(self):
        if self.family not in FAMILIES:
            raise ValueError(f"unknown model family {self.family!r}; one of {FAMILIES}")
        if self.family == "kalle" and self.latent_dim <= 0:
            raise ValueError("the kalle family needs latent_dim > 0")
        continuous_ok = self.family in ("kalle", "par", "align") and self.latent_dim > 0
        if not continuous_ok and self.cardinality <= 0:
            raise ValueError(f"the {self.family} family needs cardinality > 0")
        if self.aligned and self.family != "par":
            raise ValueError("only the par family takes frame-aligned phonemes")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> LMConfig:
        data = dict(data)
        data["transformer"] = TransformerConfig(**data.get("transformer", {}))
        return cls(**data)


def _atomic_write(path: Path, write) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_checkpoint(directory: str | os.PathLike, model: torch.nn.Module, config: dict) -> Path:
    """Write ``model.safetensors`` and ``config.json`` (each atomically) into ``directory``."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
    _atomic_write(directory / "model.safetensors", lambda p: save_file(state, p))
    text = json.dumps(config, indent=2, ensure_ascii=False)
    _atomic_write(directory / "config.json", lambda p: Path(p).write_text(text))
    return directory


def load_checkpoint(directory: str | os.PathLike) -> tuple[dict, dict[str, torch.Tensor]]:
    """Read ``config.json`` and ``model.safetensors``; clear errors for missing files."""
    directory = Path(directory)
    for name in ("config.json", "model.safetensors"):
        if not (directory / name).is_file():
            raise FileNotFoundError(f"checkpoint {directory} has no {name}")
    config = json.loads((directory / "config.json").read_text())
    return config, load_file(str(directory / "model.safetensors"))
