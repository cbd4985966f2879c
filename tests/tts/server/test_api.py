"""The HTTP contract beyond the happy path: limits, errors, auth, CORS, the bounded queue,
disconnects that stop generation, and a voice library that persists and cannot be escaped."""

import concurrent.futures
import threading
import time

import httpx
import numpy as np
import pytest

from ..conftest import SR
from .conftest import prompt_wav


class SlowSynth:
    """The real synthesizer for voices; a stream of ``chunks`` 0.1 s silences, ``delay`` s each."""

    def __init__(self, synth, delay=0.1, chunks=30):
        self.synth, self.delay, self.chunks = synth, delay, chunks
        self.sample_rate, self.families = synth.sample_rate, synth.families
        self.produced = 0

    def encode_voice(self, *args, **kwargs):
        return self.synth.encode_voice(*args, **kwargs)

    def stream(self, text, voice, options=None):
        for _ in range(self.chunks):
            time.sleep(self.delay)
            self.produced += 1
            yield np.zeros(SR // 10, dtype=np.float32)


def upload(url, data=None, **form):
    files = {"file": ("p.wav", prompt_wav() if data is None else data, "audio/wav")}
    return httpx.post(
        f"{url}/v1/voices", files=files, data={"transcript": "hello there", **form}, timeout=60
    )


def speak(url, voice_id, **body):
    body = {
        "model": "tts-1",
        "input": "Hello there.",
        "voice": voice_id,
        "response_format": "pcm",
        **body,
    }
    return httpx.post(f"{url}/v1/audio/speech", json=body, timeout=60)


@pytest.fixture(scope="module")
def slow_server(synth, tmp_path_factory):
    from palette.tts.server import ServerOptions, create_app

    from .conftest import running

    def make(**fields):
        slow = SlowSynth(synth, **{k: fields.pop(k) for k in ("delay", "chunks") if k in fields})
        options = ServerOptions(data_dir=str(tmp_path_factory.mktemp("slow")), **fields)
        return slow, running(create_app(options, synth=slow))

    return make


def test_health_and_request_ids(server):
    r = httpx.get(f"{server}/health", headers={"X-Request-ID": "abc123"})
    assert r.json()["status"] == "ok" and r.headers["x-request-id"] == "abc123"
    assert len(httpx.get(f"{server}/health").headers["x-request-id"]) == 8


@pytest.mark.parametrize(
    "body, status, words",
    [
        ({"model": "whisper-1"}, 400, "unknown model 'whisper-1'"),
        ({"input": ""}, 400, "input is empty"),
        ({"input": "x" * 5000}, 400, "input has 5000 characters; the limit is 4096"),
        ({"voice": "../../etc/passwd"}, 400, "unknown voice"),
        ({"response_format": "aac"}, 400, "libsndfile cannot write it"),
        ({"speed": 0.1}, 400, "speed"),
        ({"stream_format": "sse"}, 400, "stream_format 'sse'"),
        ({"top_kk": 3}, 400, "unknown field(s) top_kk"),
        ({"family": "nope"}, 400, "nope"),
    ],
)
def test_bad_requests_are_400_in_openai_shape(server, voice_id, body, status, words):
    r = speak(server, voice_id, **body)
    assert r.status_code == status
    error = r.json()["error"]
    assert words in error["message"] and error["type"] == "invalid_request_error"


def test_missing_fields_name_the_field(server):
    r = httpx.post(f"{server}/v1/audio/speech", json={"model": "tts-1", "voice": "x"})
    assert r.status_code == 400 and r.json()["error"]["param"] == "input"


def test_upload_limits(make_server):
    url = make_server(max_upload_bytes=150_000, max_prompt_seconds=2.5)
    assert upload(url, data=prompt_wav(4.0)).status_code == 413  # 192 kB: refused by the route
    r = upload(url, data=prompt_wav(6.0))  # 288 kB: refused from Content-Length, before parsing
    assert r.status_code == 413 and "larger than 150000 bytes" in r.json()["error"]["message"]
    r = upload(url, data=prompt_wav(2.6))
    assert r.status_code == 400 and "the limit is 2.5 s" in r.json()["error"]["message"]
    r = upload(url, data=b"not audio at all")
    assert (
        r.status_code == 400 and "could not read the uploaded audio" in r.json()["error"]["message"]
    )
    r = upload(url, data=prompt_wav(0.3))  # the library's own prompt check
    assert r.status_code == 400 and r.json()["error"]["message"]
    assert upload(url).status_code == 200


def test_voices_persist_are_shared_and_deleted(make_server, tmp_path):
    first = make_server(data_dir=str(tmp_path))
    info = upload(first, name="Zoë  Smith!").json()
    assert info["id"].startswith("zo-smith-") and info["name"] == "Zoë  Smith!"
    second = make_server(data_dir=str(tmp_path))  # another worker or replica, same directory
    assert [v["id"] for v in httpx.get(f"{second}/v1/voices").json()["data"]] == [info["id"]]
    assert speak(second, info["id"]).status_code == 200
    assert sorted(p.name for p in (tmp_path / "voices").iterdir()) == [
        f"{info['id']}.json",
        f"{info['id']}.safetensors",
    ]  # nothing half-written left behind
    assert httpx.delete(f"{second}/v1/voices/{info['id']}").json()["deleted"] is True
    assert httpx.get(f"{first}/v1/voices/{info['id']}").status_code == 404
    assert speak(first, info["id"]).status_code == 400
    assert httpx.delete(f"{first}/v1/voices/{info['id']}").status_code == 404


@pytest.mark.parametrize("bad", ["..", "%2E%2E%2Fvoices", "A", "x" * 65, "a.json", "a%00b"])
def test_voice_ids_cannot_escape_the_directory(server, bad):
    assert httpx.get(f"{server}/v1/voices/{bad}").status_code == 404
    assert httpx.delete(f"{server}/v1/voices/{bad}").status_code in (404, 405)


def test_api_key(make_server, monkeypatch):
    url = make_server(api_key="s3cret")
    assert httpx.get(f"{url}/v1/models").status_code == 401
    r = httpx.get(f"{url}/v1/models", headers={"Authorization": "Bearer wrong"})
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_api_key"
    assert (
        httpx.get(f"{url}/v1/models", headers={"Authorization": "Bearer s3cret"}).status_code == 200
    )
    assert httpx.get(f"{url}/health").status_code == 200 and httpx.get(url).status_code == 200
    monkeypatch.setenv("PALETTE_API_KEY", "from-env")
    env = make_server()
    assert (
        httpx.get(f"{env}/v1/models", headers={"Authorization": "Bearer from-env"}).status_code
        == 200
    )
    assert httpx.get(f"{env}/v1/models").status_code == 401


def test_cors_is_off_unless_configured(server, make_server):
    origin = {"Origin": "https://app.example"}
    assert (
        "access-control-allow-origin"
        not in httpx.get(f"{server}/v1/models", headers=origin).headers
    )
    url = make_server(cors_origins=("https://app.example",), api_key="k")
    r = httpx.get(f"{url}/v1/models", headers={**origin, "Authorization": "Bearer k"})
    assert r.headers["access-control-allow-origin"] == "https://app.example"
    preflight = {
        **origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type",
    }
    r = httpx.options(f"{url}/v1/audio/speech", headers=preflight)
    assert (
        r.status_code == 200 and r.headers["access-control-allow-origin"] == "https://app.example"
    )
    r = httpx.get(f"{url}/v1/models", headers=origin)  # no key: refused, readable by the page
    assert (
        r.status_code == 401 and r.headers["access-control-allow-origin"] == "https://app.example"
    )


def test_first_bytes_arrive_before_generation_ends(slow_server):
    slow, ctx = slow_server(delay=0.1, chunks=20)  # 2 s of generation
    with ctx as url:
        voice = upload(url).json()["id"]
        start = time.monotonic()
        with httpx.stream(
            "POST",
            f"{url}/v1/audio/speech",
            timeout=60,
            json={"model": "tts-1", "input": "Hi.", "voice": voice, "response_format": "wav"},
        ) as r:
            first = None
            size = 0
            for piece in r.iter_raw():
                first = first or time.monotonic() - start
                size += len(piece)
        total = time.monotonic() - start
    assert first < 0.6 and total > 1.8, (first, total)
    assert size == 44 + 20 * 2 * SR // 10


def test_full_queue_answers_429_at_once_and_the_rest_are_served(slow_server):
    slow, ctx = slow_server(delay=0.05, chunks=10, max_active=1, queue_size=1)
    with ctx as url:
        voice = upload(url).json()["id"]

        def timed():
            start = time.monotonic()
            r = speak(url, voice)
            return r, time.monotonic() - start

        with concurrent.futures.ThreadPoolExecutor(5) as pool:
            results = list(pool.map(lambda _: timed(), range(5)))
    codes = sorted(r.status_code for r, _ in results)
    assert codes.count(200) >= 2 and set(codes) <= {200, 429}, codes
    for r, seconds in results:
        if r.status_code == 429:
            assert seconds < 1.0 and int(r.headers["retry-after"]) > 0
            assert r.json()["error"]["type"] == "rate_limit_error"
        else:
            assert len(r.content) == 10 * 2 * SR // 10


def test_a_request_that_waits_too_long_gets_503(slow_server):
    slow, ctx = slow_server(delay=0.1, chunks=30, max_active=1, queue_size=4, max_wait=0.5)
    with ctx as url:
        voice = upload(url).json()["id"]
        hog = threading.Thread(target=speak, args=(url, voice))
        hog.start()
        time.sleep(0.3)
        start = time.monotonic()
        r = speak(url, voice)
        assert r.status_code == 503 and r.headers["retry-after"]
        assert time.monotonic() - start < 1.5
        hog.join()


def test_a_client_that_disconnects_stops_its_generation(slow_server):
    slow, ctx = slow_server(delay=0.05, chunks=200)  # 10 s of generation if nobody stops it
    with ctx as url:
        voice = upload(url).json()["id"]
        with httpx.stream(
            "POST",
            f"{url}/v1/audio/speech",
            timeout=60,
            json={"model": "tts-1", "input": "Hi.", "voice": voice, "response_format": "pcm"},
        ) as r:
            next(r.iter_raw())
        time.sleep(1.0)
        produced = slow.produced
        time.sleep(0.5)
        assert slow.produced == produced < 60  # stopped, long before the end
        health = httpx.get(f"{url}/health").json()
        assert health["in_progress"] == 0 and health["waiting"] == 0
