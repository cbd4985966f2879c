"""Takes checked for content, and voice drift over a long text, for a model.

1. Verification: every sentence of ``SENTENCES`` is spoken in each prompt's voice, first as
   plain synthesis, then with ``SynthesisOptions(verify=True)`` (Whisper tiny.en hears each
   take; a take above ``verify_max_wer`` is redone with another seed, the best kept). Reported:
   WER, the share of sentences with a skipped or a repeated word, before (the first take) and
   after (the kept take), the retry rate and the cost in real-time factor.
2. Drift: the sentences as one document through ``Synthesizer.read`` (long-form reading); the
   speaker similarity (resemblyzer) of each sentence to the prompt, by position in the text.

    python benchmarks/verify_report.py --corpus /work/data/many-libritts \
        --out benchmarks/results/verify

Prompts: the demo prompt, plus with ``--corpus`` one utterance of each held-out test voice the
many-voice corpus has on disk (``--voices N`` of them, real recordings first).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from palette.tts import SynthesisOptions, Synthesizer
from palette.tts.verify import WhisperChecker

ROOT = Path(__file__).resolve().parents[1]
SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "She sold three hundred and twelve tickets before noon.",
    "On March 5th, 2024, the museum opened a new wing.",
    "Please call me back at 555-0199 after six o'clock.",
    "A cold wind blew across the empty harbour at dawn.",
    "The recipe needs 250 grams of flour and two eggs.",
    "Dr. Patel finished her report in less than an hour.",
    "Our train leaves platform nine at 7:45 a.m. tomorrow.",
    "He painted the old fence a bright shade of green.",
    "The library will be closed on Monday for repairs.",
    "They counted forty-two birds on the frozen lake.",
    "Turn left at the second light, then walk two blocks.",
]


def held_out_prompts(corpus: Path, count: int) -> list[tuple[Path, str, str]]:
    """(wav, transcript, name) of one utterance per held-out test voice on disk, alternating
    real recordings and synthetic held-out bases."""
    record = json.loads((corpus / "MANY_CORPUS.json").read_text())
    found = {"test-real": [], "test-base": []}
    for speaker in record["speakers"]:
        if speaker["role"] not in found:
            continue
        wavs = sorted((corpus / speaker["subset"] / str(speaker["speaker_id"])).rglob("*.wav"))
        texts = [w.with_suffix(".normalized.txt") for w in wavs]
        for wav, text in zip(wavs, texts, strict=True):
            if text.is_file():
                found[speaker["role"]].append((wav, text.read_text().strip(), speaker["base"]))
                break
    mixed = [x for pair in zip(found["test-real"], found["test-base"], strict=False) for x in pair]
    return mixed[:count]


def evaluate_voice(synth, voice, name, checker, rows):
    plain_wall = plain_audio = 0.0
    for i, sentence in enumerate(SENTENCES):
        start = time.perf_counter()
        audio = synth.synthesize(sentence, voice, options=SynthesisOptions(seed=i))
        plain_wall += time.perf_counter() - start
        plain_audio += audio.duration
    checker.log.clear()
    verify_wall = 0.0
    for i, sentence in enumerate(SENTENCES):
        start = time.perf_counter()
        synth.synthesize(sentence, voice, options=SynthesisOptions(seed=i, verify=True))
        verify_wall += time.perf_counter() - start
        takes = [score for _, score in checker.log]
        checker.log.clear()
        best = min(takes, key=lambda s: s.rank)
        rows.append(
            {
                "voice": name,
                "sentence": sentence,
                "takes": len(takes),
                "first": takes[0].__dict__,
                "kept": best.__dict__,
            }
        )
    return plain_wall / plain_audio, verify_wall / plain_audio


def summary(rows, key):
    words = sum(r[key]["words"] for r in rows)
    errors = sum(r[key]["substituted"] + r[key]["skipped"] + r[key]["inserted"] for r in rows)
    skip = np.mean([r[key]["skipped"] > 0 for r in rows])
    rep = np.mean([r[key]["repeated"] > 0 for r in rows])
    return errors / words, skip, rep


def drift(synth, voice, prompt_wav, embedder):
    from palette.tts.audio import load_audio, resample

    text = "\n\n".join(" ".join(SENTENCES[i : i + 3]) for i in range(0, len(SENTENCES), 3))
    pieces = [
        p
        for p in synth.read(text.splitlines(keepends=True), voice)
        if len(p) and np.abs(p).max() > 0
    ]
    wav, sr = load_audio(prompt_wav)
    ref = embedder.embed(resample(wav, sr, 16000))
    sims = []
    for piece in pieces:
        e = embedder.embed(resample(piece, synth.sample_rate, 16000))
        sims.append(float(np.dot(ref, e) / (np.linalg.norm(ref) * np.linalg.norm(e))))
    return sims


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--model", default="palette-mini-en")
    p.add_argument("--corpus", help="many-voice corpus root (held-out test voices as prompts)")
    p.add_argument("--voices", type=int, default=3, help="held-out voices from --corpus")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", default="benchmarks/results/verify")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    from palette.recipes.evaluation.metrics.speaker import load_speaker_embedder

    synth = Synthesizer.from_pretrained(args.model)
    checker = WhisperChecker()
    synth.checker = checker
    demo = ROOT / "demos" / "prompt.wav"
    prompts = [(demo, (ROOT / "demos" / "prompt.txt").read_text().strip(), "demo prompt")]
    if args.corpus:
        prompts += held_out_prompts(Path(args.corpus), args.voices)
    rows, costs, drifts = [], {}, {}
    embedder = load_speaker_embedder("resemblyzer")
    for wav, text, name in prompts:
        voice = synth.encode_voice(str(wav), text)
        costs[name] = evaluate_voice(synth, voice, name, checker, rows)
        drifts[name] = drift(synth, voice, wav, embedder)
        print(name, costs[name], flush=True)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "verify.json").write_text(
        json.dumps({"rows": rows, "rtf": costs, "sim": drifts}, indent=1)
    )
    before, after = summary(rows, "first"), summary(rows, "kept")
    retried = np.mean([r["takes"] > 1 for r in rows])
    plain = np.mean([c[0] for c in costs.values()])
    verified = np.mean([c[1] for c in costs.values()])
    lines = [
        "# Takes checked for content, and voice drift over a long text",
        "",
        f"`python benchmarks/verify_report.py {'--corpus ' + args.corpus if args.corpus else ''}`"
        f" with model `{args.model}`, {len(SENTENCES)} sentences × {len(prompts)} voices "
        f"({', '.join(n for _, _, n in prompts)}); Whisper tiny.en hears every take; 2 CPU "
        "threads on a shared machine.",
        "",
        "| | WER | sentences with a skipped word | with a repeated word |",
        "|---|---|---|---|",
        f"| first take (plain synthesis) | {100 * before[0]:.1f} % | {100 * before[1]:.0f} % | "
        f"{100 * before[2]:.0f} % |",
        f"| with `verify` (best of ≤ 3 takes) | {100 * after[0]:.1f} % | {100 * after[1]:.0f} % | "
        f"{100 * after[2]:.0f} % |",
        "",
        f"Retry rate: {100 * retried:.0f} % of sentences needed a second take. RTF (wall / audio "
        f"s, prompt encoded once): plain {plain:.2f}, with verify {verified:.2f} "
        f"({verified / plain:.1f}×).",
        "",
        "## Voice drift: similarity of each sentence to the prompt, in reading order",
        "",
        "| voice | first third | middle third | last third | all |",
        "|---|---|---|---|---|",
    ]
    for name, sims in drifts.items():
        k = max(1, len(sims) // 3)
        parts = [sims[:k], sims[k : len(sims) - k] or sims, sims[len(sims) - k :]]
        lines.append(
            f"| {name} | "
            + " | ".join(f"{np.mean(x):.3f}" for x in parts)
            + f" | {np.mean(sims):.3f} |"
        )
    (out / "report.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
