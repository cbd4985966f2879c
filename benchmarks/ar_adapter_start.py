"""Where an ar stage over latent codes starts: teacher-forced cross-entropy of codebook 1 on
held-out cuts for an ar model warm-started three ways, and for a trained one:

- ``par, fresh adapter``: the default model's PAR stage's matching tensors, new code adapter;
- ``kalle, fresh adapter``: the kalle stage's matching tensors, new code adapter;
- ``kalle + Gaussian adapter``: the same, the code adapter from kalle's Gaussian
  (``lm_task.codes_from_gaussian``: code inputs as kalle's inputs for their vectors, logits as
  kalle's densities of them);
- ``trained``: ``--trained``'s weights.

    python benchmarks/ar_adapter_start.py --trained exp/ar/final --manifests data/libritts-prep \\
        --base tts/checkpoints/palette-mini-en
"""

from __future__ import annotations

import argparse
import math

import torch

from palette.models.config import LMConfig, load_checkpoint
from palette.models.loading import build_model
from palette.recipes.libritts.lm_data import collate, load_cuts, read_durations
from palette.recipes.libritts.lm_task import codes_from_gaussian, warm_start
from palette.recipes.libritts.speaker_features import load_table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--trained", required=True, help="a trained ar stage (its config is used)")
    parser.add_argument("--manifests", required=True, help="prepare.py output with features")
    parser.add_argument("--base", default="tts/checkpoints/palette-mini-en", help="par + kalle")
    parser.add_argument("--codec", default="palette-codec", help="codec of the features")
    parser.add_argument("--part", default="dev-clean", help="held-out subset")
    parser.add_argument("--cuts", type=int, default=24, help="cuts in the scored batch")
    args = parser.parse_args(argv)
    saved, trained = load_checkpoint(args.trained)
    config = LMConfig.from_dict(saved["model"])
    durations = read_durations(args.manifests, args.codec)
    table = load_table(args.manifests, args.codec) if config.speaker_dim else None
    cuts = [
        c
        for c in load_cuts(args.manifests, args.codec, [args.part])
        if c.id in durations and (table is None or c.id in table.row)
    ][: args.cuts]
    batch = collate(cuts, durations=durations)
    if table is not None:
        batch.speaker = table.batch([c.id for c in cuts], "utterance", torch.Generator())
    starts = {
        "par, fresh adapter": (f"{args.base}/par", False),
        "kalle, fresh adapter": (f"{args.base}/kalle", False),
        "kalle + Gaussian adapter": (f"{args.base}/kalle", True),
        "trained": (None, False),
    }
    print(f"| start | codebook-1 cross-entropy (uniform {math.log(config.cardinality + 1):.2f}) |")
    print("|---|---|")
    for name, (source, gaussian) in starts.items():
        torch.manual_seed(0)
        model = build_model(config)
        if source is None:
            model.load_state_dict(trained)
        else:
            warm_start(model, source, saved["symbols"])
            if gaussian and not codes_from_gaussian(model, source, args.codec):
                raise SystemExit(f"{args.codec}: no latent codes to start the adapter from")
        with torch.inference_mode():
            ce = float(model.eval()(batch)["ce"])
        print(f"| {name} | {ce:.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
