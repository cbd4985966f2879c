"""Codec report: resynthesis quality and speed of a codec beside Griffin-Lim and WORLD on the
same test utterances (speakers the codec never saw).

    python -m palette.recipes.evaluation.codec_report data/mini-libritts/test-clean \
        --codec palette-codec --out benchmarks/results/codec --per-speaker 4

For every system the evaluation harness scores WER (Whisper tiny.en against the normalised
text), SIM (resemblyzer cosine to the original), speaker-ID accuracy among the test speakers
(enrolled from the originals) and DNSMOS. Writes ``OUT/report.md`` and ``OUT/report.json``.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from palette.codec import DEFAULT_CODEC, load_codec
from palette.codec.files import UserFileNotFoundError, run_reporting_user_errors
from palette.recipes.evaluation.manifest import EvalItem, write_text_atomic
from palette.recipes.evaluation.scorer import EvalOptions, load_scorers, score_items
from palette.recipes.flags import add_flags, from_args
from palette.tts.audio import load_audio
from palette.tts.audio_output import save_wav

SR = 24000


def pick_utterances(split_dir: Path, per_speaker: int, seed: int) -> list[Path]:
    """``per_speaker`` seeded wavs of every speaker in a LibriTTS-layout split."""
    rng = random.Random(seed)
    picked = []
    for speaker in sorted(p for p in split_dir.iterdir() if p.is_dir()):
        wavs = sorted(speaker.glob("*/*.wav"))
        picked += rng.sample(wavs, min(per_speaker, len(wavs)))
    if not picked:
        raise UserFileNotFoundError(f"no LibriTTS-layout wavs under {split_dir}")
    return picked


def griffin_lim(wav: np.ndarray, iterations: int = 64) -> np.ndarray:
    """80-bin log-mel (n_fft 1024, hop 240) -> Griffin-Lim; the calibration's baseline."""
    import librosa

    mel = librosa.feature.melspectrogram(y=wav, sr=SR, n_fft=1024, hop_length=240, n_mels=80)
    out = librosa.feature.inverse.mel_to_audio(
        mel, sr=SR, n_fft=1024, hop_length=240, n_iter=iterations
    )
    return out[: len(wav)].astype(np.float32)


def world(wav: np.ndarray) -> np.ndarray:
    """WORLD analysis + resynthesis (harvest F0, CheapTrick envelope, D4C aperiodicity)."""
    import pyworld

    x = wav.astype(np.float64)
    f0, t = pyworld.harvest(x, SR)
    sp = pyworld.cheaptrick(x, f0, t, SR)
    ap = pyworld.d4c(x, f0, t, SR)
    return pyworld.synthesize(f0, sp, ap, SR)[: len(wav)].astype(np.float32)


def codec_systems(codec) -> dict:
    """Resynthesis functions of the codec's modes, each ``wav [S] -> wav [S]``, plus timings."""
    timing = {"encode": 0.0, "decode": 0.0, "seconds": 0.0}

    def run(wav, encode, decode):
        x = torch.from_numpy(wav)[None, None]
        with torch.inference_mode():
            t0 = time.perf_counter()
            z = encode(x)
            t1 = time.perf_counter()
            y = decode(z)
            t2 = time.perf_counter()
        timing["encode"] += t1 - t0
        timing["decode"] += t2 - t1
        timing["seconds"] += len(wav) / SR
        return y[0, 0, : len(wav)].numpy()

    systems = {}
    if codec.has_codes:
        systems["codec codes"] = lambda w: run(w, codec.encode, codec.decode)
    if codec.has_latents:
        systems["codec latents"] = lambda w: run(
            w, lambda x: codec.encode_latents(x)[0], codec.decode_latents
        )
    return systems, timing


