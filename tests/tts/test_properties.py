"""Property-based tests (hypothesis): whatever bytes or tensors a voice file holds, and whatever
unicode a user types, the answer is a result or a one-line ``UserError`` — never a traceback."""

import json
import tempfile
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from safetensors.torch import save_file

from palette.codec.files import UserError
from palette.tts.voice import Voice

SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

DTYPES = [
    torch.int64,
    torch.int32,
    torch.int16,
    torch.uint8,
    torch.bool,
    torch.float32,
    torch.float16,
    torch.bfloat16,
    torch.float64,
]


def load_bytes(data: bytes):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "v.safetensors"
        path.write_bytes(data)
        return Voice.load(path)


def assert_user_error(err: Exception):
    assert isinstance(err, UserError), f"{type(err).__name__}: {err}"
    assert str(err) and "\n" not in str(err)


@SETTINGS
@given(st.binary(max_size=2000))
def test_random_bytes_never_traceback(data):
    try:
        load_bytes(data)
    except Exception as err:  # noqa: BLE001 - the property under test
        assert_user_error(err)


@st.composite
def safetensors_files(draw):
    """A structurally valid safetensors file with random tensors and metadata."""
    keys = draw(
        st.lists(
            st.sampled_from(["codes", "latents", "weights", "codes2"]), max_size=3, unique=True
        )
    )
    tensors = {}
    for key in keys:
        shape = draw(st.lists(st.integers(0, 70), min_size=0, max_size=3))
        dtype = draw(st.sampled_from(DTYPES))
        values = draw(st.sampled_from(["zeros", "small", "big", "nan", "inf", "negative"]))
        x = torch.zeros(shape, dtype=torch.float64)
        x = {
            "zeros": x,
            "small": x + 3,
            "big": x + 1e9,
            "nan": x + float("nan"),
            "inf": x + float("inf"),
            "negative": x - 5,
        }[values]
        tensors[key] = (
            x.to(dtype)
            if dtype.is_floating_point
            else torch.nan_to_num(x).clamp(-1e6, 1e6).to(dtype)
        )
    meta_value = draw(
        st.one_of(
            st.none(),
            st.text(max_size=30),
            st.just(json.dumps({"codec": "c", "text": "t", "phonemes": "p"})),
            st.dictionaries(
                st.sampled_from(["codec", "text", "phonemes", "x"]),
                st.one_of(st.text(max_size=10), st.integers(), st.none(), st.lists(st.integers())),
                max_size=4,
            ).map(json.dumps),
            st.lists(st.integers(), max_size=3).map(json.dumps),
        )
    )
    metadata = None if meta_value is None else {"palette_voice": meta_value}
    return tensors, metadata


@SETTINGS
@given(safetensors_files())
def test_random_tensors_and_metadata_never_traceback(case):
    tensors, metadata = case
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "v.safetensors"
        save_file({k: v.contiguous() for k, v in tensors.items()}, str(path), metadata=metadata)
        try:
            voice = Voice.load(path)
        except Exception as err:  # noqa: BLE001 - the property under test
            assert_user_error(err)
            return
    frames = voice.codes if voice.codes is not None else voice.latents
    assert frames.ndim == 2 and 1 <= frames.shape[1]
    if voice.latents is not None:
        assert voice.latents.dtype == torch.float32 and torch.isfinite(voice.latents).all()
    if voice.codes is not None:
        assert voice.codes.dtype == torch.int64 and int(voice.codes.min()) >= 0


@SETTINGS
@given(st.binary(min_size=1, max_size=64), st.integers(0, 5000))
def test_flipped_bytes_in_a_good_voice_never_traceback(noise, position):
    with tempfile.TemporaryDirectory() as tmp:
        path = Voice(
            "c", "hello", "həlˈoʊ", codes=torch.randint(0, 9, (2, 30)), latents=torch.randn(4, 30)
        ).save(Path(tmp) / "v.safetensors")
        data = bytearray(path.read_bytes())
    position %= len(data)
    data[position : position + len(noise)] = noise
    try:
        load_bytes(bytes(data))
    except Exception as err:  # noqa: BLE001 - the property under test
        assert_user_error(err)


@pytest.fixture(scope="module")
def frontend():
    from palette.tts.frontend import TextFrontend

    return TextFrontend("en-us")


@pytest.mark.filterwarnings("ignore::UserWarning")
@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.text(max_size=60))
def test_the_front_end_on_random_unicode_gives_ids_or_a_message(frontend, text):
    try:
        out = frontend(text)
    except ValueError as err:  # UserError is a ValueError
        assert str(err).strip(), "an error without a message"
        return
    assert out.ids and all(isinstance(i, int) for i in out.ids)
    assert len(out.ids) == len(out.phonemes)


@pytest.mark.filterwarnings("ignore::UserWarning")
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=40), st.integers(0, 9))
def test_the_front_end_on_mixed_words_digits_and_symbols(frontend, text, digit):
    mixed = f"Hello {text} {digit} world."
    try:
        out = frontend(mixed)
    except ValueError as err:
        assert str(err).strip()
        return
    assert out.ids
