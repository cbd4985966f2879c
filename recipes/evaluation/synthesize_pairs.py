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
import json
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from tqdm import tqdm

from palette.codec.files import run_reporting_user_errors
from palette.models.families import FAMILIES
from palette.recipes.evaluation.manifest import read_manifest, write_manifest
from palette.recipes.flags import add_flags, from_args
from palette.tts.synthesizer import SynthesisOptions, Synthesizer


def synthesize_pairs(
    pairs: str, model, out_dir: str, options: SynthesisOptions, limit: int = 0, adapt=False
) -> Path:
    """``model``: a model name or directory, or a loaded ``Synthesizer``. ``adapt``: adapt
    every voice to its prompt (``encode_voice(adapt=...)``); the adaptation's seconds are left
    out of ``synthesis_seconds`` and written to ``OUT/adapt_seconds.json``."""
    synth = model if isinstance(model, Synthesizer) else Synthesizer.from_pretrained(model)
    items = read_manifest(pairs)[: limit or None]
    out = Path(out_dir).resolve()
    done, adapted = [], {}
    for item in tqdm(items, desc=f"synthesise ({options.family or 'default'})", unit="utt"):
        start = time.perf_counter()
        voice = synth.encode_voice(item.prompt, item.prompt_text, adapt=adapt)
        audio = synth.synthesize(item.text, voice, options=options)
        seconds = time.perf_counter() - start
        if voice.adapt_log is not None:
            adapted[item.id] = voice.adapt_log.total_seconds
            seconds -= voice.adapt_log.total_seconds
        path = audio.save(out / f"{item.id}.wav")
        done.append(dataclasses.replace(item, generated=path, synthesis_seconds=seconds))
    if adapted:
        out.mkdir(parents=True, exist_ok=True)
        (out / "adapt_seconds.json").write_text(json.dumps(adapted, indent=1))
    return write_manifest(out / "manifest.jsonl", done)


@dataclass(frozen=True)
class PairSynthesisOptions:
    pairs: str  # manifest from `palette eval pairs`
    model: str  # model name or directory
    out: str  # folder for the wavs and manifest.jsonl
    family: str | None = None  # model family (None: the model's default family)
    limit: int = 0  # only the first N pairs (0 = all)
    seed: int = 0  # random seed of the first pair (each pair adds its index)
    temperature: float | None = None  # sampling temperature (None: the model's recommended)
    speculative: str | None = None  # ar/kalle: exact, sampling or relaxed (None: off)
    threads: int = 2  # torch CPU threads


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_flags(parser, PairSynthesisOptions, positional=("pairs",), choices={"family": FAMILIES})
    o = from_args(PairSynthesisOptions, parser.parse_args(argv))
    torch.set_num_threads(o.threads)
    options = SynthesisOptions(
        family=o.family, seed=o.seed, temperature=o.temperature, speculative=o.speculative
    )
    return run_reporting_user_errors(
        "synthesize_pairs",
        lambda: print(synthesize_pairs(o.pairs, o.model, o.out, options, o.limit)),
    )


if __name__ == "__main__":
    raise SystemExit(main())