def build_report(
    split_dir: str,
    codec_name: str,
    out_dir: str,
    per_speaker: int = 4,
    seed: int = 0,
    threads: int = 2,
) -> dict:
    torch.set_num_threads(threads)
    out = Path(out_dir)
    wavs = pick_utterances(Path(split_dir), per_speaker, seed)
    codec = load_codec(codec_name).eval()
    systems, timing = codec_systems(codec)
    systems |= {"griffin-lim": griffin_lim, "world": world}
    items: dict[str, list[EvalItem]] = {"original": []} | {name: [] for name in systems}
    for wav_path in tqdm(wavs, desc="resynthesise", unit="utt"):
        wav, _ = load_audio(wav_path, SR)
        text = wav_path.with_suffix(".normalized.txt").read_text().strip()
        speaker = wav_path.parent.parent.name
        common = {"text": text, "reference": wav_path, "prompt": wav_path, "speaker": speaker}
        items["original"].append(EvalItem(id=wav_path.stem, generated=wav_path, **common))
        for name, fn in systems.items():
            path = save_wav(out / name.replace(" ", "_") / wav_path.name, fn(wav), SR)
            items[name].append(EvalItem(id=wav_path.stem, generated=path, **common))
    scorers = load_scorers(EvalOptions(threads=threads))
    summaries = {
        name: score_items(its, EvalOptions(threads=threads), scorers, progress=False)["summary"]
        for name, its in items.items()
    }
    speed = {
        "encode_rtf": timing["encode"] / timing["seconds"],
        "decode_rtf": timing["decode"] / timing["seconds"],
        "frame_rate": codec.frame_rate,
        "bitrate": codec.num_codebooks * np.log2(max(codec.cardinality, 2)) * codec.frame_rate,
        "parameters": sum(p.numel() for p in codec.parameters()),
    }
    report = {
        "codec": codec_name,
        "utterances": len(wavs),
        "speakers": len({w.parent.parent.name for w in wavs}),
        "systems": summaries,
        "speed": speed,
        "threads": threads,
    }
    write_text_atomic(out / "report.json", json.dumps(report, indent=2) + "\n")
    write_text_atomic(out / "report.md", to_markdown(report, split_dir, per_speaker, seed))
    return report


def to_markdown(report: dict, split_dir: str, per_speaker: int, seed: int) -> str:
    rows = [
        "| system | WER | SIM to original | speaker ID | DNSMOS OVRL | SIG | BAK |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, s in report["systems"].items():
        rows.append(
            f"| {name} | {s.get('wer', float('nan')):.1%} | {s.get('sim_reference', float('nan')):.3f} | "
            f"{s.get('speaker_id_accuracy', float('nan')):.1%} | {s.get('dnsmos_ovrl', float('nan')):.2f} | "
            f"{s.get('dnsmos_sig', float('nan')):.2f} | {s.get('dnsmos_bak', float('nan')):.2f} |"
        )
    sp = report["speed"]
    return "\n".join(
        [
            f"# Codec report: {report['codec']}",
            "",
            f"`python -m palette.recipes.evaluation.codec_report {split_dir} --codec {report['codec']} "
            f"--per-speaker {per_speaker} --seed {seed}`",
            "",
            f"{report['utterances']} utterances of {report['speakers']} test speakers (unseen in training); "
            "Whisper tiny.en, resemblyzer, DNSMOS (speechmos).",
            "",
            *rows,
            "",
            f"Frame rate {sp['frame_rate']:g} Hz, {sp['bitrate']:.0f} bit/s, {sp['parameters'] / 1e6:.2f} M parameters; "
            f"encode RTF {sp['encode_rtf']:.4f}, decode RTF {sp['decode_rtf']:.4f} on {report['threads']} threads "
            "(both modes, whole utterances).",
            "",
        ]
    )


@dataclass(frozen=True)
class CodecReportOptions:
    split: str  # LibriTTS-layout split, e.g. data/mini-libritts/test-clean
    codec: str = DEFAULT_CODEC  # codec name or directory
    out: str = "benchmarks/results/codec"  # output folder
    per_speaker: int = 4  # utterances per test speaker
    seed: int = 0  # seeds the utterance draw
    threads: int = 2  # torch CPU threads


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_flags(parser, CodecReportOptions, positional=("split",))
    o = from_args(CodecReportOptions, parser.parse_args(argv))

    def report():
        build_report(o.split, o.codec, o.out, o.per_speaker, o.seed, o.threads)
        print((Path(o.out) / "report.md").read_text())

    return run_reporting_user_errors("codec_report", report)


if __name__ == "__main__":
    raise SystemExit(main())
