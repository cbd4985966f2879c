"""``palette export``: ONNX graphs of a model's stages and codec, for ``--runtime onnx``."""

from __future__ import annotations

import argparse

HELP = "export a model's stages and codec to ONNX graphs (for --runtime onnx)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", help="a shipped model name or a model directory")
    parser.add_argument(
        "--out",
        required=True,
        help="model directory to write: a copy of MODEL with an onnx/ folder "
        "(MODEL's own directory adds the graphs in place)",
    )
    parser.add_argument("--opset", type=int, default=20, help="ONNX opset (default 20)")
    parser.add_argument(
        "--stage",
        action="append",
        dest="stages",
        metavar="STAGE",
        help="export only this stage (repeatable; default: every PAR, AR and KALL-E stage)",
    )
    parser.add_argument(
        "--precision",
        choices=("fp32", "fp16"),
        default="fp32",
        help="precision of the model stages' graphs (fp16 for GPUs; the codec stays fp32)",
    )
    parser.add_argument("--no-codec", action="store_true", help="do not export the codec")
    parser.add_argument(
        "--no-measure",
        action="store_true",
        help="do not time PyTorch against onnxruntime after exporting (runtime auto then "
        "takes onnxruntime whenever it is installed)",
    )
    parser.add_argument(
        "--no-optimize", action="store_true", help="skip the exporter's graph optimisation"
    )


def run(args: argparse.Namespace) -> int:
    from palette.codec.files import UserError
    from palette.streaming.onnx.export import ExportOptions, export_bundle
    from palette.tts.bundle import ModelBundle
    from palette.tts.registry import resolve_model

    if not 18 <= args.opset <= 23:  # the dynamo exporter's range
        raise UserError(f"--opset must lie in [18, 23], got {args.opset}")
    options = ExportOptions(
        opset=args.opset,
        optimize=not args.no_optimize,
        stages=tuple(args.stages) if args.stages else None,
        codec=not args.no_codec,
        precision=args.precision,
        measure=not args.no_measure,
    )
    bundle = export_bundle(ModelBundle.read(resolve_model(args.model)), args.out, options)
    graphs = bundle.onnx_manifest()["graphs"]
    print(f"wrote {len(graphs)} graphs to {bundle.directory / 'onnx'}: {', '.join(graphs)}")
    measured = bundle.onnx_manifest().get("measured")
    if measured:
        print(
            f"measured the {measured['family']} family on {measured['threads']} threads: "
            f"RTF {measured['torch_rtf']:.3f} on PyTorch, {measured['onnx_rtf']:.3f} on "
            "onnxruntime (runtime auto takes the faster)"
        )
    return 0
