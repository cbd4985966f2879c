"""``palette models``: the installed models and codecs."""

from __future__ import annotations

import argparse
import json

HELP = "list installed models and codecs"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON")


def run(args: argparse.Namespace) -> int:
    from palette.codec import available_codecs
    from palette.tts.bundle import ModelBundle
    from palette.tts.registry import available_models, resolve_model

    models = {}
    for name in available_models():
        bundle = ModelBundle.read(resolve_model(name))
        models[name] = {
            "codec": bundle.codec,
            "default_family": bundle.default_family,
            "families": bundle.families,
            "stages": list(bundle.stages),
        }
    if args.json:
        print(json.dumps({"models": models, "codecs": available_codecs()}, indent=2))
        return 0
    print("models:" if models else "models: none installed")
    for name, info in models.items():
        print(
            f"  {name}  (default family {info['default_family']}; families "
            f"{', '.join(info['families'])}; stages {', '.join(info['stages'])})"
        )
    print("codecs:")
    for name in available_codecs():
        print(f"  {name}")
    return 0
