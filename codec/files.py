"""The two small utilities every layer of palette-tts shares: ``UserError`` and atomic writes.

They live in the lowest layer (``codec`` imports nothing else of ours), so that audio, text,
model, voice and codec code can all raise the same error and write files the same way.
``palette.tts`` re-exports both.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

FILE_MODE = 0o644  # every file we write: readable by all, writable by the owner (like cp, sox)


class UserError(ValueError):
    """A problem with what the user gave us (input text, audio, options, files, model
    directories): the CLI prints its message on one line and exits with status 2. Anything else
    that escapes is a bug and keeps its traceback. Subclasses ``ValueError`` so that callers that
    catch ``ValueError`` keep working."""


class UserFileNotFoundError(UserError, FileNotFoundError):
    """A file or directory the user named does not exist."""


def run_reporting_user_errors(prog: str, call: Callable[[], object], verbose: bool = False) -> int:
    """Run a command: a ``UserError`` becomes one line on stderr and exit status 2 (with its
    traceback under ``verbose``); anything else is a bug and keeps its traceback. Every entry
    point (``palette`` and the recipes' ``python -m`` scripts) ends this way."""
    try:
        result = call()
    except UserError as err:
        if verbose:
            import traceback

            traceback.print_exc()
        print(f"{prog}: error: {err}", file=sys.stderr)
        return 2
    return result if isinstance(result, int) else 0


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a unique temporary path beside ``path`` (same suffix, so format-by-extension writers
    work); when the block ends without an exception it is renamed onto ``path`` with mode 0644,
    otherwise removed. Nothing is ever left half-written under ``path``. Missing parent folders
    are created.

    A symlink is written through (its target is replaced, the link stays); an existing
    non-regular file (a device, a FIFO) is written to directly, since it cannot be replaced.
    """
    path = Path(path)
    if path.is_symlink():
        path = path.resolve()
    if path.exists() and not stat.S_ISREG(path.stat().st_mode):
        yield path
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = "".join(path.suffixes)  # keeps ".jsonl.gz": writers pick formats by extension
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=f".tmp{suffix}", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def atomic_directory(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a new empty directory beside ``path``; when the block ends without an exception it
    replaces ``path`` (mode 0755), otherwise it is removed. The directory counterpart of
    ``atomic_path``: a model directory is never seen half-written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    try:
        yield tmp
        os.chmod(tmp, 0o755)
        if path.exists():
            shutil.rmtree(path)
        tmp.rename(path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def atomic_write(path: str | os.PathLike, write: Callable[[Path], object]) -> Path:
    """Call ``write(tmp_path)`` and move the result onto ``path`` atomically; -> ``path``."""
    with atomic_path(path) as tmp:
        write(tmp)
    return Path(path)


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    return atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically."""
    return atomic_write(path, lambda tmp: tmp.write_bytes(data))
