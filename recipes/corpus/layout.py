"""The LibriTTS file layout: where each file goes and what it holds, written atomically.

A corpus root holds one folder per subset and ``SPEAKERS.txt``::

    <root>/SPEAKERS.txt
    <root>/<subset>/<speaker>/<chapter>/<speaker>_<chapter>.trans.tsv
    <root>/<subset>/<speaker>/<chapter>/<speaker>_<chapter>.book.tsv
    <root>/<subset>/<speaker>/<chapter>/<utt>.wav              24 kHz, 16-bit PCM, mono
    <root>/<subset>/<speaker>/<chapter>/<utt>.original.txt     the text as written
    <root>/<subset>/<speaker>/<chapter>/<utt>.normalized.txt   the text as spoken

where ``<utt>`` is ``<speaker>_<chapter>_<paragraph>_<sentence>`` with six-digit paragraph and
sentence numbers, e.g. ``84_121123_000008_000000``. The two ``.txt`` files hold one line
without a final newline. The raw formats of the tables are quoted where they are written.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from palette.tts.audio_output import save_wav

SAMPLE_RATE = 24000
TRAIN, DEV, TEST = "train-clean-100", "dev-clean", "test-clean"
SUBSETS = (TRAIN, DEV, TEST)
# SNR (dB) written to book.tsv: rendered speech has no recording noise.
CLEAN_SNR_DB = 60.0


def utterance_id(speaker: int, chapter: int, paragraph: int, sentence: int) -> str:
    """``84, 121123, 8, 0 -> '84_121123_000008_000000'``."""
    return f"{speaker}_{chapter}_{paragraph:06d}_{sentence:06d}"


def chapter_dir(root: Path, subset: str, speaker: int, chapter: int) -> Path:
    return Path(root) / subset / str(speaker) / str(chapter)


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) through a temporary file renamed into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text_if_changed(path: Path, text: str) -> bool:
    """Write ``text`` atomically unless the file already holds exactly it; True if written."""
    path = Path(path)
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return False
    write_text_atomic(path, text)
    return True


def _clean(text: str) -> str:
    """One line without tabs: the tables are tab-separated, one utterance a line."""
    return " ".join(text.split())


def is_written(directory: Path, utt_id: str) -> bool:
    """Whether the utterance is complete (its wav is written last)."""
    return (Path(directory) / f"{utt_id}.wav").is_file()


def write_utterance(
    directory: Path, utt_id: str, original: str, normalized: str, wav: np.ndarray, sample_rate: int
) -> None:
    """Write ``<utt>.original.txt``, ``<utt>.normalized.txt`` and then ``<utt>.wav`` (``[S]``
    float in [-1, 1]), each atomically; the wav comes last, so its presence marks the utterance
    complete."""
    directory = Path(directory)
    write_text_if_changed(directory / f"{utt_id}.original.txt", _clean(original))
    write_text_if_changed(directory / f"{utt_id}.normalized.txt", _clean(normalized))
    save_wav(directory / f"{utt_id}.wav", wav, sample_rate)


@dataclass(frozen=True)
class TableRow:
    """One utterance of a chapter's tables."""

    utt_id: str
    original: str
    normalized: str


def write_chapter_tables(
    directory: Path, speaker: int, chapter: int, rows: Iterable[TableRow]
) -> int:
    """Write ``<speaker>_<chapter>.trans.tsv`` and ``.book.tsv`` (unchanged files are left
    alone); returns the number of files written.

    ``trans.tsv``, one kept utterance a line, tab-separated id, original text, normalised text::

        84_121123_000007_000001\\tMaximilian.\\tMaximilian.
        84_121123_000008_000000\\tVillefort rose, half ashamed of being surprised in such a paroxysm of grief.\\tVillefort rose, ...

    ``book.tsv``, tab-separated, every utterance of the chapter in reading order. lhotse's
    ``prepare_libritts`` splits each line on whitespace and reads the first field (the id) and
    the last (the SNR in dB) only; we write id, original text, normalised text, SNR.
    """
    rows = list(rows)
    trans = "".join(f"{r.utt_id}\t{_clean(r.original)}\t{_clean(r.normalized)}\n" for r in rows)
    book = "".join(
        f"{r.utt_id}\t{_clean(r.original)}\t{_clean(r.normalized)}\t{CLEAN_SNR_DB:.2f}\n"
        for r in rows
    )
    directory = Path(directory)
    stem = f"{speaker}_{chapter}"
    written = write_text_if_changed(directory / f"{stem}.trans.tsv", trans)
    return written + write_text_if_changed(directory / f"{stem}.book.tsv", book)


def read_trans(path: Path) -> list[TableRow]:
    """Read a ``trans.tsv`` (see :func:`write_chapter_tables`)."""
    rows = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        utt_id, original, normalized = line.split("\t")
        rows.append(TableRow(utt_id, original, normalized))
    return rows


@dataclass(frozen=True)
class SpeakerRow:
    """One line of SPEAKERS.txt."""

    speaker: int
    gender: str  # "F" or "M"
    subset: str
    minutes: float
    name: str


_SPEAKERS_HEADER = """\
; Some pipe(|) separated metadata about all speakers of this corpus.
; (The layout of LibriTTS's SPEAKERS.txt; the speakers here are synthetic voices.)
;
; The meaning of the fields in left-to-right order is as follows:
;
; reader_id: the ID of the speaker
; gender: 'F' for female, 'M' for male
; subset: the corpus subset to which the speaker's audio is assigned
; duration: total number of minutes of speech by the speaker, included in the corpus
; name: how the voice was made
;
;ID  |SEX| SUBSET           |MINUTES| NAME
"""


def write_speakers_table(root: Path, rows: Iterable[SpeakerRow]) -> bool:
    """Write ``<root>/SPEAKERS.txt`` in LibriTTS's format (unless unchanged)::

        ;ID  |SEX| SUBSET           |MINUTES| NAME
        14   | F | train-clean-360  | 25.03 | Kristin LeMoine
        16   | F | train-clean-360  | 25.11 | Alys AtteWater

    Lines starting with ``;`` are comments; lhotse reads the first two fields (id, gender).
    """
    lines = [
        f"{r.speaker:<5}| {r.gender} | {r.subset:<17}| {r.minutes:5.2f} | {_clean(r.name).replace('|', '/')}\n"
        for r in sorted(rows, key=lambda r: r.speaker)
    ]
    return write_text_if_changed(Path(root) / "SPEAKERS.txt", _SPEAKERS_HEADER + "".join(lines))
