"""Export a model directory's stages and its codec to ONNX graphs (``torch.onnx.export`` with
the dynamo exporter; needs the ``onnx`` extra: onnx + onnxscript).

    export_bundle(ModelBundle.read("exp/model"), "exp/model-onnx")   # or palette export

writes a copy of the model directory with an ``onnx/`` folder (``ModelBundle`` owns the
layout): one ``<graph>.onnx`` per graph of ``streaming.onnx.graphs`` (PAR stages, codec) and
``streaming.onnx.ar_graphs`` (AR and KALL-E stages) and ``manifest.json`` (opset, precision,
the graphs' inputs and outputs, and the SHA-256 of every stage's weights so
that stale graphs are found). Each graph also carries its metadata: ``palette.config`` (the
stage's ``config.json``, symbol table included) or ``palette.codec`` (the codec's sizes).
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch

from palette.codec.files import UserError
from palette.models.codec_lm import CodecLM
from palette.models.families import FAMILIES, get_family
from palette.models.par import PARModel
from palette.streaming.onnx.ar_graphs import ar_graphs
from palette.streaming.onnx.graphs import GraphSpec, codec_graphs, par_graphs
from palette.streaming.onnx.runtime import graph_stages

log = logging.getLogger(__name__)
MANIFEST_FORMAT = 1
PRECISIONS = {"fp32": torch.float32, "fp16": torch.float16}
QUIET_LOGGERS = ("onnx_ir", "onnxscript", "torch.onnx", "torch.export", "torch._export")


@contextlib.contextmanager
def _quiet(names):
    """The exporter's own INFO chatter off while it runs (our log line says what was made)."""
    loggers = [logging.getLogger(n) for n in names]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


@dataclass(frozen=True)
class ExportOptions:
    opset: int = 20  # ONNX opset of every graph
    optimize: bool = True  # run the exporter's graph optimiser (constant folding, fusions)
    stages: tuple[str, ...] | None = None  # stages to export (None = every exportable one)
    codec: bool = True  # export the codec's encoder and decoders too
    # "fp32", or "fp16" (for GPUs): the model stages' weights, activations, KV cache and
    # floating inputs/outputs in half precision; the codec stays fp32 (its decoder is the
    # vocoder, and the encoder's codes must match PyTorch's)
    precision: str = "fp32"
    # time the default family on PyTorch and on onnxruntime after exporting, for
    # runtime="auto" (streaming.onnx.measure); only when the model stages are fp32 and the
    # default family's stages were exported
    measure: bool = True

    def __post_init__(self):
        if self.precision not in PRECISIONS:
            raise UserError(f"unknown precision {self.precision!r}; one of {', '.join(PRECISIONS)}")


def codec_metadata(codec) -> dict:
    """What a runner needs to stand in for the codec without loading it."""
    return {
        "sample_rate": codec.sample_rate,
        "hop_length": codec.hop_length,
        "num_codebooks": codec.num_codebooks,
        "cardinality": codec.cardinality,
        "latent_dim": codec.latent_dim,
        "config": codec.config.to_dict() if hasattr(codec, "config") else None,
    }


def export_graph(
    spec: GraphSpec, path: Path, metadata: dict[str, str], opset: int = 20, optimize: bool = True
) -> dict:
    """Trace ``spec`` into ``path`` (one self-contained file) -> its manifest entry."""
    from torch.export import Dim

    try:
        import onnxscript  # noqa: F401  (the dynamo exporter needs it)
    except ImportError:
        raise UserError(
            "ONNX export needs the onnx extra: pip install 'palette-tts[onnx]'"
        ) from None
    dims = {}
    shapes = {
        name: {
            axis: dims.setdefault(dim, Dim(dim, min=spec.minimum.get(dim, 1)))
            for axis, dim in axes.items()
        }
        for name, axes in spec.dynamic.items()
    }
    start = time.perf_counter()
    with torch.no_grad(), warnings.catch_warnings(), _quiet(QUIET_LOGGERS):
        warnings.simplefilter("ignore")
        program = torch.onnx.export(
            spec.module.eval(),
            (),
            kwargs=spec.inputs,
            input_names=list(spec.inputs),
            output_names=list(spec.outputs),
            dynamic_shapes=shapes,
            opset_version=opset,
            dynamo=True,
            optimize=optimize,
            verbose=False,
        )
    program.model.metadata_props.update(metadata)
    program.model.metadata_props["palette.graph"] = spec.name
    program.save(str(path), external_data=False)
    log.info("exported %s (%.0f s)", path.name, time.perf_counter() - start)
    return {
        "file": path.name,
        "inputs": list(spec.inputs),
        "outputs": list(spec.outputs),
        "dynamic": {k: {str(a): d for a, d in v.items()} for k, v in spec.dynamic.items()},
    }


