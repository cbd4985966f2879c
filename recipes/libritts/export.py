"""Assemble a model directory that ``tts.Synthesizer.from_pretrained`` loads from trained stages.

    python -m palette.recipes.libritts.export OUT_DIR --codec codec/weights/palette-codec \
        --stage par=exp/par/final --stage refine=exp/refine/final --stage nar=exp/nar/final \
        --default-family par

Weights are stored in float16 (they load as float32) to keep shipped models small. The codec is
referenced by registered name or copied in when given as a directory.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import torch
from palette.models.config import load_checkpoint
from palette.tts.synthesizer import STAGES
from safetensors.torch import save_file


def export_bundle(out_dir: str, codec: str, stages: dict[str, str], default_family: str,
                  language: str = "en-us", card: str = "", sampling: dict | None = None) -> Path:  # fmt: skip
    out = Path(out_dir)
    tmp = out.with_name(f".{out.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    codec_ref = codec
    if Path(codec).is_dir():
        shutil.copytree(codec, tmp / "codec")
        codec_ref = "codec"
    for stage, source in stages.items():
        if stage not in STAGES:
            raise ValueError(f"unknown stage {stage!r}; one of {', '.join(STAGES)}")
        config, state = load_checkpoint(source)
        (tmp / stage).mkdir()
        half = {k: v.to(torch.float16) if v.is_floating_point() else v for k, v in state.items()}
        save_file(half, str(tmp / stage / "model.safetensors"))
        (tmp / stage / "config.json").write_text(json.dumps(config, indent=2, ensure_ascii=False))
    if default_family not in stages:
        raise ValueError(f"default family {default_family!r} is not among the exported stages")
    bundle = {"codec": codec_ref, "language": language, "default_family": default_family,
              "sampling": sampling or {}}  # fmt: skip
    (tmp / "bundle.json").write_text(json.dumps(bundle, indent=2))
    if card:
        shutil.copy(card, tmp / "MODEL_CARD.md")
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    return out


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("out", help="model directory to write (replaced if it exists)")
    p.add_argument("--codec", required=True, help="registered codec name or codec directory")
    p.add_argument("--stage", action="append", required=True, metavar="NAME=DIR",
                   help="a trained stage's final directory; repeat for each stage")  # fmt: skip
    p.add_argument("--default-family", required=True, choices=["ar", "par", "kalle"])
    p.add_argument("--language", default="en-us")
    p.add_argument("--card", default="", help="markdown model card to include")
    p.add_argument("--sampling", type=json.loads, default={},
                   help='recommended options per family, JSON: \'{"par": {"temperature": 0.4}}\'')  # fmt: skip
    args = p.parse_args(argv)
    stages = dict(s.split("=", 1) for s in args.stage)
    print(
        export_bundle(args.out, args.codec, stages, args.default_family, args.language, args.card,
                      args.sampling)  # fmt: skip
    )


if __name__ == "__main__":
    main()
