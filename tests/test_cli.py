"""The ``palette`` command line, run as a user runs it (a subprocess)."""

import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf


def palette(*args, stdin=None):
    return subprocess.run(
        [sys.executable, "-m", "palette.tts", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_help_lists_subcommands():
    out = palette("--help")
    assert out.returncode == 0
    for name in ("text", "codec", "eval"):
        assert name in out.stdout


@pytest.mark.parametrize("command", [["text"], ["codec"], ["codec", "resynth"]])
def test_each_subcommand_has_help(command):
    out = palette(*command, "--help")
    assert out.returncode == 0 and "usage: palette" in out.stdout


def test_text_prints_normalised_text_phonemes_and_ids():
    out = palette("text", "Dr. Smith paid $3.50 on March 5th, 2024.")
    assert out.returncode == 0, out.stderr
    assert (
        "doctor smith paid three dollars and fifty cents on march fifth, twenty twenty-four."
        in out.stdout
    )
    assert "smˈɪθ" in out.stdout and "ids:" in out.stdout


def test_text_reads_stdin_and_prints_json():
    out = palette("text", "--json", stdin="One. Two.")
    assert out.returncode == 0 and len(out.stdout.strip().splitlines()) == 2


@pytest.mark.parametrize(
    "args,message",
    [
        (["text", "  "], "empty"),
        (["text", "--language", "xx-yy", "hi"], "no language"),
        (["codec", "resynth", "missing.wav", "-o", "out.wav"], "not found"),
        (["nonsense"], "invalid choice"),
    ],
)
def test_bad_input_gives_message_and_nonzero_exit(args, message):
    out = palette(*args)
    assert out.returncode != 0
    assert message in out.stderr and "Traceback" not in out.stderr


def test_codec_resynth_unknown_codec_and_corrupt_input(tmp_path):
    wav = tmp_path / "in.wav"
    sf.write(wav, (0.1 * np.sin(np.arange(24000) / 10)).astype(np.float32), 24000)
    out = palette("codec", "resynth", str(wav), "-o", str(tmp_path / "o.wav"), "--codec", "nope")
    assert out.returncode == 2 and "unknown codec 'nope'" in out.stderr
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"garbage")
    out = palette("codec", "resynth", str(bad), "-o", str(tmp_path / "o.wav"))
    assert out.returncode == 2 and "cannot read audio file" in out.stderr
    assert not (tmp_path / "o.wav").exists()


def test_codec_resynth_round_trip_with_local_encodec(tmp_path):
    import torch
    from transformers import EncodecConfig, EncodecModel

    torch.manual_seed(0)
    EncodecModel(
        EncodecConfig(
            num_filters=4, hidden_size=16, codebook_size=64, codebook_dim=16, num_lstm_layers=1
        )
    ).save_pretrained(tmp_path / "enc")
    wav = tmp_path / "in.wav"
    sf.write(wav, (0.1 * np.sin(np.arange(48000) / 10)).astype(np.float32), 16000)
    out = palette(
        "codec",
        "resynth",
        str(wav),
        "-o",
        str(tmp_path / "o.wav"),
        "--codec",
        str(tmp_path / "enc"),
        "--bandwidth",
        "3",
    )
    assert out.returncode == 0, out.stderr
    data, sr = sf.read(tmp_path / "o.wav")
    assert sr == 24000 and len(data) == 72000
