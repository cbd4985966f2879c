"""Model sizes and their storage: a frozen dataclass saved as ``config.json`` beside
``model.safetensors`` (the symbol table the model was trained with is saved in the same file)."""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from palette.codec.files import UserError, UserFileNotFoundError, atomic_write, write_text_atomic
from palette.models.transformer import TransformerConfig

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
    aligned: bool = (
        False  # par/ar/kalle: frames carry their aligned phoneme; a head predicts durations
    )
    score_ratio: float = 0.1  # par: frames scored after the mask start s, fraction of T; 0 = all
    draft_upsample: int = (
        0  # ar: CTC draft head over the text states, frames per phoneme (0 = none)
    )
    draft_weight: float = 0.0  # ar, kalle: weight of the draft head's loss
    frame_dropout: float = 0.0  # ar/kalle, training: probability that a step's frame input is
    # zeroed (the step then has only its aligned phoneme and the history before it)
    own_inputs: float = 0.0  # ar/kalle, training: probability that a step's frame input is the
    # model's own draw from a first teacher-forced pass (parallel scheduled sampling)
    own_passes: int = 1  # ar/kalle, training: draw passes of scheduled sampling (each further
    # pass draws from the history the pass before mixed)
    draft_ahead: int = 0  # kalle: steps ahead of each state the Gaussian draft head predicts
    draft_hidden: int = 0  # kalle: hidden width of the Gaussian draft head (0: the model's width)
    # (0 = none; needs aligned)
    speaker_dim: int = 0  # par/ar/kalle: size of a global speaker embedding (resemblyzer's
    # 256-dim d-vector) projected and added to every input position beside the prompt; 0 = none
    speaker_dropout: float = 0.0  # par/ar/kalle, training: probability that an utterance's speaker
    # embedding is zeroed (the model then also works without one, from the prompt alone)
    depth: bool = False  # ar over a latent-RVQ codec: each step predicts all num_codebooks
    # codebooks through a residual depth head over a Gaussian (models.depth_frames); no NAR
    transformer: TransformerConfig = field(default_factory=TransformerConfig)

    def __post_init__(self):
        if self.family not in FAMILIES:
            raise UserError(f"unknown model family {self.family!r}; one of {FAMILIES}")
        if self.speaker_dim and self.family not in ("par", "ar", "kalle"):
            raise UserError(
                "speaker_dim (a global speaker embedding) is for the par, ar and kalle families"
            )
        if self.family == "kalle" and self.latent_dim <= 0:
            raise UserError("the kalle family needs latent_dim > 0")
        continuous_ok = self.family in ("kalle", "par", "align") and self.latent_dim > 0
        if not continuous_ok and self.cardinality <= 0:
            raise UserError(f"the {self.family} family needs cardinality > 0")
        if self.draft_upsample and self.family != "ar":
            raise UserError("only the ar family has a CTC draft head (draft_upsample)")
        gaussian_steps = self.family == "kalle" or self.depth
        if self.draft_ahead and not (gaussian_steps and self.aligned):
            raise UserError(
                "only an aligned kalle or depth-head ar model has a Gaussian draft head "
                "(draft_ahead)"
            )
        if self.depth:
            if self.family != "ar" or self.latent_dim <= 0 or self.patch != 1:
                raise UserError("a depth head (depth) is for ar models over latents, patch 1")
            if self.own_inputs or self.draft_upsample:
                raise UserError("a depth-head ar model takes no own_inputs or CTC draft head")
        if self.draft_hidden < 0 or (self.draft_hidden and not self.draft_ahead):
            raise UserError("draft_hidden is the width of a Gaussian draft head (draft_ahead > 0)")
        if not 0.0 <= self.own_inputs <= 1.0:
            raise UserError(f"own_inputs is a probability; got {self.own_inputs}")
        if self.own_passes < 1:
            raise UserError(f"own_passes counts draw passes (1 or more); got {self.own_passes}")
        if self.own_inputs and self.family not in ("ar", "kalle"):
            raise UserError("own_inputs (scheduled sampling) is for the ar and kalle families")
        if self.aligned and self.family not in ("par", "ar", "kalle"):
            raise UserError(f"the {self.family} family takes no frame-aligned phonemes")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> LMConfig:
        """From ``config.json``'s ``"model"`` object; unknown or mistyped fields are errors."""
        if not isinstance(data, dict):
            raise UserError("the model config must be an object")
        data = dict(data)
        core = data.get("transformer", {})
        _check_fields(TransformerConfig, core if isinstance(core, dict) else None, "transformer")
        _check_fields(cls, data, "model")
        data["transformer"] = TransformerConfig(**core)
        return cls(**data)


def _check_fields(kind, data: dict | None, where: str) -> None:
    """Every key of ``data`` a field of dataclass ``kind``, with the field default's type."""
    if data is None:
        raise UserError(f"{where}: must be an object")
    fields = {f.name: f for f in dataclasses.fields(kind)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise UserError(f"{where}: unknown field(s) {', '.join(unknown)}")
    for name, value in data.items():
        default = fields[name].default
        if name == "transformer" or default is dataclasses.MISSING:
            continue
        expected = (int, float) if isinstance(default, float) else type(default)
        if isinstance(value, bool) != isinstance(default, bool) or not isinstance(value, expected):
            raise UserError(f"{where}.{name}: expected {type(default).__name__}, got {value!r}")


def save_checkpoint(directory: str | os.PathLike, model: torch.nn.Module, config: dict) -> Path:
    """Write ``model.safetensors`` and ``config.json`` (each atomically) into ``directory``."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
    atomic_write(directory / "model.safetensors", lambda p: save_file(state, str(p)))
    write_text_atomic(directory / "config.json", json.dumps(config, indent=2, ensure_ascii=False))
    return directory


def load_checkpoint(directory: str | os.PathLike) -> tuple[dict, dict[str, torch.Tensor]]:
    """Read ``config.json`` and ``model.safetensors``; a ``UserError`` naming the file for a
    missing, corrupt or malformed one."""
    directory = Path(directory)
    for name in ("config.json", "model.safetensors"):
        if not (directory / name).is_file():
            raise UserFileNotFoundError(f"checkpoint {directory} has no {name}")
    try:
        config = json.loads((directory / "config.json").read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise UserError(f"{directory / 'config.json'}: not valid JSON ({err})") from None
    if not isinstance(config, dict):
        raise UserError(f"{directory / 'config.json'}: must hold a JSON object")
    try:
        state = load_file(str(directory / "model.safetensors"))
    except Exception as err:  # safetensors raises its own error types for a damaged file
        raise UserError(
            f"{directory / 'model.safetensors'}: not a readable safetensors file ({err})"
        ) from None
    return config, state
