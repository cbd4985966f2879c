"""PyTorch eager (fp32 and the precision ``auto`` picks) vs onnxruntime for a model, per stage
and end to end, with Piper in the same run.

    palette export palette-mini-en --out exp/palette-mini-en-onnx
    python benchmarks/onnx_speed.py --model exp/palette-mini-en-onnx --threads 2

Per stage: the median time of one call of every graph at the shapes a typical sentence gives
(PAR forward, duration head, refine forward, codec encoder on the prompt, codec decoder on a
sentence and on one streaming chunk with its left context), system after system (``SYSTEMS``).
End to end: every sentence of ``SENTENCES`` (short to long) through ``Synthesizer.synthesize``
on every system and through Piper (joe), interleaved sentence by sentence so that the load of
a shared machine falls on all alike; RTF = wall seconds / audio seconds (prompt encoded
once beforehand), first-chunk latency = seconds from ``stream()`` to its first chunk (Piper:
to its first audio chunk). Peak RSS is measured in a fresh subprocess per system (load, then
speak two sentences). Writes ``benchmarks/results/onnx_speed.md``.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

from palette.tts.options import SynthesisOptions
from palette.tts.synthesizer import Synthesizer

SENTENCES = [
    "Hello there.",
    "The quick brown fox jumps over the lazy dog.",
    "Please call Stella and ask her to bring these things with her from the store.",
    "It was the best of times, it was the worst of times, it was the age of wisdom.",
    "She sells sea shells by the sea shore, and the shells she sells are surely sea shells.",
    "Six spoons of fresh snow peas, five thick slabs of blue cheese, and maybe a snack for "
    "her brother Bob.",
    "When the sunlight strikes raindrops in the air, they act as a prism and form a rainbow, "
    "which takes the shape of a long round arch, with its path high above and its two ends "
    "apparently beyond the horizon.",
    "Doctor Smith paid three dollars and fifty cents on March fifth, twenty twenty-four.",
]
ROOT = Path(__file__).resolve().parents[1]


def median_ms(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def percentile(values, q) -> float:
    return float(np.percentile(np.asarray(values), q))


# system -> (runtime, precision); "torch" takes the precision "auto" picks on this machine
SYSTEMS = {"torch-fp32": ("torch", "fp32"), "torch": ("torch", "auto"), "onnx": ("onnx", "fp32")}


def load_systems(model: str) -> dict:
    return {
        name: Synthesizer.from_pretrained(model, runtime=runtime, precision=precision)
        for name, (runtime, precision) in SYSTEMS.items()
    }


def label(name: str, synth=None) -> str:
    if name == "piper":
        return "Piper joe (onnxruntime, 1 thread)"
    if name == "onnx":
        return "palette (onnxruntime, fp32)"
    bf16 = synth is not None and synth.compute_dtype == torch.bfloat16
    return f"palette (torch eager, {'bf16' if bf16 else 'fp32'})"


def stage_rows(synths: dict, voice, repeats: int) -> list[tuple]:
    """Median ms per call of each stage at a typical sentence's shapes on every system:
    ``(stage, ms per system...)`` in the order of ``synths``."""
    from palette.models.alignment import frame_phonemes

    torch_synth = next(iter(synths.values()))
    prompt_ids = torch_synth.frontend.symbols.encode(list(voice.phonemes))
    target = torch_synth.frontend(SENTENCES[4]).ids
    text = torch.tensor(prompt_ids + torch_synth.frontend.symbols.encode([" "]) + target)[None]
    text_lens = torch.tensor([text.shape[1]])
    Tp = voice.latents.shape[-1]
    T = Tp + round(Tp / len(prompt_ids) * len(target))
    frames = torch.cat([voice.latents, torch.zeros(voice.latents.shape[0], T - Tp)], -1)[None]
    masked = torch.zeros(1, T, dtype=torch.bool)
    masked[0, Tp:] = True
    durations = torch.zeros(text.shape[1], dtype=torch.long)
    durations[len(prompt_ids) + 1 :] = (T - Tp) // len(target)
    durations[-1] += (T - Tp) - int(durations.sum())
    index, progress = frame_phonemes(durations[None], torch.tensor([Tp]), T)
    args = (text, text_lens, frames, torch.tensor([T]), masked, index, progress)
    wav = torch.from_numpy(np.zeros(int(3 * torch_synth.sample_rate), dtype=np.float32))[None, None]
    wav += 0.01 * torch.randn_like(wav)
    chunk, context = SynthesisOptions().chunk_frames, SynthesisOptions().context_frames
    calls = {
        f"PAR forward (text {text.shape[1]}, frames {T})": lambda s: s.models["par"].logits(*args),
        f"duration head (text {text.shape[1]})": lambda s: s.models["par"].log_durations(
            text, text_lens
        ),
        f"refine forward (frames {T})": lambda s: s.models["refine"].logits(*args),
        "codec encoder (3 s prompt)": lambda s: s.codec.encode_latents(wav),
        f"codec decoder (sentence, {T - Tp} frames)": lambda s: s.codec.decode_latents(
            frames[..., Tp:]
        ),
        f"codec decoder (stream chunk {chunk} + context {context})": lambda s: (
            s.codec.decode_latents(frames[..., : chunk + context])
        ),
    }
    rows = []
    with torch.inference_mode():
        for name, call in calls.items():
            if name.startswith("refine") and "refine" not in torch_synth.models:
                continue
            for synth in synths.values():
                call(synth)  # warm-up
            times = [median_ms(lambda c=call, s=s: c(s), repeats) for s in synths.values()]
            rows.append((name, *times))
    return rows


def first_chunk(stream) -> tuple[float, list]:
    start = time.perf_counter()
    chunks = [next(stream)]
    latency = time.perf_counter() - start
    chunks.extend(stream)
    return latency, chunks


def end_to_end(synths: dict, voice, piper_voice, options, rounds: int) -> dict:
    """Per system: RTF per sentence, first-chunk latency per sentence; and the largest
    sample difference between torch fp32 and ORT audio for the same seed."""
    from palette.recipes.corpus.render import joe_synthesize
    from palette.tts.audio import resample

    out = {k: {"rtf": [], "first": [], "seconds": 0.0, "wall": 0.0} for k in [*synths, "piper"]}
    max_diff = 0.0
    for _ in range(rounds):
        for sentence in SENTENCES:
            audio = {}
            for name, synth in synths.items():
                start = time.perf_counter()
                samples = synth.synthesize(sentence, voice, options=options).samples
                wall = time.perf_counter() - start
                seconds = len(samples) / synth.sample_rate
                out[name]["rtf"].append(wall / seconds)
                out[name]["wall"] += wall
                out[name]["seconds"] += seconds
                out[name]["first"].append(
                    first_chunk(iter(synth.stream(sentence, voice, options=options)))[0]
                )
                audio[name] = samples
            diff = np.abs(audio["torch-fp32"] - audio["onnx"]).max()
            max_diff = max(max_diff, float(diff))
            start = time.perf_counter()
            wav, sr = joe_synthesize(piper_voice, sentence, rate=1.0)
            wav = resample(wav, sr, 24000)
            wall = time.perf_counter() - start
            out["piper"]["rtf"].append(wall / (len(wav) / 24000))
            out["piper"]["wall"] += wall
            out["piper"]["seconds"] += len(wav) / 24000
            from piper import SynthesisConfig

            out["piper"]["first"].append(
                first_chunk(
                    iter(piper_voice.synthesize(sentence, SynthesisConfig(length_scale=1.0)))
                )[0]
            )
    out["max_abs_diff"] = max_diff
    return out


def peak_rss_mb(system: str, model: str, threads: int) -> float:
    """Peak resident memory (MB) of a fresh process that loads ``system`` and speaks two
    sentences."""
    cmd = [
        sys.executable,
        __file__,
        "--rss-worker",
        system,
        "--model",
        model,
        "--threads",
        str(threads),
    ]
    result = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return float(result.stdout.strip().splitlines()[-1])


def rss_worker(system: str, model: str, threads: int) -> None:
    """Load ``system`` (a ``SYSTEMS`` name or ``piper``), speak two sentences, print VmHWM."""
    torch.set_num_threads(threads)
    if system == "piper":
        from palette.recipes.corpus.render import joe_synthesize, joe_voice

        voice = joe_voice(seed=0)
        for s in SENTENCES[:2]:
            joe_synthesize(voice, s, 1.0)
    else:
        runtime, precision = SYSTEMS[system]
        synth = Synthesizer.from_pretrained(model, runtime=runtime, precision=precision)
        voice = synth.encode_voice(
            ROOT / "demos/prompt.wav", (ROOT / "demos/prompt.txt").read_text().strip()
        )
        for s in SENTENCES[:2]:
            synth.synthesize(s, voice)
    # VmHWM, not ru_maxrss: the latter keeps the parent's peak across fork + exec
    status = Path("/proc/self/status").read_text()
    peak_kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM"))
    print(peak_kb / 1024)


def torch_alone(model: str, threads: int, repeats: int) -> None:
    """PAR forward and duration head in a process with no onnxruntime session, at the same
    shapes as ``stage_rows``: how much of torch's time in the main run is thread contention."""
    torch.set_num_threads(threads)
    synth = Synthesizer.from_pretrained(model, runtime="torch")
    voice = synth.encode_voice(
        ROOT / "demos/prompt.wav", (ROOT / "demos/prompt.txt").read_text().strip()
    )
    rows = stage_rows({"torch": synth}, voice, repeats)[:2]
    print(json.dumps({name: t for name, t in rows}))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--model",
        default="exp/palette-mini-en-onnx",
        help="a model directory with ONNX graphs (palette export)",
    )
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeats", type=int, default=15, help="calls per stage timing")
    p.add_argument("--rounds", type=int, default=3, help="passes over the sentences")
    p.add_argument("--out", default=str(ROOT / "benchmarks/results/onnx_speed.md"))
    p.add_argument("--rss-worker", help=argparse.SUPPRESS)
    p.add_argument(
        "--torch-alone",
        action="store_true",
        help="only time torch's PAR forward and duration head, without onnxruntime",
    )
    args = p.parse_args()
    if args.rss_worker:
        return rss_worker(args.rss_worker, args.model, args.threads)
    if args.torch_alone:
        return torch_alone(args.model, args.threads, args.repeats)
    torch.set_num_threads(args.threads)
    from palette.recipes.corpus.render import joe_voice

    synths = load_systems(args.model)
    first = synths["torch"]
    voice = first.encode_voice(
        ROOT / "demos/prompt.wav", (ROOT / "demos/prompt.txt").read_text().strip()
    )
    _, options = first.resolve_family(SynthesisOptions(seed=0))
    stages = stage_rows(synths, voice, args.repeats)
    e2e = end_to_end(synths, voice, joe_voice(seed=0), options, args.rounds)
    rss = {s: peak_rss_mb(s, args.model, args.threads) for s in [*synths, "piper"]}
    labels = {name: label(name, synths.get(name)) for name in [*synths, "piper"]}
    write(args, stages, e2e, rss, labels, options)


