"""Build a mini LibriTTS: synthetic speakers reading licence-clean English sentences, in the
exact LibriTTS layout (see ``palette.recipes.corpus.layout``), so that the LibriTTS recipe runs
unchanged on it.

    python -m palette.recipes.corpus.mini OUT_DIR --hours 3 --seed 0 --jobs 2

The build is seeded and resumable: run the same command again after an interruption and only
the missing utterances are rendered (nothing is rewritten when all are there). Besides the
LibriTTS files, ``OUT_DIR/MINI_CORPUS.json`` records the configuration and every speaker's
voice (which held-out speakers lie inside or outside the training range).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import multiprocessing
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import soundfile as sf
from tqdm import tqdm

from palette.codec.files import run_reporting_user_errors
from palette.recipes.corpus import layout
from palette.recipes.corpus.plan import Chapter, MiniCorpusConfig, plan_corpus, plan_digest
from palette.recipes.corpus.render import ChapterResult, render_chapter
from palette.recipes.corpus.voices import Speaker, SpeakerCounts
from palette.recipes.flags import add_flags, from_args

logger = logging.getLogger(__name__)
CONFIG_FILE = "MINI_CORPUS.json"


@dataclass
class BuildReport:
    """What a build did; the per-kind numbers cover this run's newly written utterances."""

    utterances: int = 0  # in the plan
    written: int = 0  # newly rendered by this run
    hours: float = 0.0  # total audio on disk after the run
    audio_seconds: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    cpu_seconds: dict[str, float] = field(default_factory=lambda: defaultdict(float))

    def add(self, result: ChapterResult) -> None:
        self.written += result.written
        self.audio_seconds[result.kind] += result.audio_seconds
        self.cpu_seconds[result.kind] += result.cpu_seconds

    def cpu_per_audio_second(self) -> dict[str, float]:
        """CPU seconds spent per second of audio written, per voice kind."""
        return {k: self.cpu_seconds[k] / s for k, s in self.audio_seconds.items() if s > 0}


def speaker_record(speaker: Speaker) -> dict:
    """JSON-ready description of a speaker (for MINI_CORPUS.json)."""
    return {
        "speaker_id": speaker.speaker_id,
        "subset": speaker.subset,
        "role": speaker.role,
        "gender": speaker.gender,
        "kind": speaker.kind,
        "gain_db": speaker.gain_db,
        "voice": dataclasses.asdict(speaker.voice),
        "name": speaker.voice.name,
    }


def _check_config(root: Path, config: MiniCorpusConfig, chapters: list[Chapter]) -> None:
    """Write MINI_CORPUS.json, or check that the existing one describes the same corpus (same
    settings, and the same plan: the sentence source depends on the Python version)."""
    path = root / CONFIG_FILE
    speakers = list(dict.fromkeys(c.speaker for c in chapters))
    record = {
        "config": config.to_dict(),
        "plan_digest": plan_digest(chapters),
        "speakers": [speaker_record(s) for s in speakers],
    }
    if path.is_file():
        existing = json.loads(path.read_text(encoding="utf-8"))
        if existing.get("config") != record["config"]:
            raise ValueError(
                f"{root} holds a mini corpus built with other settings ({path}); "
                "build into a new directory or rerun with the same settings"
            )
        if existing.get("plan_digest") != record["plan_digest"]:
            raise ValueError(
                f"{root} was planned with other sentences (another Python version?); "
                "build into a new directory"
            )
    layout.write_text_if_changed(path, json.dumps(record, indent=1) + "\n")


def write_tables(root: Path, chapters: list[Chapter]) -> float:
    """Write every chapter's trans/book tables and SPEAKERS.txt from the utterances on disk;
    returns the total audio in seconds."""
    minutes: dict[int, float] = defaultdict(float)
    speakers = {}
    for chapter in chapters:
        speaker = chapter.speaker
        speakers[speaker.speaker_id] = speaker
        directory = layout.chapter_dir(root, speaker.subset, speaker.speaker_id, chapter.chapter_id)
        rows = []
        for utt in chapter.utterances:
            if layout.is_written(directory, utt.utt_id):
                info = sf.info(str(directory / f"{utt.utt_id}.wav"))
                minutes[speaker.speaker_id] += info.frames / info.samplerate / 60.0
                rows.append(layout.TableRow(utt.utt_id, utt.original, utt.normalized))
        if rows:
            layout.write_chapter_tables(directory, speaker.speaker_id, chapter.chapter_id, rows)
    layout.write_speakers_table(
        root,
        [
            layout.SpeakerRow(s.speaker_id, s.gender, s.subset, minutes[i], s.voice.name)
            for i, s in speakers.items()
            if minutes[i] > 0
        ],
    )
    return 60.0 * sum(minutes.values())


def build_corpus(
    root: str | Path,
    config: MiniCorpusConfig | None = None,
    jobs: int = 2,
    progress: bool = True,
) -> BuildReport:
    """Render the corpus planned by ``config`` into ``root`` with ``jobs`` processes, skipping
    utterances already written, then write the tables (``config`` defaults to
    ``MiniCorpusConfig()``)."""
    config = config or MiniCorpusConfig()
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    chapters = plan_corpus(config)
    _check_config(root, config, chapters)
    report = BuildReport(utterances=sum(len(c.utterances) for c in chapters))
    render = partial(render_chapter, root)
    with tqdm(total=report.utterances, desc="rendering", unit="utt", disable=not progress) as bar:
        if jobs <= 1:
            _collect(map(render, chapters), report, bar)
        else:
            with multiprocessing.get_context("spawn").Pool(jobs) as pool:
                _collect(pool.imap_unordered(render, chapters), report, bar)
    report.hours = write_tables(root, chapters) / 3600.0
    return report


def _collect(results, report: BuildReport, bar) -> None:
    for result in results:
        report.add(result)
        bar.update(result.utterances)


def build_parser() -> argparse.ArgumentParser:
    """Flags from ``MiniCorpusConfig`` and ``SpeakerCounts`` (``palette.recipes.flags``)."""
    parser = argparse.ArgumentParser(
        prog="python -m palette.recipes.corpus.mini",
        description="Build a mini LibriTTS corpus (train-clean-100, dev-clean, test-clean) from "
        "Piper's joe voice re-synthesised by WORLD and espeak-ng voices. Rerun the same command "
        "to resume an interrupted build.",
    )
    parser.add_argument("out_dir", type=Path, help="corpus root to create (or resume)")
    parser.add_argument("--jobs", type=int, default=2, help="parallel render processes (default 2)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_flags(parser, MiniCorpusConfig, skip=("speakers",))
    add_flags(parser.add_argument_group("speakers per kind and subset"), SpeakerCounts)
    return parser


def config_from_args(args: argparse.Namespace) -> MiniCorpusConfig:
    return from_args(MiniCorpusConfig, args, speakers=from_args(SpeakerCounts, args))


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return run_reporting_user_errors("mini", lambda: _build(args))


def _build(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    report = build_corpus(args.out_dir, config_from_args(args), args.jobs, not args.no_progress)
    logger.info(
        "%d utterances planned, %d written now; %.2f h of audio in %s",
        report.utterances,
        report.written,
        report.hours,
        args.out_dir,
    )
    for kind, ratio in sorted(report.cpu_per_audio_second().items()):
        logger.info("%s voices: %.3f CPU s per audio s", kind, ratio)
    return 0


if __name__ == "__main__":
    sys.exit(main())
