"""Does self-speculative decoding keep its speed-up on onnxruntime? Plain AR vs speculative
decoding of a real-size KALL-E (and VALL-E) stage, on PyTorch and on onnxruntime, 2 CPU cores.

    python benchmarks/speculative_onnx.py --out benchmarks/results/speculative/onnx.md

The trained AR stages do not ship (they do not speak yet: ``results/ar_families``), so this uses
stages of the recipe's architecture (``recipes/libritts/ar_model.sh``: 4 blocks, width 256;
kalle 2 frames per step with a 4-step Gaussian draft head; ar with an x8 CTC draft head) with
**random weights**, beside the shipped model's codec and phoneme table, exported with ``palette
export``'s graphs. Random weights fix the cost of each pass, not how often a draft is accepted:
kalle ``relaxed`` with ``tau_lm = 0`` keeps every draft (the most a pass can commit) and
``tau_lm`` 0.3 keeps what the random model agrees with; the trained kalle kept 85 % of its
drafts at tau 0.3 (``results/speculative/report.md``). ar ``exact`` greedy is token-identical to
greedy and shows the cost of a rejected draft on each runtime. RTF = wall seconds / audio
seconds of one sentence (prompt encoded once beforehand), the best of ``--repeats``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import torch

from palette.models.config import LMConfig
from palette.models.loading import build_model
from palette.models.transformer import TransformerConfig
from palette.streaming.onnx.export import ExportOptions, export_bundle
from palette.tts.bundle import ModelBundle
from palette.tts.options import SynthesisOptions
from palette.tts.registry import resolve_model
from palette.tts.synthesizer import Synthesizer

ROOT = Path(__file__).resolve().parents[1]
TEXT = "When the sunlight strikes raindrops in the air, they act as a prism and form a rainbow."
SYSTEMS = {  # name -> options
    "kalle": SynthesisOptions(family="kalle", temperature=0.8),
    "kalle relaxed tau 0.3": SynthesisOptions(
        family="kalle", temperature=0.8, speculative="relaxed", draft_tokens=4, tau_lm=0.3
    ),
    "kalle relaxed tau 0 (every draft kept)": SynthesisOptions(
        family="kalle", temperature=0.8, speculative="relaxed", draft_tokens=4, tau_lm=0.0
    ),
    "ar greedy": SynthesisOptions(family="ar", temperature=0.0),
    "ar greedy + exact speculative": SynthesisOptions(
        family="ar", temperature=0.0, speculative="exact", draft_tokens=8
    ),
}


def random_bundle(out: Path) -> ModelBundle:
    """The shipped model's codec and symbols with random aligned ar, nar and kalle stages."""
    from palette.codec import load_codec

    shipped = ModelBundle.read(resolve_model(None))
    config = shipped.load_models(["par"])["par"][1]
    codec = load_codec(shipped.codec_ref)
    core = TransformerConfig(dim=256, layers=4, heads=4)
    stages = {
        "ar": {"family": "ar", "aligned": True, "draft_upsample": 8},
        "nar": {"family": "nar"},
        "kalle": {"family": "kalle", "aligned": True, "patch": 2, "draft_ahead": 4},
    }
    torch.manual_seed(0)
    checkpoints = {}
    for stage, fields in stages.items():
        kalle = fields["family"] == "kalle"
        cfg = LMConfig(
            num_symbols=config["model"]["num_symbols"],
            transformer=core,
            cardinality=0 if kalle else codec.cardinality,
            num_codebooks=codec.num_codebooks,
            latent_dim=16 if kalle else 0,
            **fields,
        )
        model = build_model(cfg)
        with torch.no_grad():  # never stop early: every sentence runs to its aligned length
            if stage == "kalle":
                model.frames.stop.bias.fill_(-20.0)
        checkpoints[stage] = (
            {**config, "model": cfg.to_dict(), "stage": stage},
            model.state_dict(),
        )
    written = ModelBundle.write(out / "torch", shipped.codec_ref, checkpoints, "kalle", half=False)
    return export_bundle(written, out / "onnx", ExportOptions(measure=False))


def rtf(synth: Synthesizer, voice, options: SynthesisOptions, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        audio = synth.synthesize(TEXT, voice, options=options)
        times.append((time.perf_counter() - start) / audio.duration)
    return min(times)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--out", default=str(ROOT / "benchmarks/results/speculative/onnx.md"))
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        bundle = random_bundle(Path(tmp))
        synths = {
            "PyTorch (fp32)": Synthesizer.from_pretrained(
                bundle.directory, runtime="torch", precision="fp32"
            ),
            "onnxruntime (fp32)": Synthesizer.from_pretrained(bundle.directory, runtime="onnx"),
        }
        prompt = (ROOT / "demos/prompt.wav", (ROOT / "demos/prompt.txt").read_text().strip())
        voices = {name: s.encode_voice(*prompt) for name, s in synths.items()}
        table = {
            system: {
                name: rtf(synth, voices[name], options, args.repeats)
                for name, synth in synths.items()
            }
            for system, options in SYSTEMS.items()
        }
    write(args, table, list(synths))


def write(args, table: dict, runtimes: list[str]) -> None:
    command = "python benchmarks/speculative_onnx.py " + " ".join(sys.argv[1:])
    lines = [
        "# Self-speculative decoding on PyTorch and onnxruntime (random real-size AR stages)",
        "",
        f"Made by `{command.strip()}` ({args.threads} threads, torch {torch.__version__}, "
        f"onnxruntime {__import__('onnxruntime').__version__}). What the weights are and why: "
        "the script's docstring. RTF of one sentence (best of "
        f"{args.repeats}); speed-up = the plain AR row's RTF over this row's, per runtime.",
        "",
        "| system | " + " | ".join(f"RTF {r} | speed-up {r}" for r in runtimes) + " |",
        "|---|" + "---|---|" * len(runtimes),
    ]
    for system, row in table.items():
        base = table["kalle" if system.startswith("kalle") else "ar greedy"]
        cells = " | ".join(f"{row[r]:.3f} | {base[r] / row[r]:.2f}×" for r in runtimes)
        lines.append(f"| {system} | {cells} |")
    lines.append("")
    Path(args.out).write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
