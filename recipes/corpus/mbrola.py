"""English speech from MBROLA diphone voices, driven by espeak-ng (``mb-<voice>`` voices).

Both come from Debian (``recipes.corpus.debian``): ``mbrola`` (the synthesiser, AGPL-3),
``mbrola-<voice>`` (the diphone databases, ``contrib``/``non-free``: free for non-commercial,
non-military use only) and ``espeak-ng`` + ``espeak-ng-data`` (its ``mb-*`` voice files and
phoneme translation tables; the ``espeakng-loader`` wheel ships neither). espeak-ng runs the
``mbrola`` binary it finds on ``PATH`` and looks for the database at
``<espeak-ng-data>/mbrola/<voice>``, which is linked to the cache's ``usr/share/mbrola``.

Foreign voices read English with espeak-ng's ``mb-<voice>-en`` tables (a German or Dutch
speaker's diphones for English phonemes: accented but intelligible).

    espeak-ng --path=<root>/usr/lib/x86_64-linux-gnu -v mb-us1 -s 160 --stdout "text" > x.wav
"""

from __future__ import annotations

import functools
import io
import os
import subprocess

import numpy as np
import soundfile as sf

from palette.recipes.corpus import debian
from palette.recipes.corpus.debian import SourceUnavailable

LICENCE = "MBROLA voice licence: non-commercial, non-military use only (research recipes only)"
# espeak-ng voice -> (gender, what it is); every voice here reads English
VOICES = {
    "us1": ("F", "American English"),
    "us2": ("M", "American English"),
    "us3": ("M", "American English"),
    "en1": ("M", "British English"),
    "af1-en": ("M", "Afrikaans speaker"),
    "de1-en": ("F", "German speaker"),
    "de2-en": ("M", "German speaker"),
    "de3-en": ("F", "German speaker"),
    "de4-en": ("M", "German speaker"),
    "de5-en": ("F", "German speaker"),
    "de6-en": ("M", "German speaker"),
    "fr1-en": ("M", "French speaker"),
    "fr4-en": ("F", "French speaker"),
    "gr2-en": ("M", "Greek speaker"),
    "hu1-en": ("F", "Hungarian speaker"),
    "nl2-en": ("M", "Dutch speaker"),
    "pl1-en": ("F", "Polish speaker"),
    "ro1-en": ("M", "Romanian speaker"),
    "sw1-en": ("M", "Swedish speaker"),
    "sw2-en": ("F", "Swedish speaker"),
}


def database(voice: str) -> str:
    """``'de4-en' -> 'de4'``: the MBROLA database a voice uses."""
    return voice.removesuffix("-en")


def packages() -> list[str]:
    dbs = sorted({database(v) for v in VOICES})
    return ["mbrola", "espeak-ng", "espeak-ng-data", *[f"mbrola-{d}" for d in dbs]]


@functools.cache
def setup():
    """Fetch and link everything; returns the cache root (raises SourceUnavailable)."""
    root = debian.fetch(packages())
    data = root / "usr/lib/x86_64-linux-gnu/espeak-ng-data"
    if not (data / "voices/mb").is_dir() or not (root / "usr/bin/mbrola").is_file():
        raise SourceUnavailable(f"espeak-ng data or mbrola missing under {root}")
    (data / "mbrola").mkdir(exist_ok=True)
    for db in {database(v) for v in VOICES}:
        target = root / f"usr/share/mbrola/{db}/{db}"
        link = data / "mbrola" / db
        if link.is_symlink() and not link.exists():  # the cache was moved
            link.unlink()
        if target.is_file() and not link.exists():
            link.symlink_to(os.path.relpath(target, link.parent))
    return root


def available() -> None:
    setup()


def synthesize(voice: str, text: str, rate: float = 1.0) -> tuple[np.ndarray, int]:
    """``text`` with ``mb-<voice>`` at ``rate`` x 165 words a minute -> (``[S]``, 16000)."""
    root = setup()
    if not (root / f"usr/share/mbrola/{database(voice)}/{database(voice)}").is_file():
        raise SourceUnavailable(f"MBROLA database {database(voice)} is not in the cache")
    cmd = [
        "espeak-ng",
        f"--path={root / 'usr/lib/x86_64-linux-gnu'}",
        "-v",
        f"mb-{voice}",
        "-s",
        str(round(165 * rate)),
        "--stdout",
        text,
    ]
    done = subprocess.run(cmd, env=debian.tool_env(root), capture_output=True, timeout=120)
    if done.returncode != 0 or len(done.stdout) < 100:
        raise RuntimeError(f"espeak-ng mb-{voice} failed: {done.stderr.decode(errors='replace')}")
    wav, sr = sf.read(io.BytesIO(done.stdout), dtype="float32")
    return wav, sr
