"""The autoregressive families with and without self-speculative decoding, beside the default
PAR model, on one pair list, in one run (2 CPU cores):

    palette eval pairs data/mini-libritts/test-clean -o exp/report/unseen.jsonl --per-speaker 2
    python benchmarks/speculative_report.py --model exp/model-ar --pairs exp/report/unseen.jsonl \
        --work exp/speculative --out benchmarks/results/speculative

Systems: ``par`` (the model's recommended options), ``ar`` eager (no KV cache: every step
recomputes the whole sequence; speed only, on ``--eager-items`` items), ``ar`` with the KV cache,
``ar`` greedy with and without exact speculative decoding (token-identical), speculative
sampling, relaxed acceptance over a sweep of ``(tau_ctc, tau_lm)``; ``kalle`` eager (speed only),
with the KV cache, speculative sampling and relaxed over a sweep of ``tau_lm`` (each followed by
the model's refinement where it has a latent refine stage, as the bundle recommends).

For each: transformer forward passes per second of audio (every call of a stage's core,
counted by a hook, the duration pass included), wall-clock real-time factor (prompt encoding
excluded, the same voice for every system), draft acceptance rate and mean steps committed per
pass of the speculative generators, and WER (Whisper tiny.en) and SIM to the prompt
(resemblyzer) from the evaluation harness. Writes ``OUT/report.md`` and ``OUT/report.json``.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from palette.models import generate
from palette.models.families import ar as ar_family
from palette.models.families import kalle as kalle_family
from palette.recipes.evaluation.manifest import read_manifest, write_manifest
from palette.recipes.evaluation.scorer import EvalOptions, score_items
from palette.tts.synthesizer import SynthesisOptions, Synthesizer

RELAXED_AR = ((0.0, 0.3), (0.0, 0.1), (0.5, 0.1), (1.0, 0.05), (2.0, 0.02))  # (tau_ctc, tau_lm)
RELAXED_KALLE = (0.95, 0.93, 0.9, 0.8, 0.7, 0.5, 0.3, 0.1, 0.03)  # tau_lm


@dataclasses.dataclass(frozen=True)
class System:
    name: str
    options: SynthesisOptions
    eager: bool = False  # ar without the KV cache
    speed_only: bool = False  # not scored (eager gives the cached tokens, only slower)


def systems(
    temperature: float | None, refine_quantile: float | None = None, relaxed_ar=RELAXED_AR
) -> list[System]:
    """``refine_quantile``: kalle's (and a depth-head ar's) refinement share per pass (None: the
    model's); ``relaxed_ar``: the ``(tau_ctc, tau_lm)`` pairs of ar's relaxed sweep."""
    ar = SynthesisOptions(
        family="ar",
        temperature=1.0 if temperature is None else temperature,
        refine_quantile=refine_quantile,
    )
    greedy = dataclasses.replace(ar, temperature=0.0)
    kalle = SynthesisOptions(
        family="kalle",
        temperature=0.7 if temperature is None else temperature,
        refine_quantile=refine_quantile,
    )
    # speculative sampling keeps the sampled distribution: it needs a temperature above 0
    sampled = kalle if kalle.temperature > 0 else dataclasses.replace(kalle, temperature=0.4)
    at = "" if sampled is kalle else f" t={sampled.temperature}"
    out = [
        System("par", SynthesisOptions(family="par")),
        System("ar eager (no cache)", ar, eager=True, speed_only=True),
        System("ar + KV cache", ar),
        System("ar greedy + KV cache", greedy),
        System("ar greedy, unrefined", dataclasses.replace(greedy, refine_iterations=0)),
        System("ar greedy, speculative exact", dataclasses.replace(greedy, speculative="exact")),
        System("ar, speculative sampling", dataclasses.replace(ar, speculative="sampling")),
    ]
    for tau_ctc, tau_lm in relaxed_ar:
        relaxed = dataclasses.replace(ar, speculative="relaxed", tau_ctc=tau_ctc, tau_lm=tau_lm)
        out.append(System(f"ar, relaxed tau_ctc={tau_ctc} tau_lm={tau_lm}", relaxed))
    out.append(System("kalle eager (no cache)", kalle, eager=True, speed_only=True))
    out.append(System("kalle + KV cache", kalle))
    if sampled is not kalle:
        out.append(System(f"kalle{at} + KV cache", sampled))
    out.append(
        System(
            f"kalle{at}, speculative sampling", dataclasses.replace(sampled, speculative="sampling")
        )
    )
    for tau_lm in RELAXED_KALLE:
        relaxed = dataclasses.replace(kalle, speculative="relaxed", tau_lm=tau_lm)
        out.append(System(f"kalle, relaxed tau_lm={tau_lm}", relaxed))
    return out


class Counters:
    """Forward passes of every stage's core, and the speculative generators' tallies."""

    def __init__(self, synth: Synthesizer):
        self.passes = 0
        self.generators: list = []
        for model in synth.models.values():
            core = getattr(model, "core", None)
            if isinstance(core, torch.nn.Module):
                core.register_forward_hook(self._count)
            elif core is not None:  # onnxruntime's step graph (OrtCodecLM)
                model.core = self._counting(core)
            elif hasattr(model, "logits"):  # onnxruntime's PAR forward (OrtPARModel)
                model.logits = self._counting(model.logits)

    def _count(self, *_):
        self.passes += 1

    def _counting(self, call):
        def counted(*args, **kwargs):
            self.passes += 1
            return call(*args, **kwargs)

        return counted

    def recording(self, cls):
        """A subclass of generator ``cls`` whose instances are kept for their tallies."""
        counters = self

        class Recorded(cls):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                counters.generators.append(self)

        return Recorded

    def reset(self):
        self.passes, self.generators = 0, []

    def speculative(self) -> dict:
        g = [x for x in self.generators if hasattr(x, "accepted")]
        if not g:
            return {}
        drafted, accepted = sum(x.drafted for x in g), sum(x.accepted for x in g)
        committed = sum(x.generated.shape[-1] // x.P for x in g)
        return {
            "acceptance": accepted / max(drafted, 1),
            "steps_per_pass": committed / max(sum(x.passes for x in g), 1),
        }


@contextmanager
def patched(counters: Counters, eager: bool):
    """Record the generators the families make (and, for eager, turn the KV cache off)."""
    saved = {
        (ar_family, "ARGenerator"): ar_family.ARGenerator,
        (ar_family, "SpeculativeARGenerator"): ar_family.SpeculativeARGenerator,
        (ar_family, "SpeculativeDepthGenerator"): ar_family.SpeculativeDepthGenerator,
        (kalle_family, "ARGenerator"): kalle_family.ARGenerator,
        (kalle_family, "SpeculativeGaussianGenerator"): kalle_family.SpeculativeGaussianGenerator,
    }
    try:
        for (module, name), cls in saved.items():
            recorded = counters.recording(cls)
            if eager and cls is generate.ARGenerator:
                recorded = functools.partial(recorded, use_cache=False)
            setattr(module, name, recorded)
        yield
    finally:
        for (module, name), cls in saved.items():
            setattr(module, name, cls)


def run_system(synth, counters, system: System, items, voices, out_dir: Path) -> dict:
    out_dir.mkdir(parents=True, exist_ok=True)
    done, wall, audio_seconds, passes, spec = [], 0.0, 0.0, 0, []
    for item in tqdm(items, desc=system.name, unit="utt"):
        counters.reset()
        with patched(counters, system.eager):
            start = time.perf_counter()
            audio = synth.synthesize(item.text, voices[item.id], options=system.options)
            seconds = time.perf_counter() - start
        wall, audio_seconds, passes = (
            wall + seconds,
            audio_seconds + audio.duration,
            passes + counters.passes,
        )
        spec.append(counters.speculative())
        path = audio.save(out_dir / f"{item.id}.wav")
        done.append(dataclasses.replace(item, generated=path, synthesis_seconds=seconds))
    row = {
        "system": system.name,
        "items": len(items),
        "passes_per_second": passes / audio_seconds,
        "rtf": wall / audio_seconds,
    }
    if spec and spec[0]:
        row |= {k: float(np.mean([s[k] for s in spec])) for k in spec[0]}
    if not system.speed_only:
        manifest = write_manifest(out_dir / "manifest.jsonl", done)
        summary = score_items(read_manifest(manifest), EvalOptions(metrics=("wer", "sim")))
        row |= {k: summary["summary"].get(k) for k in ("wer", "sim_prompt")}
    return row


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--model", required=True, help="model with par, ar (+ nar) and kalle stages")
    p.add_argument("--pairs", required=True, help="pair list from `palette eval pairs`")
    p.add_argument("--limit", type=int, default=20, help="pairs per system")
    p.add_argument("--eager-items", type=int, default=3, help="pairs for ar/kalle without cache")
    p.add_argument("--temperature", type=float, help="ar/kalle sampling temperature")
    p.add_argument(
        "--refine-quantile",
        type=float,
        help="kalle: frames re-predicted per refinement pass (default: the model's)",
    )
    p.add_argument(
        "--relaxed-ar",
        help="ar's relaxed sweep as TAU_CTC:TAU_LM,... (default: "
        + ",".join(f"{c}:{lm}" for c, lm in RELAXED_AR)
        + "; a depth-head ar's entropies are per codebook, its probabilities geometric means)",
    )
    p.add_argument("--systems", help="comma-separated substrings: only matching systems")
    p.add_argument("--work", default="exp/speculative", help="folder for generated audio")
    p.add_argument("--out", default="benchmarks/results/speculative", help="report folder")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--runtime", choices=("torch", "onnx"), default="torch")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    synth = Synthesizer.from_pretrained(args.model, runtime=args.runtime)
    counters = Counters(synth)
    items = read_manifest(args.pairs)[: args.limit]
    voices = {i.id: synth.encode_voice(i.prompt, i.prompt_text) for i in items}
    sweep = RELAXED_AR
    if args.relaxed_ar:
        sweep = tuple(
            tuple(float(x) for x in pair.split(":")) for pair in args.relaxed_ar.split(",")
        )
    chosen = systems(args.temperature, args.refine_quantile, sweep)
    if args.systems:
        keys = args.systems.split(",")
        chosen = [s for s in chosen if any(k in s.name for k in keys)]
    rows = []
    for system in chosen:
        subset = items[: args.eager_items] if system.eager else items
        slug = "".join(c if c.isalnum() else "-" for c in system.name)
        rows.append(run_system(synth, counters, system, subset, voices, Path(args.work) / slug))
        print(json.dumps(rows[-1]))
    write(rows, Path(args.out), argv if argv is not None else sys.argv[1:])


def _fmt(row: dict, key: str, fmt: str) -> str:
    value = row.get(key)
    return "–" if value is None else fmt.format(value)


def write(rows: list[dict], out: Path, argv: list[str]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(rows, indent=2))
    lines = [
        "# Self-speculative decoding of the autoregressive families (CPU)",
        "",
        f"Made by `python benchmarks/speculative_report.py {' '.join(argv)}`.",
        "",
        "| system | items | passes / s audio | RTF | acceptance | steps / pass | WER | SIM |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['system']} | {r['items']} | {r['passes_per_second']:.1f} | {r['rtf']:.3f} | "
            f"{_fmt(r, 'acceptance', '{:.1%}')} | {_fmt(r, 'steps_per_pass', '{:.2f}')} | "
            f"{_fmt(r, 'wer', '{:.1%}')} | {_fmt(r, 'sim_prompt', '{:.3f}')} |"
        )
    (out / "report.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
