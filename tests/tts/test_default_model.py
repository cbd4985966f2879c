"""The shipped default model: the README's main command, and speech a recogniser understands."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
import soundfile as sf

from palette.tts.registry import DEFAULT_MODEL, available_models

DEMO = Path(__file__).resolve().parents[2] / "demos"
SENTENCE = "The little boat sailed across the lake in the morning."


def words(text: str) -> list[str]:
    return re.sub(r"[^a-z' ]", " ", text.lower()).split()


def test_the_default_model_is_shipped():
    assert DEFAULT_MODEL in available_models()


@pytest.fixture(
    scope="module",
    params=[
        [],
        ["--family", "kalle"],
        ["--family", "kalle", "--speculative", "relaxed"],
        ["--family", "ar"],
        ["--family", "ar", "--speculative", "relaxed"],
    ],
    ids=["par", "kalle", "kalle-relaxed", "ar", "ar-relaxed"],
)
def spoken(tmp_path_factory, request):
    """The README's main command with another sentence: the default model, the demo voice;
    with its default family (par), with its autoregressive kalle and ar stages, and with their
    self-speculative decoding at the thresholds the model recommends."""
    out = tmp_path_factory.mktemp("default") / "out.wav"
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "palette.tts",
            "synthesize",
            SENTENCE,
            "--prompt",
            str(DEMO / "prompt.wav"),
            "--prompt-text",
            (DEMO / "prompt.txt").read_text(),
            "-o",
            str(out),
            *request.param,
        ],
        capture_output=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr.decode()
    return sf.read(out, dtype="float32")


def test_main_command_writes_speech_of_a_plausible_length(spoken):
    wav, sr = spoken
    assert sr == 24000 and 1.5 < len(wav) / sr < 8.0
    assert 0.01 < float((wav**2).mean()) ** 0.5 < 0.5  # neither silent nor clipping


def test_a_recogniser_understands_most_words(spoken):
    pytest.importorskip("faster_whisper")
    from palette.tts.transcribe import transcribe

    heard = set(words(transcribe(*spoken)))
    said = words(SENTENCE)
    assert sum(w in heard for w in said) >= 0.5 * len(said)
