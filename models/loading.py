"""Build a model from its ``config.json`` and load ``model.safetensors``."""

from __future__ import annotations

import os
from pathlib import Path

import torch

from palette.codec.files import UserError
from palette.models.aligner import CTCAligner
from palette.models.codec_lm import CodecLM
from palette.models.config import LMConfig, load_checkpoint
from palette.models.nar import NARModel
from palette.models.par import PARModel

MODEL_CLASSES = {
    "ar": CodecLM,
    "kalle": CodecLM,
    "par": PARModel,
    "nar": NARModel,
    "align": CTCAligner,
}


def build_model(config: LMConfig) -> torch.nn.Module:
    return MODEL_CLASSES[config.family](config)


def load_model(directory: str | os.PathLike) -> tuple[torch.nn.Module, dict]:
    """-> (model in eval mode, the whole config.json). Weights may be stored in half precision.
    A stage whose config names ``"shares": STAGE`` stores only the tensors that differ from
    its sibling stage ``STAGE``'s (e.g. a depth head on kalle's backbone) and takes the rest
    from there."""
    config, state = load_checkpoint(directory)
    where = Path(directory) / "config.json"
    if "shares" in config:
        state = {**_shared_state(Path(directory), config["shares"]), **state}
    if "model" not in config:
        raise UserError(f"{where}: missing field 'model'")
    try:
        model = build_model(LMConfig.from_dict(config["model"]))
    except (TypeError, ValueError) as err:
        raise UserError(f"{where}: {err}") from None
    try:
        model.load_state_dict({k: v.float() for k, v in state.items()})
    except RuntimeError as err:
        first = str(err).strip().splitlines()[0]
        raise UserError(
            f"{Path(directory) / 'model.safetensors'} does not fit its config ({first} ...)"
        ) from None
    return model.eval(), config


def _shared_state(directory: Path, sibling) -> dict[str, torch.Tensor]:
    """The tensors of the sibling stage a stage shares (one level: it must not share itself)."""
    where = directory / "config.json"
    if not isinstance(sibling, str) or not (directory.parent / sibling).is_dir():
        raise UserError(f"{where}: shares {sibling!r}, which is not a stage beside it")
    config, state = load_checkpoint(directory.parent / sibling)
    if "shares" in config:
        raise UserError(f"{where}: shares stage {sibling!r}, which itself shares another")
    return state