def exportable_stages(models: dict) -> list[str]:
    """Stages with graphs: PAR models and autoregressive ``CodecLM`` s (the NAR stage and a
    depth-head ar stage keep running in PyTorch)."""
    return [
        stage
        for stage, (model, _) in models.items()
        if isinstance(model, PARModel) or (isinstance(model, CodecLM) and not model.config.depth)
    ]


def stage_graphs(stage: str, model, durations: bool) -> list[GraphSpec]:
    """The graphs of one stage; ``durations``: the stage owns its family (PAR duration head)."""
    if isinstance(model, CodecLM):
        return ar_graphs(stage, model)
    return par_graphs(stage, model, durations)


def in_precision(spec: GraphSpec, dtype: torch.dtype) -> GraphSpec:
    """``spec`` with its module and floating example inputs cast to ``dtype``."""
    if dtype == torch.float32:
        return spec
    inputs = {k: v.to(dtype) if v.is_floating_point() else v for k, v in spec.inputs.items()}
    module = copy.deepcopy(spec.module).to(dtype)
    return GraphSpec(spec.name, module, inputs, spec.outputs, spec.dynamic, spec.minimum)


def write_graphs(
    models: dict,
    codec,
    directory: Path,
    options: ExportOptions = ExportOptions(),
    weights: dict[str, str] | None = None,
) -> dict:
    """Export the graphs of ``models`` (stage -> (model, config.json)) and ``codec`` into
    ``directory``; returns the manifest (also written there as ``manifest.json``)."""
    directory.mkdir(parents=True, exist_ok=True)
    family_models = {f.stages[0] for f in FAMILIES.values()}  # stages that own a family
    wanted = exportable_stages(models)
    if options.stages is not None:
        missing = sorted(set(options.stages) - set(wanted))
        if missing:
            raise UserError(
                f"no ONNX graph for stage(s) {', '.join(missing)}; exportable: "
                f"{', '.join(wanted) or 'none'}"
            )
        wanted = [s for s in wanted if s in options.stages]
    graphs = {}
    for stage in wanted:
        model, config = models[stage]
        meta = {
            "palette.config": json.dumps(config, ensure_ascii=False),
            "palette.symbols": json.dumps(config.get("symbols"), ensure_ascii=False),
            "palette.stage": stage,
        }
        dtype = PRECISIONS[options.precision]
        meta["palette.precision"] = options.precision
        for spec in stage_graphs(stage, model, durations=stage in family_models):
            graphs[spec.name] = export_graph(
                in_precision(spec, dtype),
                directory / f"{spec.name}.onnx",
                meta,
                options.opset,
                options.optimize,
            ) | {"dtype": options.precision}
    if options.codec:
        meta = {"palette.codec": json.dumps(codec_metadata(codec))}
        for spec in codec_graphs(codec):
            graphs[spec.name] = export_graph(
                spec, directory / f"{spec.name}.onnx", meta, options.opset, options.optimize
            ) | {"dtype": "fp32"}
    weights = {s: h for s, h in (weights or {}).items() if s in wanted}  # exported stages only
    manifest = {
        "format": MANIFEST_FORMAT,
        "opset": options.opset,
        "dtype": options.precision,  # of the model stages (the codec's graphs are fp32)
        "torch": torch.__version__,
        "graphs": graphs,
        "weights": weights,
    }
    (directory / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def export_bundle(bundle, out, options: ExportOptions = ExportOptions()):
    """A model directory with ONNX graphs at ``out`` (``out`` may be the bundle's own
    directory: the graphs are then added in place). Returns the new ``ModelBundle``."""
    from palette.codec import load_codec

    codec = load_codec(bundle.codec_ref).eval()
    if not hasattr(codec, "encoder") or not hasattr(codec, "decoder"):
        raise UserError(f"codec {bundle.codec!r} has no ONNX export (only palette codecs do)")
    models = bundle.load_models()
    new = bundle.write_onnx(
        out, lambda d: write_graphs(models, codec, d, options, bundle.weight_hashes())
    )
    family_stages = set(get_family(new.default_family).stages)
    if options.measure and options.precision == "fp32" and family_stages <= set(graph_stages(new)):
        from palette.streaming.onnx.measure import measure_runtimes

        new.update_onnx_manifest(measured=measure_runtimes(new.directory))
    return new
