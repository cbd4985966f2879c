"""Where the commands' output goes: paths checked before any model is loaded, ``-`` for stdout,
raw PCM on pipes, and readers that go away early (``| head``) ending the program quietly.

Python ignores SIGPIPE, so a write to a closed pipe raises ``BrokenPipeError``; the commands
catch it, point stdout at ``/dev/null`` (so that the final flush at exit cannot fail again) and
exit with status 0, as ``head`` and ``grep -q`` expect of a producer.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path

from palette.codec.files import UserError
from palette.tts.audio_output import STDOUT, check_output_path

log = logging.getLogger("palette")

VOICE_SUFFIX = ".safetensors"  # how --prompt recognises a saved voice


def check_audio_output(path: str, option: str = "-o") -> None:
    """Raise ``UserError`` unless ``path`` (or ``-``) can take an audio file; for stdout,
    refuse a terminal."""
    check_output_path(path, what=option)
    if path == STDOUT:
        refuse_terminal(
            f"{option} -: refusing to write audio to a terminal; redirect it, e.g. > out.wav"
        )


def check_voice_output(path: str, option: str = "--save-voice") -> None:
    """Raise ``UserError`` unless ``path`` is a writable ``.safetensors`` file name."""
    if not path.endswith(VOICE_SUFFIX):
        raise UserError(
            f"{option} {path}: use a {VOICE_SUFFIX} name (that is how --prompt "
            "recognises a saved voice)"
        )
    target = Path(path)
    if target.is_dir():
        raise UserError(f"{option} {path} is a directory")
    parent = target.resolve().parent
    if not parent.is_dir():
        raise UserError(f"{option} {path}: folder {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UserError(f"{option} {path}: cannot write in folder {parent}")


def refuse_terminal(message: str) -> None:
    """Raise ``UserError(message)`` when stdout is a terminal (binary output would garble it)."""
    isatty = getattr(sys.stdout, "isatty", None)
    if isatty is not None and isatty():
        raise UserError(message)


def stdout_binary():
    """The binary stream under stdout."""
    out = getattr(sys.stdout, "buffer", None)
    if out is None:
        raise UserError("standard output does not accept binary data")
    return out


def quiet_on_broken_pipe(run: Callable[[], int]) -> int:
    """``run()``; when the reader of stdout has gone away, stop and return 0 without a traceback."""
    try:
        return run()
    except BrokenPipeError:
        _silence_stdout()
        log.debug("the reader of standard output closed the pipe; stopping")
        return 0


def _silence_stdout() -> None:
    """Point file descriptor 1 at /dev/null so that Python's last flush cannot fail again."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # replaced stdout (tests): nothing to redirect
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)
