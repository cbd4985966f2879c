"""Bad input, as a careless user or an attacker gives it, through the CLI and the API: every case
ends in one line naming the problem (exit status 2) or a correct result — never a traceback,
a hang, or a file of noise. Output paths, prompts and voice files are checked before any model
is loaded."""

import errno
import io
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from palette.codec.files import UserError
from palette.tts.audio import AudioError, check_voiced, prepare_prompt
from palette.tts.audio_output import save_audio
from palette.tts.cli import main
from palette.tts.voice import Voice

from .conftest import SR, assert_one_line_error, run_cli, speech_like, synth_args

DEMO = Path(__file__).parents[2] / "demos" / "prompt.wav"


def t(seconds=3.0):
    return np.arange(int(seconds * SR)) / SR


# --- output paths --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "case,needle",
    [
        ("directory", "is a directory"),
        ("missing_parent", "does not exist"),
        ("bad_extension", "'.xyz' is not a supported format; use one of"),
        ("no_extension", "no extension is not a supported format"),
        ("unwritable", "cannot write in folder"),
    ],
)
def test_bad_output_paths_fail_before_any_model_loads(
    capsys, monkeypatch, tmp_path, prompt, no_model, case, needle
):
    out = {
        "directory": tmp_path,
        "missing_parent": tmp_path / "no" / "such" / "o.wav",
        "bad_extension": tmp_path / "o.xyz",
        "no_extension": tmp_path / "o",
        "unwritable": tmp_path / "o.wav",
    }[case]
    if case == "unwritable":  # tests run as root, for whom every folder is writable
        monkeypatch.setattr("palette.tts.audio_output.os.access", lambda *a: False)
    code, lines = run_cli(capsys, *synth_args("no-model", prompt, out))
    message = assert_one_line_error(code, lines, needle)
    if case == "bad_extension":
        assert ".wav" in message and ".flac" in message and ".ogg" in message


def test_codec_resynth_checks_its_output_first(capsys, tmp_path, prompt, no_model):
    code, lines = run_cli(capsys, "codec", "resynth", prompt, "-o", tmp_path)
    assert_one_line_error(code, lines, "is a directory")
    code, lines = run_cli(capsys, "codec", "resynth", prompt, "-o", tmp_path / "x.aiff")
    assert_one_line_error(code, lines, "not a supported format")


@pytest.mark.parametrize(
    "ext,fmt", [("wav", "WAV"), ("flac", "FLAC"), ("ogg", "OGG"), ("mp3", "MP3")]
)
def test_the_format_follows_the_extension(tmp_path, ext, fmt):
    if fmt not in sf.available_formats():
        pytest.skip(f"this libsndfile cannot write {fmt}")
    out = save_audio(tmp_path / f"o.{ext}", 0.1 * np.sin(2 * np.pi * 220 * t(0.5)), SR)
    info = sf.info(out)
    assert info.format == fmt and info.samplerate == SR
    assert os.listdir(tmp_path) == [f"o.{ext}"]  # no temporary left


def test_synthesize_to_stdout_symlink_and_device(capsysbinary, tiny_bundle, prompt, tmp_path):
    assert main([str(a) for a in synth_args(tiny_bundle, prompt, "-")]) == 0
    data = capsysbinary.readouterr().out
    assert data[:4] == b"RIFF" and len(data) == 44 + 2 * 20 * 480
    target, link = tmp_path / "target.wav", tmp_path / "link.wav"
    target.write_bytes(b"old")
    link.symlink_to(target)
    assert main([str(a) for a in synth_args(tiny_bundle, prompt, link)]) == 0
    assert link.is_symlink() and sf.info(target).frames == 20 * 480
    assert main([str(a) for a in synth_args(tiny_bundle, prompt, "/dev/null")]) == 0
    assert Path("/dev/null").is_char_device()


def test_a_full_disk_is_one_line(capsys, tiny_bundle, prompt):
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full")
    code, lines = run_cli(capsys, *synth_args(tiny_bundle, prompt, "/dev/full"))
    assert_one_line_error(code, lines, "cannot write /dev/full", "No space left on device")


@pytest.mark.parametrize(
    "error",
    [
        PermissionError(errno.EACCES, "Permission denied"),
        OSError(errno.EROFS, "Read-only file system"),
    ],
)
def test_os_errors_while_writing_are_one_line(monkeypatch, tmp_path, error):
    def fail(*args):
        raise error

    monkeypatch.setattr("palette.codec.files.os.replace", fail)
    with pytest.raises(UserError, match=error.strerror):
        save_audio(tmp_path / "o.wav", np.zeros(100), SR)
    with pytest.raises(UserError, match=error.strerror):
        Voice("c", "t", "p", codes=torch.zeros(1, 3, dtype=torch.int64)).save(
            tmp_path / "v.safetensors"
        )
    assert os.listdir(tmp_path) == []


