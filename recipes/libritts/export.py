r"""Assemble a model directory that ``tts.Synthesizer.from_pretrained`` loads from trained stages.

    python -m palette.recipes.libritts.export OUT_DIR --codec codec/weights/palette-codec \
        --stage par=exp/par/final --stage refine=exp/refine/final --stage nar=exp/nar/final \
        --default-family par

Weights are stored in float16 (they load as float32) to keep shipped models small. The codec is
referenced by registered name or copied in when given as a directory.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

from palette.codec.files import UserError, run_reporting_user_errors
from palette.models.config import load_checkpoint
from palette.models.families import FAMILIES
from palette.recipes.flags import add_flags, from_args
from palette.tts.bundle import ModelBundle


@dataclass(frozen=True)
class ExportOptions:
    out: str  # model directory to write (replaced if it exists)
    codec: str  # registered codec name or codec directory (copied in)
    default_family: str  # the family used when a user names none
    stage: tuple[str, ...] = ()  # NAME=DIR: a trained stage's final directory; repeat per stage
    language: str = "en-us"  # espeak-ng language of the model's front end
    card: str = ""  # markdown model card to include
    sampling: str = "{}"  # recommended options per family, JSON: {"par": {"temperature": 0.4}}
    share: tuple[str, ...] = ()  # STAGE=SIBLING: store only the tensors STAGE does not share
    # with SIBLING (e.g. ar=kalle for a depth head trained on kalle's frozen backbone)


def export_bundle(
    out_dir: str,
    codec: str,
    stages: dict[str, str],
    default_family: str,
    language: str = "en-us",
    card: str = "",
    sampling: dict | None = None,
    shares: dict[str, str] | None = None,
) -> Path:
    """Trained stage directories -> one model directory (written by ``ModelBundle.write``)."""
    checkpoints = {stage: load_checkpoint(source) for stage, source in stages.items()}
    bundle = ModelBundle.write(
        out_dir,
        codec,
        checkpoints,
        default_family,
        language,
        sampling,
        card or None,
        half=True,
        shares=shares,
    )
    return bundle.directory


def _pairs(flag: str, values: tuple[str, ...]) -> dict[str, str]:
    """``NAME=VALUE`` flags -> {name: value}."""
    pairs = {}
    for pair in values:
        name, sep, value = pair.partition("=")
        if not sep or not name or not value:
            raise UserError(f"--{flag} takes NAME=VALUE, not {pair!r}")
        pairs[name] = value
    return pairs


def export(options: ExportOptions) -> Path:
    stages = _pairs("stage", options.stage)
    if not stages:
        raise UserError("give at least one --stage NAME=DIR")
    try:
        sampling = json.loads(options.sampling)
    except json.JSONDecodeError as err:
        raise UserError(f"--sampling is not valid JSON ({err})") from None
    return export_bundle(
        options.out,
        options.codec,
        stages,
        options.default_family,
        options.language,
        options.card,
        sampling,
        _pairs("share", options.share),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_flags(
        parser,
        ExportOptions,
        positional=("out",),
        repeat=("stage", "share"),
        choices={"default_family": FAMILIES},
    )
    options = from_args(ExportOptions, parser.parse_args(argv))
    return run_reporting_user_errors("export", lambda: print(export(options)))


if __name__ == "__main__":
    raise SystemExit(main())
