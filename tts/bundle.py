"""``ModelBundle``: the one owner of the model-directory format.

A model directory holds::

    bundle.json        {"codec": NAME_OR_DIR, "language": "en-us", "default_family": "par",
                        "sampling": {"par": {"temperature": 0.4, "span": 32}}}
    <stage>/           one per trained stage (ar, nar, par, refine, kalle: the family table's
                       stages), each with config.json + model.safetensors
    codec/             optional: the codec's own directory, when bundle.json names it "codec"
    MODEL_CARD.md, logs/   optional

A relative codec path is resolved against the directory. Everything that reads or writes a model
directory (the facade, ``palette models``, the export recipe, the test fixtures) goes through
this class, and every problem with a directory is a ``UserError`` naming the file and field.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import torch
from safetensors.torch import save_file

from palette.codec.files import UserError, UserFileNotFoundError, atomic_write, write_text_atomic
from palette.models.families import FAMILIES, STAGES
from palette.models.loading import load_model

BUNDLE_FILE = "bundle.json"
# options a bundle may recommend per family, and the type each must have
RECOMMENDABLE = {"temperature": float, "span": int, "top_p": float, "top_k": int,
                 "refine_iterations": int, "refine_quantile": float}  # fmt: skip


@dataclass(frozen=True)
class ModelBundle:
    directory: Path
    codec: str  # registered codec name, or a directory (relative to ``directory``)
    language: str = "en-us"
    default_family: str | None = None
    sampling: dict[str, dict] = field(default_factory=dict)  # family -> recommended options
    stages: tuple[str, ...] = ()  # the stages present, in the table's order

    # --- reading -------------------------------------------------------------------------
    @staticmethod
    def is_bundle(directory: str | os.PathLike) -> bool:
        return (Path(directory) / BUNDLE_FILE).is_file()

    @classmethod
    def read(cls, directory: str | os.PathLike) -> ModelBundle:
        """Read and validate ``directory/bundle.json`` and list its stages."""
        directory = Path(directory)
        path = directory / BUNDLE_FILE
        if not path.is_file():
            raise UserFileNotFoundError(f"{directory} is not a model directory (no {BUNDLE_FILE})")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise UserError(f"{path}: not valid JSON ({err})") from None
        if not isinstance(data, dict):
            raise UserError(f"{path}: must hold a JSON object, not {type(data).__name__}")
        unknown = set(data) - {"codec", "language", "default_family", "sampling"}
        if unknown:
            raise UserError(f"{path}: unknown field(s) {', '.join(sorted(unknown))}")
        codec = _field(path, data, "codec", str, required=True)
        language = _field(path, data, "language", str) or "en-us"
        default = _field(path, data, "default_family", str)
        if default is not None and default not in FAMILIES:
            raise UserError(f"{path}: default_family {default!r} is not one of "
                            f"{', '.join(FAMILIES)}")
        sampling = _sampling(path, data.get("sampling", {}))
        stages = tuple(s for s in STAGES if (directory / s).is_dir())
        for stage in stages:
            for name in ("config.json", "model.safetensors"):
                if not (directory / stage / name).is_file():
                    raise UserError(f"{directory / stage}: stage {stage!r} has no {name}")
        if not stages:
            raise UserError(f"model directory {directory} has no trained stages "
                            f"(sub-directories named {', '.join(STAGES)})")
        bundle = cls(directory, codec, language, default, sampling, stages)
        if default is not None and default not in bundle.families:
            raise UserError(f"{path}: default_family {default!r} needs stage(s) "
                            f"{', '.join(FAMILIES[default].stages)}, which the directory lacks")
        return bundle

    @property
    def codec_ref(self) -> str:
        """The codec to load: a registered name, or the resolved directory."""
        local = self.directory / self.codec
        return str(local) if local.is_dir() else self.codec

    @property
    def families(self) -> list[str]:
        """The families whose required stages are all present, in the table's order."""
        return [name for name, f in FAMILIES.items() if all(s in self.stages for s in f.stages)]

    def recommended(self, family: str) -> dict:
        """Options the model recommends for ``family`` (``bundle.json`` ``"sampling"``)."""
        return dict(self.sampling.get(family, {}))

    def load_models(self) -> dict[str, tuple[torch.nn.Module, dict]]:
        """stage -> (model in eval mode, its config.json)."""
        return {stage: load_model(self.directory / stage) for stage in self.stages}

    # --- writing -------------------------------------------------------------------------
    @staticmethod
    def write(out: str | os.PathLike, codec: str, stages: Mapping[str, tuple[dict, dict]],
              default_family: str, language: str = "en-us", sampling: dict | None = None,
              card: str | os.PathLike | None = None, half: bool = True) -> ModelBundle:  # fmt: skip
        """Write a model directory atomically (built beside ``out``, then renamed onto it).

        ``stages`` maps a stage name to ``(config, state_dict)`` as ``load_checkpoint``
        returns them; ``codec`` is a registered name or a codec directory (copied in);
        ``half`` stores floating-point weights as float16 (they load as float32)."""
        out = Path(out)
        for stage in stages:
            if stage not in STAGES:
                raise UserError(f"unknown stage {stage!r}; one of {', '.join(STAGES)}")
        if default_family not in FAMILIES or not all(s in stages for s in
                                                      FAMILIES[default_family].stages):
            raise UserError(f"default family {default_family!r} is not among the exported stages")
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
        try:
            codec_ref = codec
            if Path(codec).is_dir():
                shutil.copytree(codec, tmp / "codec")
                codec_ref = "codec"
            for stage, (config, state) in stages.items():
                (tmp / stage).mkdir()
                weights = {k: (v.to(torch.float16) if half and v.is_floating_point() else v)
                           .detach().contiguous().cpu() for k, v in state.items()}  # fmt: skip
                atomic_write(tmp / stage / "model.safetensors",
                             lambda p, w=weights: save_file(w, str(p)))  # fmt: skip
                write_text_atomic(tmp / stage / "config.json",
                                  json.dumps(config, indent=2, ensure_ascii=False))  # fmt: skip
            bundle = {"codec": codec_ref, "language": language, "default_family": default_family,
                      "sampling": sampling or {}}  # fmt: skip
            write_text_atomic(tmp / BUNDLE_FILE, json.dumps(bundle, indent=2))
            if card:
                shutil.copy(card, tmp / "MODEL_CARD.md")
            os.chmod(tmp, 0o755)
            ModelBundle.read(tmp)  # what we write must read back
            if out.exists():
                shutil.rmtree(out)
            tmp.rename(out)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return ModelBundle.read(out)


