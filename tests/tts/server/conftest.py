"""A live server on a free loopback port: uvicorn in a thread, over the tiny random bundle."""

import contextlib
import io
import socket
import threading
import time

import pytest
import soundfile as sf

from ..conftest import SR, speech_like

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running(app):
    """Serve ``app`` on 127.0.0.1 in a thread; yield its base URL."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            app, host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="on"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 120
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def prompt_wav(seconds=2.0, seed=0) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, speech_like(seconds, seed=seed), SR, format="WAV", subtype="PCM_16")
    return buf.getvalue()


@pytest.fixture(scope="module")
def make_server(synth, tmp_path_factory):
    """-> a function(**ServerOptions fields) -> base URL of a running server (closed at the
    module's end)."""
    from palette.tts.server import ServerOptions, create_app

    stack = contextlib.ExitStack()

    def make(**fields):
        fields.setdefault("data_dir", str(tmp_path_factory.mktemp("data")))
        return stack.enter_context(running(create_app(ServerOptions(**fields), synth=synth)))

    with stack:
        yield make


@pytest.fixture(scope="module")
def server(make_server):
    return make_server()


@pytest.fixture(scope="module")
def voice_id(server):
    import httpx

    r = httpx.post(
        f"{server}/v1/voices",
        files={"file": ("joe.wav", prompt_wav(), "audio/wav")},
        data={"transcript": "hello there", "name": "Joe"},
        timeout=60,
    )
    assert r.status_code == 200, r.text
    return r.json()["id"]