def test_save_voice_needs_a_safetensors_name(capsys, tmp_path, prompt, no_model):
    args = synth_args("no-model", prompt, tmp_path / "o.wav", "--save-voice", tmp_path / "v.bin")
    code, lines = run_cli(capsys, *args)
    assert_one_line_error(code, lines, "--save-voice", ".safetensors")


def test_two_writers_of_one_voice_file_do_not_collide(tmp_path):
    path = tmp_path / "v.safetensors"
    voices = [Voice("c", f"text {i}", "p", codes=torch.full((2, 50), i)) for i in range(8)]
    threads = [threading.Thread(target=v.save, args=(path,)) for v in voices]
    [th.start() for th in threads]
    [th.join() for th in threads]
    loaded = Voice.load(path)
    assert loaded.text in {v.text for v in voices}
    assert torch.equal(loaded.codes, torch.full((2, 50), int(loaded.text.split()[1])))
    assert os.listdir(tmp_path) == ["v.safetensors"]


def test_stream_to_a_reader_that_stops_early_ends_quietly(tiny_bundle, prompt):
    code = (
        f"import sys; sys.argv = ['palette', 'stream', 'One two three four five.', '--prompt', "
        f"{str(prompt)!r}, '--prompt-text', 'hello there', '--model', {str(tiny_bundle)!r}, "
        "'--duration', '2', '--output-raw', '--chunk-frames', '2']\n"
        "from palette.tts.cli import main; sys.exit(main())"
    )
    pipeline = (
        f'{sys.executable} -c "$CODE" | head -c 100 > /dev/null; echo "status ${{PIPESTATUS[0]}}"'
    )
    r = subprocess.run(
        ["bash", "-c", pipeline],
        env=dict(os.environ, CODE=code),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "status 0" in r.stdout, r.stderr
    assert "Traceback" not in r.stderr and "BrokenPipe" not in r.stderr, r.stderr


def test_broken_pipe_in_process_returns_0(monkeypatch, tiny_bundle, prompt):
    class Closed:
        def write(self, data):
            raise BrokenPipeError(errno.EPIPE, "Broken pipe")

        flush = write

    class Stdout:
        buffer = Closed()

        def isatty(self):
            return False

    monkeypatch.setattr(sys, "stdout", Stdout())
    args = [
        "stream",
        "One.",
        "--prompt",
        prompt,
        "--prompt-text",
        "hello there",
        "--model",
        tiny_bundle,
        "--duration",
        "0.4",
        "--output-raw",
    ]
    assert main([str(a) for a in args]) == 0


def test_stream_refuses_a_terminal_before_loading(capsys, monkeypatch, prompt, no_model):
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    code, lines = run_cli(
        capsys, "stream", "One.", "--prompt", prompt, "--prompt-text", "hi", "--output-raw"
    )
    assert_one_line_error(code, lines, "terminal")


# --- prompts ---------------------------------------------------------------------------------------
NOT_SPEECH = {
    "dc": (np.full(3 * SR, 0.3), "constant (DC)"),
    "sine_220": (0.3 * np.sin(2 * np.pi * 220 * t()), "pure tone"),
    "sine_1k_am": (
        0.3 * np.sin(2 * np.pi * 1000 * t()) * (0.6 + 0.4 * np.sin(2 * np.pi * 4 * t())),
        "pure tone",
    ),
    "sweep": (0.3 * np.sin(2 * np.pi * (100 * t() + 30 * t() ** 2)), "pure tone"),
    "white_noise": (0.1 * np.random.default_rng(0).standard_normal(3 * SR), "no voiced speech"),
    "brown_noise": (
        np.cumsum(np.random.default_rng(1).standard_normal(3 * SR)) * 1e-3,
        "no voiced speech",
    ),
    "buzz_120hz": (
        sum(0.1 * np.sin(2 * np.pi * k * 120 * t()) / k for k in range(1, 8)),
        "steady sound",
    ),
    "square_150hz": (0.3 * np.sign(np.sin(2 * np.pi * 150 * t())), "steady sound"),
}


@pytest.mark.parametrize("name", sorted(NOT_SPEECH))
def test_prompts_that_are_not_speech_are_refused(name):
    wav, needle = NOT_SPEECH[name]
    with pytest.raises(AudioError, match=re.escape(needle)):
        prepare_prompt(np.asarray(wav, dtype=np.float32), SR)


@pytest.mark.parametrize("name", ["sine_220", "white_noise", "dc"])
def test_cli_refuses_non_speech_prompts_before_loading(capsys, tmp_path, no_model, name):
    path = tmp_path / f"{name}.wav"
    sf.write(path, NOT_SPEECH[name][0].astype(np.float32), SR)
    code, lines = run_cli(capsys, *synth_args("no-model", path, tmp_path / "o.wav"))
    assert_one_line_error(code, lines, NOT_SPEECH[name][1])
    assert not (tmp_path / "o.wav").exists()


@pytest.mark.parametrize("rate", [1, 100, 4000, 1_000_000])
def test_absurd_sample_rates_are_refused(capsys, tmp_path, no_model, rate):
    path = tmp_path / "odd.wav"
    sf.write(path, speech_like(2.0)[: max(10, 2 * rate)], rate)
    code, lines = run_cli(capsys, *synth_args("no-model", path, tmp_path / "o.wav"))
    assert_one_line_error(code, lines, f"sample rate of {rate} Hz")
    with pytest.raises(AudioError, match="sample rate"):
        prepare_prompt(speech_like(2.0), rate)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_speech_passes(seed):
    check_voiced(speech_like(3.0, seed=seed), SR)
    wav, sr = sf.read(DEMO, dtype="float32")
    check_voiced(wav, sr)
    prepare_prompt(wav, sr)


# --- text files ----------------------------------------------------------------------------------
def test_text_file_not_utf8_or_a_directory(capsys, tmp_path, prompt, no_model):
    bad = tmp_path / "latin1.txt"
    bad.write_bytes("café".encode("latin-1"))
    base = synth_args("no-model", prompt, tmp_path / "o.wav")
    base.remove("One two.")
    code, lines = run_cli(capsys, *base, "--text-file", bad)
    assert_one_line_error(code, lines, "not UTF-8", "byte 0xe9")
    code, lines = run_cli(capsys, *base, "--text-file", tmp_path)
    assert_one_line_error(code, lines, "is a directory")


def test_prompt_files_are_read_within_bounds(tmp_path):
    from palette.tts.audio import load_audio

    long = tmp_path / "long.wav"
    sf.write(long, speech_like(5.0), SR)
    wav, sr = load_audio(long, max_seconds=1.5)
    assert sr == SR and len(wav) == int(1.5 * SR)
    many = tmp_path / "many.wav"
    sf.write(many, np.zeros((100, 200), np.float32), SR)
    with pytest.raises(AudioError, match="200 channels"):
        load_audio(many)


@pytest.mark.parametrize("ext", ["wav", "flac", "ogg"])
def test_audio_written_piece_by_piece_equals_one_piece(tmp_path, ext):
    from palette.tts.audio_output import open_audio_output

    wav = 0.2 * speech_like(1.0)
    with open_audio_output(tmp_path / f"p.{ext}", SR) as write:
        for piece in np.array_split(wav, 7):
            write(piece)
    save_audio(tmp_path / f"o.{ext}", wav, SR)
    a, b = sf.read(tmp_path / f"p.{ext}")[0], sf.read(tmp_path / f"o.{ext}")[0]
    assert len(a) == len(b) == len(wav) and np.allclose(a, b, atol=2e-2 if ext == "ogg" else 1e-4)
    assert sorted(os.listdir(tmp_path)) == [f"o.{ext}", f"p.{ext}"]


def test_piecewise_output_leaves_nothing_on_error_and_maps_disk_full(tmp_path, capsysbinary):
    from palette.tts.audio_output import open_audio_output

    with pytest.raises(KeyboardInterrupt), open_audio_output(tmp_path / "o.wav", SR) as write:
        write(np.zeros(100))
        raise KeyboardInterrupt
    assert os.listdir(tmp_path) == []
    if Path("/dev/full").exists():
        with pytest.raises(UserError, match="cannot write /dev/full"):
            with open_audio_output("/dev/full", SR) as write:
                for _ in range(100):
                    write(np.zeros(SR))
    with open_audio_output("-", SR) as write:
        write(np.zeros(10))
    out = capsysbinary.readouterr().out
    assert out[:4] == b"RIFF" and len(out) == 44 + 20
    data, sr = sf.read(io.BytesIO(out))
    assert sr == SR
