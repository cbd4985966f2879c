"""Codec report: resynthesis quality and speed of a codec beside Griffin-Lim and WORLD on the
same test utterances (speakers the codec never saw).

    python -m palette.recipes.evaluation.codec_report data/many-libritts/test-clean \
        --codec exp/codec/final --compare palette-codec --out benchmarks/results/codec

On a many-voice corpus the test speakers are scored in groups by their manifest role: the
held-out whole base voices (``test-base``) and real recordings (``test-real``) first, then the
WORLD warp groups of the training voice. ``--compare`` resynthesises with other codecs beside it.

For every system the evaluation harness scores WER (Whisper tiny.en against the normalised
text), SIM (resemblyzer cosine to the original), speaker-ID accuracy among the test speakers
(enrolled from the originals) and DNSMOS. Writes ``OUT/report.md`` and ``OUT/report.json``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from palette.codec import DEFAULT_CODEC, load_codec
from palette.codec.files import UserError, UserFileNotFoundError, run_reporting_user_errors
from palette.recipes.corpus.many_record import many_speakers
from palette.recipes.evaluation.manifest import EvalItem, write_text_atomic
from palette.recipes.evaluation.scorer import EvalOptions, load_scorers, score_items
from palette.recipes.flags import add_flags, from_args
from palette.tts.audio import load_audio
from palette.tts.audio_output import save_wav

SR = 24000


def pick_utterances(
    split_dir: Path, per_speaker: int, seed: int, speakers: set[str] | None = None
) -> list[Path]:
    """``per_speaker`` seeded wavs of every speaker in a LibriTTS-layout split (of those in
    ``speakers`` if given)."""
    rng = random.Random(seed)
    picked = []
    for speaker in sorted(p for p in split_dir.iterdir() if p.is_dir()):
        if speakers is not None and speaker.name not in speakers:
            continue
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


def codec_systems(codec, label: str = "codec") -> tuple[dict, dict]:
    """Resynthesis functions of the codec's modes (``"{label} codes"``, ``"{label} latents"``),
    each ``wav [S] -> wav [S]``, and their timings (seconds per mode, audio seconds)."""
    timing: dict[str, float] = {"seconds": 0.0}

    def run(wav, mode, encode, decode):
        x = torch.from_numpy(wav)[None, None]
        with torch.inference_mode():
            t0 = time.perf_counter()
            z = encode(x)
            t1 = time.perf_counter()
            y = decode(z)
            t2 = time.perf_counter()
        timing[f"{mode} encode"] = timing.get(f"{mode} encode", 0.0) + t1 - t0
        timing[f"{mode} decode"] = timing.get(f"{mode} decode", 0.0) + t2 - t1
        if mode == "codes" or not codec.has_codes:
            timing["seconds"] += len(wav) / SR
        return y[0, 0, : len(wav)].numpy()

    systems = {}
    if codec.has_codes:
        systems[f"{label} codes"] = lambda w: run(w, "codes", codec.encode, codec.decode)
    if codec.has_latents:
        systems[f"{label} latents"] = lambda w: run(
            w, "latents", lambda x: codec.encode_latents(x)[0], codec.decode_latents
        )
    return systems, timing


def speaker_groups(split_dir: Path) -> dict[str, str]:
    """Speaker id -> test group: the many-voice corpus manifest's role (``test-base``,
    ``test-real``, the warp groups ``test-inside``/``test-outside``), else ``test``."""
    return {str(s["speaker_id"]): s["role"] for s in many_speakers(split_dir) or []}


HELD_OUT = ("test-base", "test-real")  # whole voices in training in no form: reported first


@dataclass(frozen=True)
class CodecReportOptions:
    split: str  # LibriTTS-layout split, e.g. data/mini-libritts/test-clean
    codec: str = DEFAULT_CODEC  # codec name or directory
    compare: tuple[str, ...] = ()  # other codecs resynthesised beside it, e.g. the old one
    classic: bool = True  # also Griffin-Lim and WORLD resynthesis
    out: str = "benchmarks/results/codec"  # output folder
    per_speaker: int = 4  # utterances per test speaker
    groups: tuple[str, ...] = ()  # only these test groups, e.g. test-base (default: all)
    seed: int = 0  # seeds the utterance draw
    threads: int = 2  # torch CPU threads


def codec_label(name: str, index: int) -> str:
    return "codec" if index == 0 else f"compare{index} ({Path(name).name})"


def build_report(o: CodecReportOptions) -> dict:
    torch.set_num_threads(o.threads)
    out, split = Path(o.out), Path(o.split)
    groups = speaker_groups(split)
    wanted = None
    if o.groups:
        known = set(groups.values())
        unknown = sorted(set(o.groups) - known)
        if unknown:
            has = ", ".join(sorted(known)) or "none (no MANY_CORPUS.json)"
            raise UserError(f"unknown test group(s) {', '.join(unknown)}; the split has {has}")
        wanted = {speaker for speaker, group in groups.items() if group in o.groups}
    wavs = pick_utterances(split, o.per_speaker, o.seed, wanted)
    systems: dict = {}
    speed: dict = {}
    for index, name in enumerate((o.codec, *o.compare)):
        codec = load_codec(name).eval()
        label = codec_label(name, index)
        fns, timing = codec_systems(codec, label)
        systems |= fns
        speed[label] = {
            "codec": name,
            "timing": timing,
            "frame_rate": codec.frame_rate,
            "bitrate": codec.num_codebooks * np.log2(max(codec.cardinality, 2)) * codec.frame_rate,
            "parameters": sum(p.numel() for p in codec.parameters()),
        }
    if o.classic:
        systems |= {"griffin-lim": griffin_lim, "world": world}
    items: dict[str, list[EvalItem]] = {"original": []} | {name: [] for name in systems}
    for wav_path in tqdm(wavs, desc="resynthesise", unit="utt"):
        wav, _ = load_audio(wav_path, SR)
        text = wav_path.with_suffix(".normalized.txt").read_text().strip()
        speaker = wav_path.parent.parent.name
        common = {"text": text, "reference": wav_path, "prompt": wav_path, "speaker": speaker}
        items["original"].append(EvalItem(id=wav_path.stem, generated=wav_path, **common))
        for name, fn in systems.items():
            folder = out / name.replace(" ", "_").replace("(", "").replace(")", "")
            path = save_wav(folder / wav_path.name, fn(wav), SR)
            items[name].append(EvalItem(id=wav_path.stem, generated=path, **common))
    for entry in speed.values():
        t = entry.pop("timing")
        for key in [k for k in t if k != "seconds"]:
            entry[key.replace(" ", "_") + "_rtf"] = t[key] / t["seconds"]
    options = EvalOptions(threads=o.threads)
    scorers = load_scorers(options)
    names = sorted({groups.get(w.parent.parent.name, "test") for w in wavs})
    names.sort(key=lambda g: (g not in HELD_OUT, g))
    summaries = {}
    for group in tqdm(names, desc="score groups", unit="group"):
        summaries[group] = {
            name: score_items(
                [it for it in its if groups.get(it.speaker, "test") == group],
                options,
                scorers,
                progress=False,
            )["summary"]
            for name, its in items.items()
        }
    report = {
        "options": dataclasses.asdict(o),
        "utterances": len(wavs),
        "speakers": {
            g: len(
                {
                    w.parent.parent.name
                    for w in wavs
                    if groups.get(w.parent.parent.name, "test") == g
                }
            )
            for g in names
        },
        "groups": summaries,
        "speed": speed,
    }
    write_text_atomic(out / "report.json", json.dumps(report, indent=2) + "\n")
    write_text_atomic(out / "report.md", to_markdown(report))
    return report


def _row(name: str, s: dict) -> str:
    def get(key):
        return s.get(key, float("nan"))

    return (
        f"| {name} | {get('wer'):.1%} | {get('sim_reference'):.3f} | "
        f"{get('speaker_id_accuracy'):.1%} | {get('dnsmos_ovrl'):.2f} | "
        f"{get('dnsmos_sig'):.2f} | {get('dnsmos_bak'):.2f} |"
    )


def to_markdown(report: dict) -> str:
    o = report["options"]
    flags = f"--codec {o['codec']} --per-speaker {o['per_speaker']} --seed {o['seed']}"
    if o["compare"]:
        flags += f" --compare {','.join(o['compare'])}"
    if o.get("groups"):
        flags += f" --groups {','.join(o['groups'])}"
    if not o["classic"]:
        flags += " --classic false"
    lines = [
        f"# Codec report: {o['codec']}",
        "",
        f"`python -m palette.recipes.evaluation.codec_report {o['split']} {flags} --out {o['out']}`",
        "",
        f"{report['utterances']} utterances; Whisper tiny.en WER, resemblyzer SIM to the original, "
        "speaker-ID among the group's voices (enrolled from the originals), DNSMOS (speechmos). "
        "Held-out groups (whole voices that training has in no form) first.",
    ]
    for group, systems in report["groups"].items():
        lines += [
            "",
            f"## {group} ({report['speakers'][group]} speakers)",
            "",
            "| system | WER | SIM to original | speaker ID | DNSMOS OVRL | SIG | BAK |",
            "|---|---|---|---|---|---|---|",
            *(_row(name, s) for name, s in systems.items()),
        ]
    lines += ["", "| codec | frame rate | bit/s | parameters | RTF (2 threads, whole utterances) |"]
    lines += ["|---|---|---|---|---|"]
    for label, sp in report["speed"].items():
        rtfs = ", ".join(
            f"{k[:-4].replace('_', ' ')} {v:.4f}" for k, v in sp.items() if k.endswith("_rtf")
        )
        lines.append(
            f"| {label}: {sp['codec']} | {sp['frame_rate']:g} Hz | {sp['bitrate']:.0f} | "
            f"{sp['parameters'] / 1e6:.2f} M | {rtfs} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_flags(parser, CodecReportOptions, positional=("split",))
    o = from_args(CodecReportOptions, parser.parse_args(argv))

    def report():
        build_report(o)
        print((Path(o.out) / "report.md").read_text())

    return run_reporting_user_errors("codec_report", report)


if __name__ == "__main__":
    raise SystemExit(main())
