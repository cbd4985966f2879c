"""Quality and speed of a shipped model, beside Piper (joe) on the same sentences, in one run.

    palette eval pairs data/mini-libritts/test-clean -o exp/report/unseen.jsonl --per-speaker 2
    palette eval pairs data/mini-libritts/train-clean-100 -o exp/report/seen.jsonl \
        --per-speaker 1 --limit 20
    python benchmarks/synthesis_report.py --model palette-mini-en --families par \
        --pairs unseen=exp/report/unseen.jsonl --pairs seen=exp/report/seen.jsonl \
        --roles data/mini-libritts/MINI_CORPUS.json --work exp/report \
        --out benchmarks/results/synthesis

For every pair list and system (each model family, then Piper joe speaking the same texts in its
own voice) it synthesises every item, timing it (real-time factor), scores it with the
evaluation harness (WER with Whisper tiny.en, SIM to the prompt, speaker ID among the list's
speakers, DNSMOS), and for the model families measures the first-chunk latency of
``Synthesizer.stream`` (p50/p90). Writes ``OUT/report.md`` and ``OUT/report.json``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from palette.models.adapt import AdaptOptions
from palette.recipes.evaluation.manifest import read_manifest, write_manifest
from palette.recipes.evaluation.report import write_report
from palette.recipes.evaluation.scorer import EvalOptions, pair_enrollment, score_items
from palette.recipes.evaluation.synthesize_pairs import synthesize_pairs
from palette.tts.audio import resample
from palette.tts.audio_output import save_wav
from palette.tts.options import RANGES
from palette.tts.synthesizer import SynthesisOptions, Synthesizer


def piper_pairs(pairs: str, out_dir: Path, sample_rate: int = 24000) -> Path:
    """Joe (Piper) speaks every pair's text; the timing includes resampling to the codec rate."""
    from palette.recipes.corpus.render import joe_synthesize, joe_voice

    voice, done = joe_voice(seed=0), []
    for item in tqdm(read_manifest(pairs), desc="synthesise (piper joe)", unit="utt"):
        start = time.perf_counter()
        wav, sr = joe_synthesize(voice, item.text, rate=1.0)
        wav = resample(wav, sr, sample_rate)
        seconds = time.perf_counter() - start
        path = save_wav(out_dir / f"{item.id}.wav", wav, sample_rate)
        done.append(dataclasses.replace(item, generated=path, synthesis_seconds=seconds))
    return write_manifest(out_dir / "manifest.jsonl", done)


def first_chunk_latency(pairs: str, synth: Synthesizer, options: SynthesisOptions, limit: int):
    """Seconds from calling ``stream`` (prompt already encoded) to its first audio chunk."""
    latencies = []
    for item in read_manifest(pairs)[:limit]:
        voice = synth.encode_voice(item.prompt, item.prompt_text)
        start = time.perf_counter()
        chunks = synth.stream(item.text, voice, options=options)
        next(chunks)
        latencies.append(time.perf_counter() - start)
        chunks.close()
    return latencies


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--model", default="palette-mini-en", help="model name or directory")
    p.add_argument(
        "--families",
        default="par",
        help="model families to report, separated by ';' or ',' (a family may carry options: "
        "'par:refine_iterations=0;kalle:speculative=relaxed')",
    )
    p.add_argument(
        "--pairs",
        action="append",
        required=True,
        metavar="NAME=MANIFEST",
        help="a pair list from `palette eval pairs`; repeat for each set",
    )
    p.add_argument("--work", default="exp/report", help="folder for generated audio")
    p.add_argument("--out", default="benchmarks/results/synthesis", help="report folder")
    p.add_argument(
        "--latency-items", type=int, default=10, help="items timed for first chunk (0: none)"
    )
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--runtime", default="auto", choices=("auto", "onnx", "torch"))
    p.add_argument("--precision", default="auto", choices=("auto", "fp32", "bf16"))
    p.add_argument("--no-piper", action="store_true", help="leave out the Piper reference")
    p.add_argument(
        "--adapt", action="store_true", help="adapt every voice to its prompt first (--adapt)"
    )
    p.add_argument(
        "--adapt-decoder-steps",
        type=int,
        default=AdaptOptions().decoder_steps,
        help="with --adapt: the codec decoder's steps at most (0: the stage alone)",
    )
    p.add_argument(
        "--adapt-steps",
        type=int,
        default=AdaptOptions().steps,
        help="with --adapt: the stage's steps at most (0: the decoder alone)",
    )
    p.add_argument(
        "--roles",
        help="MINI_CORPUS.json of the mini corpus: adds a table by speaker "
        "group (inside / outside the training range, unseen espeak variants)",
    )
    p.add_argument("--span", type=int, help="PAR frames committed per step (default: the model's)")
    p.add_argument("--temperature", type=float, help="sampling temperature (default: the model's)")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    rows = []
    synth = Synthesizer.from_pretrained(args.model, runtime=args.runtime, precision=args.precision)
    adapt = args.adapt and AdaptOptions(
        steps=args.adapt_steps, decoder_steps=args.adapt_decoder_steps
    )
    for spec in args.pairs:
        name, manifest = spec.split("=", 1)
        separator = ";" if ";" in args.families else ","
        systems = [f for f in args.families.split(separator) if f]
        systems += [] if args.no_piper else ["piper"]
        for system in systems:
            work = Path(args.work).resolve() / name / system
            if system == "piper":
                generated = piper_pairs(manifest, work)
            else:
                options = system_options(system, args)
                generated = synthesize_pairs(manifest, synth, str(work), options, adapt=adapt)
            items = read_manifest(generated)
            enroll = pair_enrollment(items)
            report = score_items(items, EvalOptions(threads=args.threads, enroll_from=enroll))
            write_report(report, work / "results.json", work / "results.md")
            row = {"set": name, "system": system} | report["summary"]
            if (work / "adapt_seconds.json").is_file() and args.adapt:
                spent = json.loads((work / "adapt_seconds.json").read_text()).values()
                label = ""
                if args.adapt_decoder_steps:
                    label = " + decoder" if args.adapt_steps else " (decoder only)"
                row |= {
                    "system": f"{system} + adapt{label}",
                    "adapt_seconds": float(np.mean(list(spent))),
                }
            if args.roles and system != "piper":
                row["groups"] = by_group(report["items"], args.roles)
            if system != "piper" and args.latency_items > 0:  # 0: not timed
                lat = first_chunk_latency(manifest, synth, options, args.latency_items)
                row |= {
                    "first_chunk_p50": float(np.percentile(lat, 50)),
                    "first_chunk_p90": float(np.percentile(lat, 90)),
                }
            rows.append(row)
            print(json.dumps(row))
    write(rows, Path(args.out), argv)


