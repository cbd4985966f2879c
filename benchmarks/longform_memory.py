"""Peak memory of long-form reading: ``palette synthesize --text-file BOOK.md`` on books of
5,000 and 50,000 words, each run in its own process, peak RSS from the kernel (VmHWM).

The text is read lazily, each sentence is generated, decoded and written before the next one,
so the peak must not grow with the book. Five hours of speech from the shipped model would take
hours on 2 cores, so the runs use a tiny random model of the same architecture (what is measured
is the pipeline's memory: front end, sentence loop, writer) and ``--duration`` fixes each
sentence's length. Writes ``benchmarks/results/longform_memory.md``.

    python benchmarks/longform_memory.py
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from palette.codec.palette_codec import PaletteCodec, PaletteCodecConfig
from palette.models.config import LMConfig
from palette.models.loading import build_model
from palette.models.transformer import TransformerConfig
from palette.tts.bundle import ModelBundle
from palette.tts.symbols import SymbolTable

WORDS = (
    "the quick brown fox jumps over a lazy dog while seven curious children read old "
    "stories about distant islands rivers mountains and quiet harbours"
).split()


def tiny_model(root: Path) -> Path:
    torch.manual_seed(0)
    codec_dir = root / "codec"
    PaletteCodec(
        PaletteCodecConfig(
            dim=32,
            encoder_blocks=1,
            decoder_blocks=1,
            vocoder_blocks=1,
            num_codebooks=2,
            latent_dim=4,
        )
    ).save_pretrained(codec_dir)
    symbols = SymbolTable.default()
    cfg = LMConfig(
        family="par",
        num_symbols=len(symbols),
        cardinality=1000,
        num_codebooks=2,
        transformer=TransformerConfig(dim=32, layers=1, heads=2),
    )
    config = {"model": cfg.to_dict(), "symbols": symbols.to_dict(), "stage": "par"}
    nar = LMConfig(
        family="nar",
        num_symbols=len(symbols),
        cardinality=1000,
        num_codebooks=2,
        transformer=TransformerConfig(dim=32, layers=1, heads=2),
    )
    stages = {
        "par": (config, build_model(cfg).state_dict()),
        "nar": ({**config, "model": nar.to_dict()}, build_model(nar).state_dict()),
    }
    return ModelBundle.write(root / "model", str(codec_dir), stages, "par", half=False).directory


def book(path: Path, words: int, seed: int = 0) -> Path:
    """Markdown: chapters of paragraphs of 12-word sentences."""
    rng = random.Random(seed)
    lines, count, chapter = [], 0, 0
    while count < words:
        chapter += 1
        lines += [f"# Chapter {chapter}", ""]
        for _ in range(20):
            sentences = [
                " ".join(rng.choice(WORDS) for _ in range(12)).capitalize() + "." for _ in range(5)
            ]
            lines += [" ".join(sentences), ""]
            count += 60
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def peak_rss_mib(command: list[str]) -> tuple[float, float]:
    """Run ``command``; -> (peak RSS in MiB from /proc VmHWM sampled until exit, seconds)."""
    start = time.perf_counter()
    log = tempfile.TemporaryFile(mode="w+")  # a pipe would fill with progress bars and block
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log, text=True)
    peak = 0
    while proc.poll() is None:
        try:
            for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]))
        except FileNotFoundError:
            break
        time.sleep(0.2)
    log.seek(0)
    err = log.read()
    if proc.returncode:
        raise SystemExit(f"{' '.join(command)} failed:\n{err[-2000:]}")
    return peak / 1024, time.perf_counter() - start


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--words", type=int, nargs="+", default=[5000, 50000])
    p.add_argument("--out", default="benchmarks/results/longform_memory.md")
    args = p.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        model = tiny_model(root)
        prompt = Path(__file__).resolve().parents[1] / "demos"
        for words in args.words:
            text = book(root / f"book-{words}.md", words)
            command = [
                sys.executable,
                "-m",
                "palette.tts",
                "synthesize",
                "--text-file",
                str(text),
                "--prompt",
                str(prompt / "prompt.wav"),
                "--prompt-text",
                (prompt / "prompt.txt").read_text().strip(),
                "--model",
                str(model),
                "--duration",
                "0.2",
                "-o",
                str(root / f"book-{words}.wav"),
            ]
            peak, seconds = peak_rss_mib(command)
            size = (root / f"book-{words}.wav").stat().st_size / 2**20
            rows.append(f"| {words:,} | {peak:.0f} | {seconds:.0f} | {size:.1f} |")
            print(rows[-1], flush=True)
    out = "\n".join(
        [
            "# Long-form memory",
            "",
            "`python benchmarks/longform_memory.py`: `palette synthesize --text-file BOOK.md` in its "
            "own process per book (tiny random model of the shipped architecture, 0.2 s per "
            "sentence), peak RSS from VmHWM. Flat memory means the same peak for both books.",
            "",
            "| words | peak RSS (MiB) | wall s | wav written (MiB) |",
            "|---|---|---|---|",
            *rows,
            "",
        ]
    )
    Path(args.out).write_text(out)
    print(out)


if __name__ == "__main__":
    main()
