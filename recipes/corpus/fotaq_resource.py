"""The resource file of *Flight of the Amazon Queen* (``queen.1c``) and its MP3 speech clips.

The Debian package ``flight-of-the-amazon-queen`` ships the CD ("talkie") version rebuilt by
ScummVM's ``compress_queen`` tool: one file holding every game file, with its table at the
start. All numbers are big-endian::

    offset  size  field
    0       4     b"QTBL"
    4       6     version string, NUL-padded (b"CEM10\\0": CD, English, v1.0)
    10      2     (unused)
    12      1     compression of the ``.SB`` sound files: 0 none, 1 MP3, 2 Ogg Vorbis, 3 FLAC
    13      2     number of entries N
    15      21*N  entries, sorted by name:
                    12  name, NUL-padded ASCII (``"020001P2.SB"``)
                    1   bundle (which ``queen.<n>`` file; always 1 here)
                    4   offset of the data from the start of the file
                    4   size in bytes

With compression 1 a ``.SB`` entry is a bare MPEG audio stream (11025 Hz mono in the Debian
build); speech and sound effects are both ``.SB`` files, told apart by their names
(``recipes.corpus.fotaq_script``). Game files other than sounds start with a 20-byte header
that the engine skips (``read(name, skip=20)``).
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MAGIC = b"QTBL"
COMPRESSION = {0: "none", 1: "mp3", 2: "ogg", 3: "flac"}
FILE_HEADER = 20  # bytes before the data of .DOG, .CUT and .JAS files
_HEAD = struct.Struct(">4s6s2sBH")
_ENTRY = struct.Struct(">12sBII")


class ResourceFormatError(ValueError):
    """The file is not a rebuilt Queen resource file (or is damaged)."""


@dataclass(frozen=True)
class ResourceEntry:
    name: str  # upper-case file name, e.g. "020001P2.SB"
    bundle: int  # resource file number (1: queen.1c itself)
    offset: int  # bytes from the start of the file
    size: int  # bytes


class ResourceFile:
    """Reads entries of a ``queen.1c`` file; the table is parsed once, data on demand.

    >>> res = ResourceFile(path)
    >>> res.version, res.compression          # ("CEM10", "mp3")
    >>> res.read("QUEEN2.JAS")[:30]
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        with open(self.path, "rb") as f:
            head = f.read(_HEAD.size)
            if len(head) < _HEAD.size:
                raise ResourceFormatError(f"{self.path}: too short for a resource table")
            magic, version, _, compression, count = _HEAD.unpack(head)
            if magic != MAGIC:
                raise ResourceFormatError(f"{self.path}: no QTBL table (not a rebuilt queen.1c)")
            table = f.read(_ENTRY.size * count)
        if len(table) < _ENTRY.size * count:
            raise ResourceFormatError(f"{self.path}: table of {count} entries is cut short")
        self.version = version.rstrip(b"\0").decode("ascii", "replace")
        self.compression = COMPRESSION.get(compression, f"unknown ({compression})")
        size = self.path.stat().st_size
        self.entries: dict[str, ResourceEntry] = {}
        for i in range(count):
            raw, bundle, offset, length = _ENTRY.unpack_from(table, i * _ENTRY.size)
            name = raw.split(b"\0", 1)[0].decode("ascii", "replace").upper()
            if bundle == 1 and offset + length > size:
                raise ResourceFormatError(f"{self.path}: entry {name} runs past the end")
            self.entries[name] = ResourceEntry(name, bundle, offset, length)

    def names(self, suffix: str = "") -> list[str]:
        """Entry names ending with ``suffix`` (e.g. ``".SB"``), sorted."""
        return sorted(n for n in self.entries if n.endswith(suffix.upper()))

    def read(self, name: str, skip: int = 0) -> bytes:
        """The bytes of entry ``name`` (case-insensitive) after its first ``skip`` bytes."""
        entry = self.entries.get(name.upper())
        if entry is None:
            raise KeyError(f"{name} is not in {self.path}")
        if entry.bundle != 1:
            raise ResourceFormatError(f"{name} lives in queen.{entry.bundle}, not in this file")
        with open(self.path, "rb") as f:
            f.seek(entry.offset + skip)
            return f.read(max(entry.size - skip, 0))


def build_resource(files: dict[str, bytes], version: str = "CEM10", compression: int = 1) -> bytes:
    """A resource file holding ``files`` (name -> bytes), in the layout above: the inverse of
    :class:`ResourceFile`, for tests and fixtures."""
    names = sorted(n.upper() for n in files)
    data = {n.upper(): b for n, b in files.items()}
    offset = _HEAD.size + _ENTRY.size * len(names)
    head = _HEAD.pack(MAGIC, version.encode("ascii"), b"\0\0", compression, len(names))
    table, blobs = [], []
    for name in names:
        table.append(_ENTRY.pack(name.encode("ascii"), 1, offset, len(data[name])))
        blobs.append(data[name])
        offset += len(data[name])
    return head + b"".join(table) + b"".join(blobs)


def decode_audio(data: bytes) -> tuple[np.ndarray, int]:
    """A compressed ``.SB`` clip (MP3, Ogg or FLAC bytes) -> (``[S]`` float32 mono, its rate)."""
    import av

    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.audio[0]
        to_mono = av.AudioResampler(format="flt", layout="mono")  # rate kept
        chunks = [
            out.to_ndarray().reshape(-1)
            for frame in container.decode(stream)
            for out in to_mono.resample(frame)
        ]
        chunks += [out.to_ndarray().reshape(-1) for out in to_mono.resample(None)]
        rate = int(stream.codec_context.sample_rate)
    wav = np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
    return wav.astype(np.float32, copy=False), rate


def audio_seconds(data: bytes) -> float:
    """Length of a compressed clip from its packets, without decoding (about 1 ms a clip)."""
    import av

    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.audio[0]
        ticks = sum(p.duration or 0 for p in container.demux(stream) if p.size)
        return float(ticks * stream.time_base) if stream.time_base else 0.0
