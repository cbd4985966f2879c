"""Phoneme durations of every cut from a trained CTC aligner (the ``align`` stage), stored for
the ``--aligned`` PAR stages.

    python -m palette.recipes.libritts.durations --manifests data/libritts-prep --codec palette-codec \\
        --aligner exp/align/final

Writes ``<manifests>/features/<tag>/durations.json`` (``{cut_id: [frames per phoneme]}``)
atomically. Cuts too short for their phonemes are left out and counted.
"""

from __future__ import annotations

import argparse
import json
import logging
from dataclasses import dataclass
from pathlib import Path

import torch
from tqdm import tqdm

from palette.codec import DEFAULT_CODEC
from palette.codec.files import UserError, run_reporting_user_errors, write_text_atomic
from palette.models.loading import load_model
from palette.recipes.flags import add_flags, from_args
from palette.recipes.libritts.lm_data import collate, durations_path, load_cuts
from palette.tts.symbols import SymbolTable

logger = logging.getLogger(__name__)


def align_cuts(aligner, cuts, batch_size: int = 16) -> tuple[dict[str, list[int]], list[str]]:
    """-> ({cut id: durations}, ids of cuts that could not be aligned)."""
    symbols = SymbolTable.default()
    found, failed, chunk = {}, [], []

    def flush():
        batch = collate(chunk, latents=aligner.continuous, symbols=symbols)
        for cut, d in zip(chunk, aligner.durations(batch), strict=True):
            if d is None:
                failed.append(cut.id)
            else:
                found[cut.id] = d.tolist()
        chunk.clear()

    for cut in tqdm(cuts, desc="align", unit="cut"):
        chunk.append(cut)
        if len(chunk) == batch_size:
            flush()
    if chunk:
        flush()
    return found, failed


@dataclass(frozen=True)
class DurationOptions:
    aligner: str  # the align stage's final directory
    manifests: str = "data/libritts-prep"  # prepare.py's output folder
    codec: str = DEFAULT_CODEC  # codec whose features were stored
    parts: tuple[str, ...] = ("train-clean-100", "dev-clean", "test-clean")  # subsets to align


def store_durations(options: DurationOptions) -> Path:
    aligner, _ = load_model(options.aligner)
    with torch.inference_mode():
        found, failed = align_cuts(
            aligner, load_cuts(options.manifests, options.codec, list(options.parts))
        )
    if not found:
        raise UserError("no cut could be aligned: is the aligner trained for this codec?")
    path = durations_path(options.manifests, options.codec)
    write_text_atomic(path, json.dumps(found))
    logger.info("durations of %d cuts in %s (%d too short to align)", len(found), path, len(failed))
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_flags(parser, DurationOptions)
    options = from_args(DurationOptions, parser.parse_args(argv))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    return run_reporting_user_errors("durations", lambda: store_durations(options) and 0)


if __name__ == "__main__":
    raise SystemExit(main())
