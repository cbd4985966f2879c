"""How prompts as users give them change the result: other sample rates, noise, reverberation,
silence around the speech, a slightly wrong or a missing transcript (the ASR path), 3 s cuts.

    palette eval pairs data/heldout/test-clean -o exp/conditions/pairs.jsonl \
        --per-speaker 1 --min-seconds 2 --seed 0
    python benchmarks/prompt_conditions.py exp/conditions/pairs.jsonl --model palette-mini-en \
        --work exp/conditions --out benchmarks/results/prompt_conditions

Every condition rewrites each pair's prompt (audio and/or transcript, seeded), synthesises the
pair's text from it and scores the result with the evaluation harness. SIM and speaker ID are
always measured against the *clean* prompt, so a condition that lets noise into the voice
shows as a loss. Writes ``OUT/report.md`` and ``OUT/report.json``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from palette.recipes.evaluation.manifest import EvalItem, read_manifest, write_manifest
from palette.recipes.evaluation.scorer import EvalOptions, pair_enrollment, score_items
from palette.recipes.evaluation.synthesize_pairs import synthesize_pairs
from palette.tts.audio import load_audio, resample
from palette.tts.audio_output import save_wav
from palette.tts.synthesizer import SynthesisOptions, Synthesizer

# a condition: (samples [S], sample rate, transcript, rng) -> (samples, sample rate, transcript)
Condition = Callable[[np.ndarray, int, str, np.random.Generator], tuple[np.ndarray, int, str]]


def _noise(wav, sr, text, rng, snr_db=20.0):
    noise = rng.standard_normal(len(wav)).astype(np.float32)
    noise = np.cumsum(noise) * 0.02 + noise  # tilted towards low frequencies, like room noise
    scale = np.sqrt(np.mean(wav**2) / np.mean(noise**2) / 10 ** (snr_db / 10))
    return wav + scale * noise, sr, text


def _reverb(wav, sr, text, rng, rt60=0.5):
    t = np.arange(int(rt60 * sr)) / sr
    ir = rng.standard_normal(len(t)) * np.exp(-6.9 * t / rt60)  # -60 dB at rt60
    ir[0] = 1.0
    wet = np.convolve(wav, ir / np.sqrt(np.sum(ir**2)))[: len(wav)]
    return (wet * np.abs(wav).max() / np.abs(wet).max()).astype(np.float32), sr, text


def _silence(wav, sr, text, rng, seconds=1.0):
    pad = (1e-4 * rng.standard_normal(int(seconds * sr))).astype(np.float32)
    return np.concatenate([pad, wav, pad]), sr, text


def _wrong_word(wav, sr, text, rng):
    words = text.split()
    words[int(rng.integers(len(words)))] = "the"
    return wav, sr, " ".join(words)


CONDITIONS: dict[str, tuple[Condition, str]] = {
    "clean": (lambda w, sr, t, rng: (w, sr, t), "the prompt as recorded, its transcript"),
    "16k": (lambda w, sr, t, rng: (resample(w, sr, 16000), 16000, t), "resampled to 16 kHz"),
    "44k": (lambda w, sr, t, rng: (resample(w, sr, 44100), 44100, t), "resampled to 44.1 kHz"),
    "noise": (_noise, "low-tilted noise at 20 dB SNR"),
    "reverb": (_reverb, "synthetic room reverberation, RT60 0.5 s"),
    "silence": (_silence, "1 s of near-silence before and after"),
    "wrong-word": (_wrong_word, "one transcript word replaced by 'the'"),
    "no-text": (lambda w, sr, t, rng: (w, sr, None), "no transcript: the ASR path (Whisper)"),
    "3s": (lambda w, sr, t, rng: (w[: 3 * sr], sr, None), "first 3 s only, transcript by ASR"),
}


def condition_pairs(pairs: list[EvalItem], name: str, folder: Path, seed: int) -> Path:
    """The pair list with every prompt rewritten by condition ``name`` -> its manifest."""
    transform, _ = CONDITIONS[name]
    out = []
    for i, item in enumerate(pairs):
        wav, sr = load_audio(item.prompt)
        wav, sr, text = transform(wav, sr, item.prompt_text, np.random.default_rng(seed + i))
        prompt = save_wav(folder / "prompts" / f"{item.id}.wav", wav, sr)
        out.append(dataclasses.replace(item, prompt=prompt, prompt_text=text))
    return write_manifest(folder / "pairs.jsonl", out)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("pairs", help="pair list from `palette eval pairs`")
    p.add_argument("--model", default="palette-mini-en", help="model name or directory")
    p.add_argument(
        "--conditions",
        default=",".join(CONDITIONS),
        help="comma-separated, of: " + ", ".join(CONDITIONS),
    )
    p.add_argument("--work", default="exp/conditions", help="folder for prompts and audio")
    p.add_argument("--out", default="benchmarks/results/prompt_conditions", help="report folder")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    names = [c for c in args.conditions.split(",") if c]
    unknown = set(names) - set(CONDITIONS)
    if unknown:
        p.error(f"unknown conditions {sorted(unknown)}; known: {', '.join(CONDITIONS)}")
    torch.set_num_threads(args.threads)
    synth = Synthesizer.from_pretrained(args.model, runtime="torch")
    pairs = read_manifest(args.pairs)
    clean = {item.id: item.prompt for item in pairs}
    rows = []
    for name in names:
        folder = Path(args.work).resolve() / name
        manifest = condition_pairs(pairs, name, folder, args.seed)
        options = SynthesisOptions(seed=args.seed)
        generated = synthesize_pairs(str(manifest), synth, str(folder / "gen"), options)
        items = [dataclasses.replace(it, prompt=clean[it.id]) for it in read_manifest(generated)]
        enroll = pair_enrollment(items)
        report = score_items(items, EvalOptions(threads=args.threads, enroll_from=enroll))
        rows.append({"condition": name, "what": CONDITIONS[name][1]} | report["summary"])
        print(json.dumps(rows[-1]))
    write(rows, Path(args.out), argv)


def write(rows: list[dict], out: Path, argv) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(rows, indent=2))
    lines = [
        "# Prompts as users give them",
        "",
        f"Made by `python benchmarks/prompt_conditions.py {' '.join(argv or sys.argv[1:])}`; "
        "SIM and speaker ID against the clean prompt.",
        "",
        "| condition | what | items | WER | SIM to prompt | speaker ID | DNSMOS OVRL |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        cells = [r.get(k) for k in ("wer", "sim_prompt", "speaker_id_accuracy", "dnsmos_ovrl")]
        fmt = ["{:.1%}", "{:.3f}", "{:.1%}", "{:.2f}"]
        shown = ["–" if v is None else f.format(v) for v, f in zip(cells, fmt, strict=True)]
        lines.append(
            f"| {r['condition']} | {r['what']} | {r.get('items', 0)} | " + " | ".join(shown) + " |"
        )
    (out / "report.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
