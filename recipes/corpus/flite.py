"""English speech from flite (Debian ``flite`` + ``libflite1``), reserved for held-out
evaluation: flite's voices (``kal``, ``awb``, ``rms``, ``slt``; CMU ARCTIC and CMU Kal
speakers, BSD-style licence) are never trained on, in any form.

    flite -voice rms -t "text" -o out.wav       (16 kHz; ``kal`` is 8 kHz)
"""

from __future__ import annotations

import functools
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

from palette.recipes.corpus import debian
from palette.recipes.corpus.debian import SourceUnavailable

LICENCE = "BSD-style (CMU flite and its voices); reserved for evaluation"
VOICES = {"kal": "M", "awb": "M", "rms": "M", "slt": "F"}
PACKAGES = ["flite", "libflite1"]


@functools.cache
def setup() -> Path:
    root = debian.fetch(PACKAGES)
    if not (root / "usr/bin/flite").is_file():
        raise SourceUnavailable(f"flite missing under {root}")
    return root


def available() -> None:
    setup()


def synthesize(voice: str, text: str, rate: float = 1.0) -> tuple[np.ndarray, int]:
    """``text`` in flite's ``voice`` at ``rate`` x normal speed -> (``[S]`` float32, rate)."""
    root = setup()
    with tempfile.TemporaryDirectory(prefix="palette-flite-") as folder:
        out = Path(folder) / "out.wav"
        cmd = [
            str(root / "usr/bin/flite"),
            "-voice",
            voice,
            "--setf",
            f"duration_stretch={1.0 / rate:.3f}",
            "-t",
            text,
            "-o",
            str(out),
        ]
        done = subprocess.run(cmd, env=debian.tool_env(root), capture_output=True, timeout=120)
        if done.returncode != 0 or not out.is_file():
            raise RuntimeError(f"flite {voice} failed: {done.stderr.decode(errors='replace')}")
        wav, sr = sf.read(str(out), dtype="float32")
    return wav, sr
