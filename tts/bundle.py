"""``ModelBundle``: the one owner of the model-directory format.

A model directory holds::

    bundle.json        {"codec": NAME_OR_DIR, "language": "en-us", "default_family": "par",
                        "sampling": {"par": {"temperature": 0.4, "span": 3000}}}
    <stage>/           one per trained stage (ar, nar, par, refine, kalle: the family table's
                       stages), each with config.json + model.safetensors
    codec/             optional: the codec's own directory, when bundle.json names it "codec"
    onnx/              optional: ONNX graphs of the stages and the codec + manifest.json
                       (written by ``palette export``, see ``palette.streaming.onnx``)
    MODEL_CARD.md, logs/   optional

A relative codec path is resolved against the directory. Everything that reads or writes a model
directory (the facade, ``palette models``, the export recipe, the test fixtures) goes through
this class, and every problem with a directory is a ``UserError`` naming the file and field.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import torch
from safetensors.torch import save_file

from palette.codec.files import (
    UserError,
    UserFileNotFoundError,
    atomic_directory,
    atomic_write,
    write_text_atomic,
)
from palette.models.families import FAMILIES, STAGES
from palette.models.loading import load_model

BUNDLE_FILE = "bundle.json"
ONNX_DIR, ONNX_MANIFEST = "onnx", "manifest.json"
# options a bundle may recommend per family, and the type each must have
RECOMMENDABLE = {
    "temperature": float,
    "span": int,
    "top_p": float,
    "top_k": int,
    "refine_iterations": int,
    "refine_quantile": float,
    "speaker_scale": float,
    "tau_lm": float,
}


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
            raise UserError(
                f"{path}: default_family {default!r} is not one of {', '.join(FAMILIES)}"
            )
        sampling = _sampling(path, data.get("sampling", {}))
        stages = tuple(s for s in STAGES if (directory / s).is_dir())
        for stage in stages:
            for name in ("config.json", "model.safetensors"):
                if not (directory / stage / name).is_file():
                    raise UserError(f"{directory / stage}: stage {stage!r} has no {name}")
        if not stages:
            raise UserError(
                f"model directory {directory} has no trained stages "
                f"(sub-directories named {', '.join(STAGES)})"
            )
        bundle = cls(directory, codec, language, default, sampling, stages)
        if default is not None and default not in bundle.families:
            raise UserError(
                f"{path}: default_family {default!r} needs stage(s) "
                f"{', '.join(FAMILIES[default].stages)}, which the directory lacks"
            )
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

    def load_models(self, stages=None) -> dict[str, tuple[torch.nn.Module, dict]]:
        """stage -> (model in eval mode, its config.json), for ``stages`` (default: all)."""
        return {
            stage: load_model(self.directory / stage)
            for stage in self.stages
            if stages is None or stage in stages
        }

    # --- ONNX graphs ---------------------------------------------------------------------
    def weight_hashes(self) -> dict[str, str]:
        """stage -> SHA-256 of its ``model.safetensors`` (recorded with exported graphs)."""
        return {
            stage: hashlib.sha256(
                (self.directory / stage / "model.safetensors").read_bytes()
            ).hexdigest()
            for stage in self.stages
        }

    def onnx_manifest(self) -> dict | None:
        """``onnx/manifest.json`` (graph name -> file, inputs, outputs; weights' hashes), or
        ``None`` when the directory has no exported graphs."""
        path = self.directory / ONNX_DIR / ONNX_MANIFEST
        if not path.is_file():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise UserError(f"{path}: not valid JSON ({err})") from None
        if not isinstance(data, dict) or not isinstance(data.get("graphs"), dict):
            raise UserError(f"{path}: must hold an object with a 'graphs' object")
        for name, graph in data["graphs"].items():
            if not (self.directory / ONNX_DIR / str(graph.get("file", ""))).is_file():
                raise UserError(f"{path}: graph {name!r} names a file that does not exist")
        return data

    def onnx_graph(self, name: str) -> Path | None:
        """The file of exported graph ``name``, or ``None``."""
        manifest = self.onnx_manifest()
        if manifest is None or name not in manifest["graphs"]:
            return None
        return self.directory / ONNX_DIR / manifest["graphs"][name]["file"]

    def update_onnx_manifest(self, **fields) -> None:
        """Add or replace top-level ``fields`` of ``onnx/manifest.json`` (written atomically)."""
        manifest = self.onnx_manifest()
        if manifest is None:
            raise UserError(f"{self.directory} has no ONNX graphs to annotate")
        path = self.directory / ONNX_DIR / ONNX_MANIFEST
        write_text_atomic(path, json.dumps(manifest | fields, indent=2) + "\n")

    def stale_onnx_stages(self) -> list[str]:
        """Stages whose weights changed since their graphs were exported."""
        recorded = (self.onnx_manifest() or {}).get("weights", {})
        current = self.weight_hashes()
        return [s for s, h in recorded.items() if current.get(s) != h]

    def write_onnx(self, out: str | os.PathLike, write_graphs) -> ModelBundle:
        """A copy of this directory at ``out`` (or this directory itself) with ``onnx/``
        filled by ``write_graphs(folder)``; built beside its target and renamed onto it."""
        out = Path(out)
        in_place = out.resolve() == self.directory.resolve()
        target = out / ONNX_DIR if in_place else out
        with atomic_directory(target) as tmp:
            if in_place:
                write_graphs(tmp)
            else:
                shutil.copytree(
                    self.directory, tmp, ignore=shutil.ignore_patterns(ONNX_DIR), dirs_exist_ok=True
                )
                codec_dir = self.directory / self.codec
                if codec_dir.is_dir() and not codec_dir.resolve().is_relative_to(
                    self.directory.resolve()
                ):
                    # a codec directory outside the model's: the copy names it absolutely
                    data = json.loads((tmp / BUNDLE_FILE).read_text(encoding="utf-8"))
                    data["codec"] = str(codec_dir.resolve())
                    write_text_atomic(tmp / BUNDLE_FILE, json.dumps(data, indent=2))
                write_graphs(tmp / ONNX_DIR)
                ModelBundle.read(tmp).onnx_manifest()  # what we write must read back
        return ModelBundle.read(out)

    # --- writing -------------------------------------------------------------------------
    @staticmethod
    def write(
        out: str | os.PathLike,
        codec: str,
        stages: Mapping[str, tuple[dict, dict]],
        default_family: str,
        language: str = "en-us",
        sampling: dict | None = None,
        card: str | os.PathLike | None = None,
        half: bool = True,
        shares: Mapping[str, str] | None = None,
    ) -> ModelBundle:
        """Write a model directory atomically (built beside ``out``, then renamed onto it).

        ``stages`` maps a stage name to ``(config, state_dict)`` as ``load_checkpoint``
        returns them; ``codec`` is a registered name or a codec directory (copied in);
        ``half`` stores floating-point weights as float16 (they load as float32); ``shares``
        maps a stage to a sibling whose equal tensors it does not store again (its config
        gets ``"shares"``; ``models.loading`` takes them from the sibling)."""
        out = Path(out)
        stored = {stage: _stored(state, half) for stage, (_, state) in stages.items()}
        configs = {stage: dict(config) for stage, (config, _) in stages.items()}
        for stage, sibling in (shares or {}).items():
            if stage not in stages or sibling not in stages or sibling in (shares or {}):
                raise UserError(
                    f"stage {stage} cannot share {sibling}: both must be exported, and "
                    f"{sibling} must not share another"
                )
            stored[stage] = _without_shared(stored[stage], stored[sibling])
            configs[stage]["shares"] = sibling
        for stage in stages:
            if stage not in STAGES:
                raise UserError(f"unknown stage {stage!r}; one of {', '.join(STAGES)}")
        if default_family not in FAMILIES or not all(
            s in stages for s in FAMILIES[default_family].stages
        ):
            raise UserError(f"default family {default_family!r} is not among the exported stages")
        with atomic_directory(out) as tmp:
            codec_ref = codec
            if Path(codec).is_dir():
                shutil.copytree(codec, tmp / "codec")
                codec_ref = "codec"
            for stage, weights in stored.items():
                config = configs[stage]
                (tmp / stage).mkdir()
                atomic_write(
                    tmp / stage / "model.safetensors", lambda p, w=weights: save_file(w, str(p))
                )
                write_text_atomic(
                    tmp / stage / "config.json", json.dumps(config, indent=2, ensure_ascii=False)
                )
            bundle = {
                "codec": codec_ref,
                "language": language,
                "default_family": default_family,
                "sampling": sampling or {},
            }
            write_text_atomic(tmp / BUNDLE_FILE, json.dumps(bundle, indent=2))
            if card:
                shutil.copy(card, tmp / "MODEL_CARD.md")
            ModelBundle.read(tmp)  # what we write must read back
        return ModelBundle.read(out)


def _stored(state: dict, half: bool) -> dict[str, torch.Tensor]:
    """A state dict as it is written: float16 where ``half``, contiguous, on the CPU."""
    return {
        k: (v.to(torch.float16) if half and v.is_floating_point() else v)
        .detach()
        .contiguous()
        .cpu()
        for k, v in state.items()
    }


def _without_shared(own: dict, sibling: dict) -> dict[str, torch.Tensor]:
    """``own`` less the tensors ``sibling`` holds with the same name and values."""
    return {
        k: v
        for k, v in own.items()
        if not (k in sibling and sibling[k].shape == v.shape and torch.equal(sibling[k], v))
    }


def _field(path: Path, data: dict, key: str, kind: type, required: bool = False):
    if key not in data:
        if required:
            raise UserError(f"{path}: missing field {key!r}")
        return None
    value = data[key]
    if not isinstance(value, kind) or (kind is str and not value.strip()):
        raise UserError(f"{path}: field {key!r} must be a non-empty {kind.__name__}, not {value!r}")
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
                raise UserError(
                    f"{where}: unknown option {key!r}; one of {', '.join(RECOMMENDABLE)}"
                )
            kind = RECOMMENDABLE[key]
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            ok = ok and (kind is float or float(value).is_integer())
            if not ok or not math.isfinite(value):
                raise UserError(f"{where}.{key} must be a finite {kind.__name__}, not {value!r}")
    return {f: {k: RECOMMENDABLE[k](v) for k, v in o.items()} for f, o in sampling.items()}