def write(args, stages, e2e, rss, labels: dict, options) -> None:
    command = "python benchmarks/onnx_speed.py " + " ".join(
        a for a in sys.argv[1:] if not a.startswith("--out")
    )
    lines = [
        "# PyTorch eager vs onnxruntime (and Piper), 2 CPU threads",
        "",
        f"Made by `palette export palette-mini-en --out exp/palette-mini-en-onnx` and "
        f"`{command.strip()}` on {platform.processor() or platform.machine()}, torch "
        f"{torch.__version__}, onnxruntime {__import__('onnxruntime').__version__}, "
        f"{torch.get_num_threads()} threads. Options: the model's defaults (span "
        f"{options.span}, refine_iterations {options.refine_iterations}, temperature "
        f"{options.temperature}), seed 0.",
        "",
        "## Per stage (median ms per call)",
        "",
        "| stage | " + " | ".join(labels[n] for n in SYSTEMS) + " |",
        "|---|" + "---|" * len(SYSTEMS),
    ]
    for name, *times in stages:
        lines.append(f"| {name} | " + " | ".join(f"{t:.1f}" for t in times) + " |")
    lines += [
        "",
        f"## End to end ({len(SENTENCES)} sentences × {args.rounds} rounds, interleaved; "
        "default options of the model, same seeds)",
        "",
        "| system | RTF median | RTF total | first chunk p50 / p90 (s) | peak RSS (MB) |",
        "|---|---|---|---|---|",
    ]
    for name in [*SYSTEMS, "piper"]:
        r = e2e[name]
        lines.append(
            f"| {labels[name]} | {statistics.median(r['rtf']):.3f} | "
            f"{r['wall'] / r['seconds']:.3f} | {percentile(r['first'], 50):.3f} / "
            f"{percentile(r['first'], 90):.3f} | {rss[name]:.0f} |"
        )

    def rtf(name: str) -> float:
        return statistics.median(e2e[name]["rtf"])

    lines += [
        "",
        "Median RTF relative to Piper's: "
        + ", ".join(f"{labels[n]} {rtf(n) / rtf('piper'):.2f}×" for n in SYSTEMS)
        + ". Largest sample difference between torch fp32 and ORT audio for the same seed: "
        f"{e2e['max_abs_diff']:.2e}. First chunk: `Synthesizer.stream` (the sentence's "
        "unrefined PAR take, decoded chunk by chunk) for palette, the first sentence chunk for "
        "Piper.",
        "",
    ]
    Path(args.out).write_text("\n".join(lines))
    (Path(args.out).with_suffix(".json")).write_text(
        json.dumps({"stages": stages, "end_to_end": e2e, "peak_rss_mb": rss}, indent=1)
    )
    print("\n".join(lines))


if __name__ == "__main__":
    main()
