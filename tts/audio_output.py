"""Writing audio: the format from the extension (wav, flac, ogg, mp3 where libsndfile has it),
files written atomically (a temporary file, then a rename), standard output, and the
incremental writers of streamed synthesis (a growing file, or WAV on a pipe).

Waveforms are 1-D float32 numpy arrays ``[S]`` in [-1, 1] plus a sample rate.
"""

from __future__ import annotations

import contextlib
import io
import os
import stat
import struct
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import soundfile as sf

from palette.codec.files import UserError, atomic_path

# extension -> (libsndfile format, subtype); mp3 only where this libsndfile can write it
_WRITERS = {
    ".wav": ("WAV", "PCM_16"),
    ".flac": ("FLAC", "PCM_16"),
    ".ogg": ("OGG", "VORBIS"),
    ".mp3": ("MP3", "MPEG_LAYER_III"),
}
STDOUT = "-"  # the output path that means standard output (wav)


def output_formats() -> list[str]:
    """The extensions ``save_audio`` writes here, e.g. ``['flac', 'mp3', 'ogg', 'wav']``."""
    formats = sf.available_formats()
    return sorted(ext[1:] for ext, (fmt, _) in _WRITERS.items() if fmt in formats)


def output_format(path: str | os.PathLike) -> tuple[str, str]:
    """``(format, subtype)`` for writing ``path``, from its extension; stdout and existing
    devices/FIFOs without an extension get wav. Raises ``UserError`` for other extensions."""
    path_str = str(path)
    suffix = Path(path_str).suffix.lower()
    if path_str == STDOUT or (not suffix and _is_special(Path(path_str))):
        return _WRITERS[".wav"]
    if suffix[1:] not in output_formats():
        shown = f"'{suffix}'" if suffix else "no extension"
        raise UserError(
            f"cannot write audio to {path_str}: {shown} is not a supported format; "
            f"use one of {', '.join('.' + f for f in output_formats())}"
        )
    return _WRITERS[suffix]


def _is_special(path: Path) -> bool:
    """An existing target that is not a regular file (a device, a FIFO), links followed."""
    try:
        return not stat.S_ISREG(path.stat().st_mode)
    except OSError:
        return False


def check_output_path(path: str | os.PathLike, what: str = "output") -> None:
    """Raise ``UserError`` (one line) unless ``path`` can be written: ``-`` (stdout), or a path
    with a supported extension whose folder exists and is writable and that is not a folder.
    Meant to run before any model is loaded."""
    if str(path) == STDOUT:
        return
    path = Path(path)
    output_format(path)
    if path.is_dir():
        raise UserError(f"{what} {path} is a directory; give a file name, e.g. {path / 'out.wav'}")
    if _is_special(path):
        if not os.access(path, os.W_OK):
            raise UserError(f"{what} {path}: permission denied")
        return
    parent = path.resolve().parent
    if not parent.is_dir():
        raise UserError(f"{what} {path}: folder {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UserError(
            f"{what} {path}: cannot write in folder {parent} (permission denied "
            "or a read-only file system)"
        )


def encode_audio(wav: np.ndarray, sample_rate: int, fmt: str, subtype: str) -> bytes:
    """Mono ``[S]`` (or ``[S, C]``) float audio -> the bytes of a file in ``fmt``."""
    data = np.clip(np.asarray(wav, dtype=np.float32), -1.0, 1.0)
    buffer = io.BytesIO()
    sf.write(buffer, data, sample_rate, subtype=subtype, format=fmt)
    return buffer.getvalue()


def save_audio(path: str | os.PathLike, wav: np.ndarray, sample_rate: int) -> Path:
    """Write ``[S]`` float audio in the format of ``path``'s extension (wav and flac 16-bit
    PCM, ogg Vorbis, mp3), atomically: a unique temporary file in the same folder is renamed
    into place; a symlink is written through and a device written directly. ``-`` writes wav
    to stdout. OS errors (disk full, read-only, permission) become one-line ``UserError``s."""
    data = encode_audio(wav, sample_rate, *output_format(path))
    if str(path) == STDOUT:
        write_stdout(data)
        return Path(STDOUT)
    return _write_file(Path(path), data)


def save_wav(path: str | os.PathLike, wav: np.ndarray, sample_rate: int) -> Path:
    """Write mono ``[S]`` float audio as 16-bit PCM wav atomically, whatever the extension."""
    return _write_file(Path(path), encode_audio(wav, sample_rate, *_WRITERS[".wav"]))


def _write_file(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` through ``atomic_path``; OS errors -> one-line ``UserError``."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp, open(tmp, "wb") as fh:
            fh.write(data)
    except OSError as err:
        raise UserError(f"cannot write {path}: {err.strerror or err}") from None
    return path


def write_stdout(data: bytes) -> None:
    """Write bytes to stdout; a reader that went away (``| head``) ends the program quietly
    (see ``palette.tts.commands.outputs``)."""
    out = getattr(sys.stdout, "buffer", None)
    if out is None:
        raise UserError("standard output does not accept binary data")
    out.write(data)
    out.flush()


@contextlib.contextmanager
def open_audio_output(
    path: str | os.PathLike, sample_rate: int
) -> Iterator[Callable[[np.ndarray], None]]:
    """Write audio piece by piece with flat memory: ``with open_audio_output(p, sr) as write:
    write(chunk)`` for float chunks ``[s]``. The format follows the extension as in
    ``save_audio``; the file appears under ``path`` only when the block ends without an
    exception (a unique temporary name until then). ``-`` streams 16-bit wav to stdout with an
    open-ended header. OS and libsndfile errors become one-line ``UserError``s."""
    fmt, subtype = output_format(path)
    if str(path) == STDOUT:
        write_stdout(streaming_wav_header(sample_rate))
        yield lambda chunk: write_stdout(_pcm16(chunk))
        return
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UserError(f"cannot write {path}: {err.strerror or err}") from None
    with atomic_path(path) as tmp:
        try:
            fh = sf.SoundFile(str(tmp), "w", sample_rate, 1, subtype, format=fmt)
        except (OSError, sf.LibsndfileError) as err:
            raise UserError(f"cannot write {path}: {err}") from None
        with fh:
            yield _guarded_writer(fh, path)


def _guarded_writer(fh: sf.SoundFile, path: Path) -> Callable[[np.ndarray], None]:
    def write(chunk: np.ndarray) -> None:
        try:
            fh.write(np.clip(np.asarray(chunk, dtype=np.float32), -1.0, 1.0))
        except (OSError, sf.LibsndfileError) as err:
            raise UserError(f"cannot write {path}: {err}") from None

    return write


def _pcm16(chunk: np.ndarray) -> bytes:
    return (np.clip(chunk, -1, 1) * 32767).astype("<i2").tobytes()


def streaming_wav_header(sample_rate: int) -> bytes:
    """A 16-bit mono wav header whose sizes say "until the end" (0xFFFFFFFF), as sox and ffmpeg
    write to pipes; players read such a stream until it ends."""
    return struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        b"RIFF",
        0xFFFFFFFF,
        b"WAVE",
        b"fmt ",
        16,
        1,
        1,
        sample_rate,
        2 * sample_rate,
        2,
        16,
        b"data",
        0xFFFFFFFF,
    )
