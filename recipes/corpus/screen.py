"""Screen candidate base voices: keep a voice only if it is intelligible and distinct.

    python -m palette.recipes.corpus.screen --out recipes/corpus/bases.json

Every candidate of ``bases.candidates()`` whose source is available speaks two fixed
sentences. A training base is kept when Whisper tiny.en (``recipes.evaluation.metrics.asr``)
gets its words right (WER <= ``max_wer``) and its resemblyzer embedding
(``recipes.evaluation.metrics.speaker``) has cosine below ``max_cosine`` to every base kept
before it (candidates in order: shipped voices first, derived Kokoro styles last). Reserved
voices and those in ``held_out`` become test voices (kept when intelligible; never compared).

The result, committed as ``recipes/corpus/bases.json``, is what the corpus plan reads, so the
plan is a pure function of its settings and this file. Per voice: source, name, gender
(measured from the median F0 where the source does not list it), median F0, WER, characters
per second (for planning), nearest kept base and its cosine, status (``train``, ``test`` or
``rejected``) and why. Embeddings go to ``--embeddings`` (npz) for the coverage picture.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from palette.recipes.corpus import bases, sources
from palette.tts.audio import resample

logger = logging.getLogger(__name__)
SENTENCES = (
    "the quick brown fox jumps over the lazy dog near the bank of the river.",
    "she paid forty two dollars for a train ticket on the third of may.",
)
DEFAULT_OUT = Path(__file__).with_name("bases.json")


@dataclass(frozen=True)
class ScreenOptions:
    """What the screening keeps."""

    max_wer: float = 0.2  # mean WER over the two sentences
    max_cosine: float = 0.85  # to every base kept before
    held_out: tuple[str, ...] = ("mbrola:us3", "mbrola:de5-en")  # test voices besides reserved
    female_f0_hz: float = 165.0  # median F0 at or above: listed as F (measured genders)


def median_f0(wav16: np.ndarray) -> float:
    """Median F0 (Hz) of the voiced frames of a 16 kHz waveform (WORLD's DIO + StoneMask)."""
    import pyworld

    x = np.ascontiguousarray(wav16, dtype=np.float64)
    f0, t = pyworld.dio(x, 16000, f0_floor=50.0, f0_ceil=500.0)
    f0 = pyworld.stonemask(x, f0, t, 16000)
    voiced = f0[f0 > 0]
    return float(np.median(voiced)) if len(voiced) else 0.0


def screen(options: ScreenOptions = ScreenOptions()) -> tuple[list[dict], dict[str, np.ndarray]]:
    """Rows for ``bases.json`` and ``key -> embedding [256]`` of every voice that spoke."""
    from palette.recipes.evaluation.metrics.asr import WhisperTranscriber
    from palette.recipes.evaluation.metrics.speaker import ResemblyzerEmbedder, unit
    from palette.recipes.evaluation.metrics.wer import normalize_for_wer, word_errors

    asr, embedder = WhisperTranscriber(threads=1), ResemblyzerEmbedder()
    rows, embeddings, kept = [], {}, {}
    for base in bases.candidates():
        row = {"key": base.key, "source": base.source, "name": base.name,
               "licence": base.licence, "shippable": base.shippable}  # fmt: skip
        reason = sources.unavailable(base.source)
        if reason:
            rows.append({**row, "status": "unavailable", "reason": reason})
            logger.warning("skipping %s: %s", base.key, reason)
            continue
        start = time.process_time()
        wavs, chars, seconds, errors, words = [], 0, 0.0, 0, 0
        try:
            for text in SENTENCES:
                wav, sr = sources.speak(base, text)
                wav16 = resample(wav, sr, 16000)
                wavs.append(wav16)
                chars, seconds = chars + len(text), seconds + len(wav) / sr
                counts = word_errors(
                    normalize_for_wer(text),
                    normalize_for_wer(asr.transcribe(wav16)),
                    normalize=False,
                )
                errors, words = errors + counts.errors, words + counts.words
        except Exception as err:  # a voice that cannot speak is rejected, not fatal
            rows.append({**row, "status": "rejected", "reason": f"failed to speak: {err}"})
            logger.warning("%s failed: %s", base.key, err)
            continue
        cpu = time.process_time() - start
        emb = unit(np.mean([embedder.embed(w) for w in wavs], axis=0)).astype(np.float32)
        embeddings[base.key] = emb
        f0 = median_f0(np.concatenate(wavs))
        gender = base.gender
        if base.source == "kokoro":
            gender = "F" if f0 >= options.female_f0_hz else "M"
        nearest, cos = max(((k, float(emb @ e)) for k, e in kept.items()),
                           key=lambda kv: kv[1], default=(None, 0.0))  # fmt: skip
        wer = errors / max(1, words)
        row.update(gender=gender, f0_hz=round(f0, 1), wer=round(wer, 3),
                   chars_per_second=round(chars / seconds, 2), nearest=nearest,
                   nearest_cosine=round(cos, 3), cpu_per_audio_second=round(cpu / seconds, 3))  # fmt: skip
        test = base.reserved or base.key in options.held_out
        if wer > options.max_wer:
            row.update(status="rejected", reason=f"WER {wer:.2f} > {options.max_wer}")
        elif test:
            row.update(status="test", reason="reserved" if base.reserved else "held out")
        elif cos >= options.max_cosine:
            row.update(status="rejected", reason=f"cosine {cos:.2f} to {nearest}")
        else:
            row.update(status="train", reason="")
            kept[base.key] = emb
        logger.info("%-44s %-8s wer %.2f cos %.2f f0 %5.1f %s", base.key[:44], row["status"],
                    wer, cos, f0, row["reason"])  # fmt: skip
        rows.append(row)
    return rows, embeddings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m palette.recipes.corpus.screen",
                                     description=__doc__.split("\n\n")[0])  # fmt: skip
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="bases.json to write")
    parser.add_argument("--embeddings", type=Path, default=Path("data/screen/embeddings.npz"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    options = ScreenOptions()
    rows, embeddings = screen(options)
    from palette.codec.files import write_text_atomic

    record = {"options": {**options.__dict__, "held_out": list(options.held_out)},
              "sentences": list(SENTENCES), "voices": rows}  # fmt: skip
    write_text_atomic(args.out, json.dumps(record, indent=1, ensure_ascii=False) + "\n")
    args.embeddings.parent.mkdir(parents=True, exist_ok=True)
    np.savez(
        args.embeddings,
        keys=np.array(list(embeddings)),
        embeddings=np.stack(list(embeddings.values())),
    )
    counts = {
        s: sum(r["status"] == s for r in rows) for s in ("train", "test", "rejected", "unavailable")
    }
    logger.info("%s: %s", args.out, counts)
    return 0


if __name__ == "__main__":
    sys.exit(main())
