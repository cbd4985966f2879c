"""The real ``openai`` client against a live server: audio decodes at the model rate, has the
length offline synthesis gives, streams, and errors come back as the client's own exceptions."""

import io
import re
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from ..conftest import SR
from .conftest import prompt_wav, running

openai = pytest.importorskip("openai")
TEXT = "Hello there. How are you today?"
DEMO = Path(__file__).resolve().parents[3] / "demos"


@pytest.fixture(scope="module")
def client(server):
    return openai.OpenAI(base_url=f"{server}/v1", api_key="unused", max_retries=0, timeout=120)


@pytest.fixture(scope="module")
def offline(synth):
    """What the library itself streams for TEXT in the uploaded voice (seed 0)."""
    wav, sr = sf.read(io.BytesIO(prompt_wav()), dtype="float32")
    return np.concatenate(list(synth.stream(TEXT, synth.encode_voice((wav, sr), "hello there"))))


def test_create_wav_matches_the_library(client, voice_id, offline):
    response = client.audio.speech.create(
        model="tts-1", voice=voice_id, input=TEXT, response_format="wav"
    )
    wav, sr = sf.read(io.BytesIO(response.content), dtype="float32")
    assert sr == SR
    assert len(wav) == len(offline)
    assert np.abs(wav - np.clip(offline, -1, 1)).max() < 1e-3  # 16-bit rounding only


def test_streaming_pcm_arrives_in_pieces_and_adds_up(client, voice_id, offline):
    pieces = []
    with client.audio.speech.with_streaming_response.create(
        model="palette-mini-en", voice=voice_id, input=TEXT, response_format="pcm"
    ) as response:
        assert response.headers["x-sample-rate"] == str(SR)
        assert response.headers["transfer-encoding"] == "chunked"
        for piece in response.iter_bytes(4800):
            pieces.append(piece)
    data = b"".join(pieces)
    assert len(pieces) > 1 and len(data) == 2 * len(offline)
    pcm = np.frombuffer(data, "<i2").astype(np.float32) / 32767
    assert np.abs(pcm - np.clip(offline, -1, 1)).max() < 1e-3


@pytest.mark.parametrize("fmt", ["flac", "mp3", "opus"])
def test_encoded_formats_decode_at_the_model_rate(client, voice_id, offline, fmt):
    response = client.audio.speech.create(
        model="tts-1", voice=voice_id, input=TEXT, response_format=fmt
    )
    wav, sr = sf.read(io.BytesIO(response.content), dtype="float32")
    assert sr == SR
    assert abs(len(wav) - len(offline)) < 0.05 * SR  # mp3/opus pad a little


def test_extra_fields_reach_the_synthesizer(client, voice_id):
    def make(**extra):
        return client.audio.speech.create(
            model="tts-1", voice=voice_id, input=TEXT, response_format="pcm", extra_body=extra
        ).content

    assert make(seed=1) == make(seed=1) != make(seed=2)


def test_errors_are_the_clients_exceptions(client, voice_id):
    with pytest.raises(openai.BadRequestError, match="unknown voice 'nobody'"):
        client.audio.speech.create(model="tts-1", voice="nobody", input=TEXT)
    with pytest.raises(openai.BadRequestError, match="response_format 'aac' is not supported"):
        client.audio.speech.create(model="tts-1", voice=voice_id, input=TEXT, response_format="aac")
    with pytest.raises(openai.BadRequestError) as err:
        client.audio.speech.create(
            model="tts-1", voice=voice_id, input=TEXT, extra_body={"temperature": "hot"}
        )
    assert err.value.body["param"] == "temperature"


def test_models_lists_the_loaded_model(client):
    assert [m.id for m in client.models.list()] == ["palette-mini-en"]


@pytest.mark.slow
def test_the_default_model_is_understood_through_the_client(tmp_path):
    """The shipped model, loaded by the server itself, speaks words a recogniser hears."""
    import httpx

    from palette.tts.server import ServerOptions, create_app

    pytest.importorskip("faster_whisper")
    from palette.tts.transcribe import transcribe

    sentence = "The little boat sailed across the lake in the morning."
    app = create_app(ServerOptions(model="palette-mini-en", data_dir=str(tmp_path)))
    with running(app) as url:
        with (DEMO / "prompt.wav").open("rb") as fh:
            r = httpx.post(
                f"{url}/v1/voices",
                files={"file": ("prompt.wav", fh, "audio/wav")},
                data={"transcript": (DEMO / "prompt.txt").read_text()},
                timeout=120,
            )
        assert r.status_code == 200, r.text
        client = openai.OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0)
        start = time.monotonic()
        with client.audio.speech.with_streaming_response.create(
            model="tts-1", voice=r.json()["id"], input=sentence, response_format="wav"
        ) as response:
            data = b"".join(response.iter_bytes())
        assert time.monotonic() - start < 60
    wav, sr = sf.read(io.BytesIO(data), dtype="float32")
    assert sr == 24000 and 1.5 < len(wav) / sr < 8.0
    heard = set(re.sub(r"[^a-z' ]", " ", transcribe(wav, sr).lower()).split())
    said = re.sub(r"[^a-z' ]", " ", sentence.lower()).split()
    assert sum(w in heard for w in said) >= 0.5 * len(said), heard
