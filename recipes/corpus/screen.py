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

    max_wer: float = 0.35  # mean WER over the two sentences, voices as shipped (tiny.en
    # mishears robotic but intelligible voices: espeak-ng's own voices score 0.2-0.5)
    max_wer_derived: float = 0.2  # the same for voices derived here (Kokoro styles)
    max_cosine: float = 0.85  # to every base kept before
    held_out: tuple[str, ...] = ("mbrola:us3", "mbrola:de3-en")  # test voices besides reserved
    female_f0_hz: float = 165.0  # median F0 at or above: listed as F (measured genders)


def median_f0(wav16: np.ndarray) -> float:
    """Median F0 (Hz) of the voiced frames of a 16 kHz waveform (WORLD's DIO + StoneMask)."""
    import pyworld

    x = np.ascontiguousarray(wav16, dtype=np.float64)
    f0, t = pyworld.dio(x, 16000, f0_floor=50.0, f0_ceil=500.0)
    f0 = pyworld.stonemask(x, f0, t, 16000)
    voiced = f0[f0 > 0]
    return float(np.median(voiced)) if len(voiced) else 0.0


def measure(
    options: ScreenOptions = ScreenOptions(),
    known: dict[str, dict] | None = None,
    known_embeddings: dict[str, np.ndarray] | None = None,
) -> tuple[list[dict], dict[str, np.ndarray]]:
    """Let every candidate speak; rows (WER, F0, pace; status only for the ones that cannot
    speak) and ``key -> embedding [256]`` of every voice that spoke. Candidates in ``known``
    (rows of an earlier screening, with ``known_embeddings``) are taken from there."""
    from palette.recipes.evaluation.metrics.asr import WhisperTranscriber
    from palette.recipes.evaluation.metrics.speaker import ResemblyzerEmbedder, unit
    from palette.recipes.evaluation.metrics.wer import normalize_for_wer, word_errors

    asr, embedder = WhisperTranscriber(threads=1), ResemblyzerEmbedder()
    rows, embeddings = [], {}
    known, known_embeddings = known or {}, known_embeddings or {}
    for base in bases.candidates():
        old = known.get(base.key)
        if old is not None and (base.key in known_embeddings or old.get("status") == "rejected"):
            rows.append(old)
            if base.key in known_embeddings:
                embeddings[base.key] = known_embeddings[base.key]
            continue
        row = {
            "key": base.key,
            "source": base.source,
            "name": base.name,
            "licence": base.licence,
            "shippable": base.shippable,
        }
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
                heard = normalize_for_wer(asr.transcribe(wav16))
                counts = word_errors(normalize_for_wer(text), heard, normalize=False)
                errors, words = errors + counts.errors, words + counts.words
        except Exception as err:  # a voice that cannot speak is rejected, not fatal
            rows.append({**row, "status": "rejected", "reason": f"failed to speak: {err}"})
            logger.warning("%s failed: %s", base.key, err)
            continue
        cpu = time.process_time() - start
        embeddings[base.key] = unit(np.mean([embedder.embed(w) for w in wavs], axis=0)).astype(
            np.float32
        )
        f0 = median_f0(np.concatenate(wavs))
        gender = base.gender
        if base.source == "kokoro":
            gender = "F" if f0 >= options.female_f0_hz else "M"
        row.update(
            gender=gender,
            f0_hz=round(f0, 1),
            wer=round(errors / max(1, words), 3),
            chars_per_second=round(chars / seconds, 2),
            cpu_per_audio_second=round(cpu / seconds, 3),
        )
        logger.info("%-44s wer %.2f f0 %5.1f", base.key[:44], row["wer"], f0)
        rows.append(row)
    return rows, embeddings


def derived(row: dict) -> bool:
    """A voice made here (a Kokoro blend, swap or sample) rather than shipped by its source."""
    return row["source"] == "kokoro" and not row["name"].startswith("pack ")


def decide(
    rows: list[dict], embeddings: dict[str, np.ndarray], options: ScreenOptions
) -> list[dict]:
    """Status of every measured row, in order (see the module doc); pure."""
    kept: dict[str, np.ndarray] = {}
    out = []
    for row in rows:
        if row.get("status") in ("unavailable",) or row["key"] not in embeddings:
            out.append(row)
            continue
        row = {k: v for k, v in row.items() if k not in ("status", "reason")}
        emb = embeddings[row["key"]]
        nearest, cos = max(
            ((k, float(emb @ e)) for k, e in kept.items()),
            key=lambda kv: kv[1],
            default=(None, 0.0),
        )
        row.update(nearest=nearest, nearest_cosine=round(cos, 3))
        limit = options.max_wer_derived if derived(row) else options.max_wer
        test = (
            bases.BaseVoice(row["source"], row["name"], "F").reserved
            or row["key"] in options.held_out
        )
        if row["wer"] > limit:
            row.update(status="rejected", reason=f"WER {row['wer']:.2f} > {limit}")
        elif test:
            row.update(
                status="test", reason="held out" if row["key"] in options.held_out else "reserved"
            )
        elif cos >= options.max_cosine:
            row.update(status="rejected", reason=f"cosine {cos:.2f} to {nearest}")
        else:
            row.update(status="train", reason="")
            kept[row["key"]] = emb
        out.append(row)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m palette.recipes.corpus.screen", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="bases.json to write")
    parser.add_argument("--embeddings", type=Path, default=Path("data/screen/embeddings.npz"))
    parser.add_argument(
        "--extend",
        action="store_true",
        help="measure only candidates that --out and --embeddings lack",
    )
    parser.add_argument(
        "--decide-only",
        action="store_true",
        help="re-decide the statuses in --out from its measurements and the "
        "saved --embeddings (nothing is rendered)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    options = ScreenOptions()
    if args.decide_only:
        saved = np.load(args.embeddings)
        embeddings = dict(zip(saved["keys"].tolist(), saved["embeddings"], strict=True))
        rows = json.loads(args.out.read_text(encoding="utf-8"))["voices"]
    elif args.extend:
        saved = np.load(args.embeddings)
        old = dict(zip(saved["keys"].tolist(), saved["embeddings"], strict=True))
        known = {r["key"]: r for r in json.loads(args.out.read_text(encoding="utf-8"))["voices"]}
        rows, embeddings = measure(options, known, old)
    else:
        rows, embeddings = measure(options)
    rows = decide(rows, embeddings, options)
    from palette.codec.files import write_text_atomic

    record = {
        "options": {**options.__dict__, "held_out": list(options.held_out)},
        "sentences": list(SENTENCES),
        "voices": rows,
    }
    write_text_atomic(args.out, json.dumps(record, indent=1, ensure_ascii=False) + "\n")
    if not args.decide_only:
        args.embeddings.parent.mkdir(parents=True, exist_ok=True)
        keys, vectors = np.array(list(embeddings)), np.stack(list(embeddings.values()))
        np.savez(args.embeddings, keys=keys, embeddings=vectors)
    counts = {
        s: sum(r["status"] == s for r in rows) for s in ("train", "test", "rejected", "unavailable")
    }
    logger.info("%s: %s", args.out, counts)
    return 0


if __name__ == "__main__":
    sys.exit(main())
