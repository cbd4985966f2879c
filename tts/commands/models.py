"""``palette models``: the installed models and codecs."""

from __future__ import annotations

import argparse
import json

HELP = "list installed models and codecs"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON")


def run(args: argparse.Namespace) -> int:
    from palette.codec import available_codecs
    from palette.tts.registry import CHECKPOINTS, available_models

    models = {}
    for name in available_models():
        bundle = json.loads((CHECKPOINTS / name / "bundle.json").read_text())
        stages = sorted(p.name for p in (CHECKPOINTS / name).iterdir() if (p / "config.json").is_file() and p.name != "codec")  # fmt: skip
        models[name] = {"codec": bundle["codec"], "default_family": bundle["default_family"], "stages": stages}  # fmt: skip
    if args.json:
        print(json.dumps({"models": models, "codecs": available_codecs()}, indent=2))
        return 0
    print("models:" if models else "models: none installed")
    for name, info in models.items():
        print(f"  {name}  (default family {info['default_family']}; stages {', '.join(info['stages'])})")  # fmt: skip
    print("codecs:")
    for name in available_codecs():
        print(f"  {name}")
    return 0