def _field(path: Path, data: dict, key: str, kind: type, required: bool = False):
    if key not in data:
        if required:
            raise UserError(f"{path}: missing field {key!r}")
        return None
    value = data[key]
    if not isinstance(value, kind) or (kind is str and not value.strip()):
        raise UserError(f"{path}: field {key!r} must be a non-empty {kind.__name__}, "
                        f"not {value!r}")
    return value


def _sampling(path: Path, sampling) -> dict[str, dict]:
    """Validate ``"sampling"``: family -> {option: value} with known options of the right
    type and finite values (ranges are checked with every other option, in SynthesisOptions)."""
    if not isinstance(sampling, dict):
        raise UserError(f"{path}: field 'sampling' must be an object of family -> options")
    for family, options in sampling.items():
        where = f"{path}: sampling.{family}"
        if family not in FAMILIES:
            raise UserError(f"{where}: unknown family; one of {', '.join(FAMILIES)}")
        if not isinstance(options, dict):
            raise UserError(f"{where} must be an object of option -> value")
        for key, value in options.items():
            if key not in RECOMMENDABLE:
                raise UserError(f"{where}: unknown option {key!r}; one of "
                                f"{', '.join(RECOMMENDABLE)}")
            kind = RECOMMENDABLE[key]
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            ok = ok and (kind is float or float(value).is_integer())
            if not ok or not math.isfinite(value):
                raise UserError(f"{where}.{key} must be a finite {kind.__name__}, not {value!r}")
    return {f: {k: RECOMMENDABLE[k](v) for k, v in o.items()} for f, o in sampling.items()}
