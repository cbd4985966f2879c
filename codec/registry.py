"""Codec names -> loaders. ``load_codec`` takes a registered name, a local directory with a
``config.json`` (ours, or a transformers EnCodec checkpoint) or a Hugging Face id."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from palette.codec.base import Codec
from palette.codec.files import UserError, UserFileNotFoundError

# name -> (loader, what to pass it). Loaders import their module lazily.
_REGISTRY: dict[str, tuple[Callable[[str], Codec], str]] = {}


def register_codec(name: str, loader: Callable[[str], Codec], source: str) -> None:
    """Make ``load_codec(name)`` call ``loader(source)``."""
    _REGISTRY[name] = (loader, source)


def available_codecs() -> list[str]:
    """Registered codec names."""
    return sorted(_REGISTRY)


def _load_encodec(source: str, **kwargs) -> Codec:
    from palette.codec.encodec import EncodecCodec

    return EncodecCodec.from_pretrained(source, **kwargs)


def load_codec(name_or_path: str, **kwargs) -> Codec:
    """Load a codec by registered name, local directory or Hugging Face id (EnCodec only).

    ``kwargs`` go to the codec's loader (e.g. ``bandwidth=6.0`` for EnCodec).
    """
    if name_or_path in _REGISTRY:
        loader, source = _REGISTRY[name_or_path]
        return loader(source, **kwargs)
    path = Path(name_or_path)
    if path.is_dir():
        config_file = path / "config.json"
        if not config_file.is_file():
            raise UserFileNotFoundError(f"no config.json in codec directory {path}")
        config = json.loads(config_file.read_text())
        kind = config.get("codec") or config.get("model_type")
        if kind == "encodec":
            return _load_encodec(str(path), **kwargs)
        if kind in _DIRECTORY_LOADERS:
            return _DIRECTORY_LOADERS[kind](str(path), **kwargs)
        raise UserError(f"unknown codec type {kind!r} in {config_file}")
    if "/" in name_or_path and not path.exists():  # looks like a hub id
        return _load_encodec(name_or_path, **kwargs)
    raise UserError(
        f"unknown codec {name_or_path!r}: not a registered name ({', '.join(available_codecs())}) "
        "nor a directory"
    )


def _load_palette(source: str, **kwargs) -> Codec:
    from palette.codec.palette_codec import PaletteCodec

    if kwargs:
        raise UserError(f"the palette codec takes no loading options (got {', '.join(kwargs)})")
    return PaletteCodec.from_pretrained(source)


# config "codec" field -> loader for our own codec directories
_DIRECTORY_LOADERS: dict[str, Callable[..., Codec]] = {"palette": _load_palette}

# the shipped palette codec (trained by recipes/libritts/train_codec.py)
PALETTE_WEIGHTS = Path(__file__).parent / "weights" / "palette-codec"

register_codec("encodec_24khz", _load_encodec, "facebook/encodec_24khz")
register_codec("palette-codec", _load_palette, str(PALETTE_WEIGHTS))
