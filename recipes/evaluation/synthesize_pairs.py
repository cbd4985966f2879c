"""Synthesise the zero-shot test list (``palette eval pairs``) with a model, for scoring.

    palette eval pairs data/mini-libritts/test-clean -o exp/pairs.jsonl
    python -m palette.recipes.evaluation.synthesize_pairs exp/pairs.jsonl --model exp/model \
        --family par --out exp/gen-par
    palette eval score exp/gen-par/manifest.jsonl -o exp/gen-par/results.json

Writes ``OUT/<id>.wav`` for every pair and ``OUT/manifest.jsonl`` (the pairs with ``generated``
and ``synthesis_seconds`` filled in, so the harness reports the real-time factor).
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

import torch
from palette.recipes.evaluation.manifest import read_manifest, write_manifest
from palette.tts.synthesizer import SynthesisOptions, Synthesizer
from tqdm import tqdm


def synthesize_pairs(pairs: str, model: str, out_dir: str, options: SynthesisOptions,
                     limit: int = 0) -> Path:  # fmt: skip
    synth = Synthesizer.from_pretrained(model)
    items = read_manifest(pairs)[: limit or None]
    out = Path(out_dir).resolve()
    done = []
    for item in tqdm(items, desc=f"synthesise ({options.family or 'default'})", unit="utt"):
        start = time.perf_counter()
        voice = synth.encode_voice(item.prompt, item.prompt_text)
        audio = synth.synthesize(item.text, voice, options=options)
        seconds = time.perf_counter() - start
        path = audio.save(out / f"{item.id}.wav")
        done.append(dataclasses.replace(item, generated=path, synthesis_seconds=seconds))
    return write_manifest(out / "manifest.jsonl", done)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("pairs", help="manifest from `palette eval pairs`")
    p.add_argument("--model", required=True, help="model name or directory")
    p.add_argument(
        "--family", choices=["ar", "par", "kalle"], help="model family (default: the model's)"
    )
    p.add_argument("--out", required=True, help="folder for the wavs and manifest.jsonl")
    p.add_argument("--limit", type=int, default=0, help="only the first N pairs (0 = all)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    options = SynthesisOptions(family=args.family, seed=args.seed)
    print(synthesize_pairs(args.pairs, args.model, args.out, options, args.limit))


if __name__ == "__main__":
    main()
