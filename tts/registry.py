"""Model names -> directories. Shipped models live in ``tts/checkpoints/<name>``; a user's own
models are given as a directory path."""

from __future__ import annotations

import os
from pathlib import Path

from palette.codec.files import UserFileNotFoundError
from palette.tts.bundle import ModelBundle

CHECKPOINTS = Path(__file__).parent / "checkpoints"
DEFAULT_MODEL = "palette-mini-en"


def available_models() -> list[str]:
    """Names of the shipped models that have weights installed."""
    if not CHECKPOINTS.is_dir():
        return []
    return sorted(p.name for p in CHECKPOINTS.iterdir() if ModelBundle.is_bundle(p))


def resolve_model(name_or_dir: str | os.PathLike | None = None) -> Path:
    """A shipped model name or a model directory -> the directory (checked)."""
    name_or_dir = name_or_dir or DEFAULT_MODEL
    path = Path(name_or_dir)
    if not path.is_dir():
        path = CHECKPOINTS / str(name_or_dir)
    if not ModelBundle.is_bundle(path):
        known = ", ".join(available_models()) or "none installed"
        raise UserFileNotFoundError(
            f"no palette-tts model at {name_or_dir!r} (a model directory needs bundle.json); "
            f"shipped models: {known}"
        )
    return path
