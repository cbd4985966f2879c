"""Voice files as a careless user or an attacker gives them, through the API and the CLI:
every damaged, mis-shaped or hostile file is a one-line error naming the file and the field
(exit status 2, before any model loads); a good voice round-trips."""

import json
import os
import re

import pytest
import torch
from safetensors.torch import save_file

from palette.tts.voice import Voice, VoiceFileError

from .conftest import assert_one_line_error, run_cli, synth_args


def good_voice(**changes):
    fields = {
        "codec": "codec",
        "text": "hello there",
        "phonemes": "həlˈoʊ ðɛɹ",
        "codes": torch.randint(0, 100, (2, 40)),
        "latents": torch.randn(4, 40),
    }
    return Voice(**(fields | changes))


def write_voice_file(path, tensors, meta):
    metadata = (
        None
        if meta is None
        else {"palette_voice": meta if isinstance(meta, str) else json.dumps(meta)}
    )
    save_file(tensors, str(path), metadata=metadata)
    return path


META = {"codec": "codec", "text": "hi", "phonemes": "haɪ"}
CODES = torch.zeros(2, 40, dtype=torch.int64)
BAD_VOICES = {
    "empty_file": (None, None, "not a palette voice file (corrupt or truncated"),
    "random_bytes": (None, None, "not a palette voice file (corrupt or truncated"),
    "truncated": (None, None, "not a palette voice file (corrupt or truncated"),
    "no_metadata": ({"codes": CODES}, None, "no 'palette_voice' metadata"),
    "metadata_not_json": ({"codes": CODES}, "{nope", "not valid JSON"),
    "metadata_a_list": ({"codes": CODES}, [1, 2], "must be a JSON object, not list"),
    "missing_field": ({"codes": CODES}, {"codec": "c", "text": "t"}, "missing phonemes"),
    "unknown_field": ({"codes": CODES}, META | {"eval": "x"}, "unknown eval"),
    "field_not_str": ({"codes": CODES}, META | {"text": 3}, "field 'text' must be a string"),
    "no_tensors": ({}, META, "has neither"),
    "unknown_tensor": (
        {"codes": CODES, "weights": torch.zeros(3)},
        META,
        "unknown tensor 'weights'",
    ),
    "float_codes": ({"codes": CODES.float()}, META, "'codes' must hold integers"),
    "int_latents": ({"latents": CODES}, META, "'latents' must hold floats"),
    "codes_3d": ({"codes": CODES[None]}, META, "must be 2-D"),
    "codes_0_frames": ({"codes": CODES[:, :0]}, META, "0 frames"),
    "negative_codes": ({"codes": CODES - 1}, META, "values from -1"),
    "nan_latents": ({"latents": torch.full((4, 40), float("nan"))}, META, "NaN or infinite"),
    "inf_latents": ({"latents": torch.full((4, 40), float("inf"))}, META, "NaN or infinite"),
    "huge_latents": ({"latents": torch.full((4, 40), 1e6)}, META, "magnitude"),
    "200k_frames": ({"codes": torch.zeros(1, 200_000, dtype=torch.int64)}, META, "200000 frames"),
    "frame_mismatch": ({"codes": CODES, "latents": torch.zeros(4, 39)}, META, "40 frames but"),
    "too_many_codebooks": ({"codes": torch.zeros(500, 4, dtype=torch.int64)}, META, "500 rows"),
}


def make_bad_voice(path, name):
    tensors, meta, _ = BAD_VOICES[name]
    if name == "empty_file":
        path.write_bytes(b"")
    elif name == "random_bytes":
        path.write_bytes(os.urandom(300))
    elif name == "truncated":
        good_voice().save(path)
        path.write_bytes(path.read_bytes()[:-100])
    else:
        write_voice_file(path, tensors, meta)
    return path


@pytest.mark.parametrize("name", sorted(BAD_VOICES))
def test_bad_voice_files_are_one_line_errors_naming_file_and_field(tmp_path, name):
    path = make_bad_voice(tmp_path / "v.safetensors", name)
    with pytest.raises(VoiceFileError, match=re.escape(BAD_VOICES[name][2])) as err:
        Voice.load(path)
    assert str(path) in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize("name", ["truncated", "nan_latents", "200k_frames", "metadata_a_list"])
def test_cli_bad_voice_files_exit_2_before_loading(capsys, tmp_path, no_model, name):
    path = make_bad_voice(tmp_path / "v.safetensors", name)
    code, lines = run_cli(capsys, *synth_args("no-model", path, tmp_path / "o.wav"))
    assert_one_line_error(code, lines, str(path), BAD_VOICES[name][2])


def test_missing_voice_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="voice file not found"):
        Voice.load(tmp_path / "nope.safetensors")


def test_voice_of_another_shape_than_the_codec(capsys, tiny_bundle, tmp_path):
    path = tmp_path / "v.safetensors"
    good_voice(codes=torch.zeros(5, 40, dtype=torch.int64)).save(path)
    code, lines = run_cli(
        capsys,
        "synthesize",
        "One.",
        "--prompt",
        path,
        "--model",
        tiny_bundle,
        "--duration",
        "0.4",
        "-o",
        tmp_path / "o.wav",
    )
    assert_one_line_error(code, lines, "5 codebooks")


def test_a_good_voice_round_trips(tmp_path):
    voice = good_voice()
    back = Voice.load(voice.save(tmp_path / "v.safetensors"))
    assert torch.equal(back.codes, voice.codes) and torch.equal(back.latents, voice.latents)
    assert (back.codec, back.text, back.phonemes) == (voice.codec, voice.text, voice.phonemes)
