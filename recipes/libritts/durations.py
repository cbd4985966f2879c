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
from pathlib import Path

import torch
from palette.models.config import _atomic_write
from palette.models.loading import load_model
from palette.recipes.libritts.lm_data import collate, durations_path, load_cuts
from palette.tts.symbols import SymbolTable
from tqdm import tqdm

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


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("--manifests", default="data/libritts-prep", help="prepare.py's output folder")
    p.add_argument("--codec", default="palette-codec", help="codec whose features were stored")
    p.add_argument("--aligner", required=True, help="the align stage's final directory")
    p.add_argument("--parts", default="train-clean-100,dev-clean,test-clean",
                   help="comma-separated subsets to align")  # fmt: skip
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    aligner, _ = load_model(args.aligner)
    parts = [part for part in args.parts.split(",") if part]
    with torch.inference_mode():
        found, failed = align_cuts(aligner, load_cuts(args.manifests, args.codec, parts))
    if not found:
        raise SystemExit("no cut could be aligned: is the aligner trained for this codec?")
    path = durations_path(args.manifests, args.codec)
    _atomic_write(path, lambda tmp: Path(tmp).write_text(json.dumps(found)))
    logger.info("durations of %d cuts in %s (%d too short to align)", len(found), path,
                len(failed))  # fmt: skip


if __name__ == "__main__":
    main()
