"""``palette synthesize`` / ``stream`` / ``models`` as a user runs them."""

import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from .conftest import SR, speech_like


def palette(*args, stdin=None):
    return subprocess.run(
        [sys.executable, "-m", "palette.tts", *args], input=stdin, capture_output=True, timeout=180
    )


@pytest.fixture(scope="module")
def prompt(tmp_path_factory):
    path = tmp_path_factory.mktemp("prompt") / "prompt.wav"
    sf.write(path, speech_like(2.0), SR)
    return path


def test_synthesize_writes_a_wav_and_saves_a_reusable_voice(tiny_bundle, prompt, tmp_path):
    out, voice = tmp_path / "out.wav", tmp_path / "voice.safetensors"
    r = palette(
        "synthesize",
        "One two.",
        "--prompt",
        str(prompt),
        "--prompt-text",
        "hello there",
        "--model",
        str(tiny_bundle),
        "--duration",
        "0.4",
        "-o",
        str(out),
        "--save-voice",
        str(voice),
    )
    assert r.returncode == 0, r.stderr.decode()
    data, sr = sf.read(out)
    assert sr == SR and len(data) == 20 * 480
    again = tmp_path / "again.wav"
    r = palette(
        "synthesize",
        "--prompt",
        str(voice),
        "--model",
        str(tiny_bundle),
        "--duration",
        "0.4",
        "-o",
        str(again),
        stdin=b"One two.",
    )
    assert r.returncode == 0, r.stderr.decode()
    assert np.allclose(sf.read(again)[0], data, atol=1e-4)


def test_stream_writes_raw_pcm_to_stdout(tiny_bundle, prompt):
    r = palette(
        "stream",
        "One two.",
        "--prompt",
        str(prompt),
        "--prompt-text",
        "hello there",
        "--model",
        str(tiny_bundle),
        "--duration",
        "0.4",
        "--output-raw",
    )
    assert r.returncode == 0, r.stderr.decode()
    assert len(r.stdout) == 2 * 20 * 480  # int16 samples
    assert b"first chunk" in r.stderr


def test_models_lists_codecs():
    r = palette("models")
    assert r.returncode == 0 and b"palette-codec" in r.stdout


@pytest.mark.parametrize(
    "case,message",
    [
        ("missing_prompt", b"not found"),
        ("silent_prompt", b"silent"),
        ("empty_text", b"empty"),
        ("missing_model", b"no palette-tts model"),
        ("missing_text_file", b"text file not found"),
    ],
)
def test_bad_input_exits_2_with_a_message(tiny_bundle, prompt, tmp_path, case, message):
    silent = tmp_path / "silent.wav"
    sf.write(silent, np.zeros(SR * 2, np.float32), SR)
    args = {
        "text": ["One."],
        "--prompt": str(prompt),
        "--prompt-text": "hello there",
        "--model": str(tiny_bundle),
        "-o": str(tmp_path / "o.wav"),
    }
    if case == "missing_prompt":
        args["--prompt"] = str(tmp_path / "nope.wav")
    elif case == "silent_prompt":
        args["--prompt"] = str(silent)
    elif case == "empty_text":
        args["text"] = ["  "]
    elif case == "missing_model":
        args["--model"] = str(tmp_path)
    else:
        args["text"] = ["--text-file", str(tmp_path / "missing.txt")]
    flat = args.pop("text") + [x for kv in args.items() for x in kv]
    r = palette("synthesize", *flat)
    assert r.returncode == 2 and message in r.stderr and b"Traceback" not in r.stderr
    assert not (tmp_path / "o.wav").exists()