def system_options(system: str, args) -> SynthesisOptions:
    """``FAMILY`` or ``FAMILY:FIELD=VALUE,...`` (e.g. ``par:refine_iterations=0``) -> options."""
    family, _, extra = system.partition(":")
    fields = {f.name: f for f in dataclasses.fields(SynthesisOptions)}
    values = {"family": family, "span": args.span, "temperature": args.temperature}
    for pair in filter(None, extra.split(",")):
        name, _, value = pair.partition("=")
        default = fields[name].default
        kind = RANGES[name][0] if name in RANGES else type(default) if default is not None else str
        values[name] = kind(value) if kind is not bool else value == "true"
    return SynthesisOptions(**values)


def by_group(items: list[dict], roles_file: str) -> dict[str, dict]:
    """Mean WER, SIM to the prompt and speaker-ID accuracy per speaker role of the mini corpus."""
    roles = {
        str(s["speaker_id"]): s["role"]
        for s in json.loads(Path(roles_file).read_text())["speakers"]
    }
    groups: dict[str, list[dict]] = {}
    for item in items:
        groups.setdefault(roles.get(str(item["speaker"]), "unknown"), []).append(item)
    out = {}
    for role, members in sorted(groups.items()):
        keys = {"wer": "wer", "sim_prompt": "sim_prompt", "speaker_id_accuracy": "speaker_correct"}
        out[role] = {"items": len(members)} | {
            name: float(np.mean([m[key] for m in members if m.get(key) is not None]))
            for name, key in keys.items()
        }
    return out


def _fmt(row: dict, key: str, fmt: str) -> str:
    value = row.get(key)
    return "–" if value is None else fmt.format(value)


def write(rows: list[dict], out: Path, argv) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(rows, indent=2))
    lines = [
        "# Synthesis quality and speed (2 CPU cores)",
        "",
        f"Made by `python benchmarks/synthesis_report.py {' '.join(argv or sys.argv[1:])}` "
        "(the pair lists: see its docstring); RTF counts encoding the prompt too. Piper joe speaks the same texts in its own voice, so its SIM and speaker "
        "ID are not comparable.",
        "",
        "| set | system | items | WER | SIM to prompt | speaker ID | DNSMOS OVRL | RTF | "
        "first chunk p50 / p90 (s) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        latency = (
            f"{r['first_chunk_p50']:.3f} / {r['first_chunk_p90']:.3f}"
            if "first_chunk_p50" in r
            else "–"
        )
        lines.append(
            f"| {r['set']} | {r['system']} | {r.get('items', 0)} | "
            f"{_fmt(r, 'wer', '{:.1%}')} | {_fmt(r, 'sim_prompt', '{:.3f}')} | "
            f"{_fmt(r, 'speaker_id_accuracy', '{:.1%}')} | "
            f"{_fmt(r, 'dnsmos_ovrl', '{:.2f}')} | {_fmt(r, 'rtf', '{:.3f}')} | "
            f"{latency} |"
        )
    grouped = [r for r in rows if "groups" in r]
    if grouped:
        lines += [
            "",
            "By speaker group (roles from the corpus's MINI_CORPUS.json):",
            "",
            "| set | system | group | items | WER | SIM to prompt | speaker ID |",
            "|---|---|---|---|---|---|---|",
        ]
        for r in grouped:
            for role, g in r["groups"].items():
                lines.append(
                    f"| {r['set']} | {r['system']} | {role} | {g['items']} | "
                    f"{g['wer']:.1%} | {g['sim_prompt']:.3f} | "
                    f"{g['speaker_id_accuracy']:.1%} |"
                )
    (out / "report.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
