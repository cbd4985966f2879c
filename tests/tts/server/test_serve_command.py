"""``palette serve`` as a user starts it: a subprocess, two worker processes, one voice dir."""

import os
import signal
import subprocess
import sys
import time

import httpx

from .conftest import free_port, prompt_wav


def test_palette_serve_with_two_workers_sharing_the_voices(tiny_bundle, tmp_path):
    port = free_port()
    env = {**os.environ, "PALETTE_API_KEY": "k"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "palette.tts",
            "serve",
            "--model",
            str(tiny_bundle),
            "--data-dir",
            str(tmp_path),
            "--port",
            str(port),
            "--workers",
            "2",
        ],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    url, auth = f"http://127.0.0.1:{port}", {"Authorization": "Bearer k"}
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, proc.stderr.read()
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "palette serve did not come up"
            time.sleep(0.3)
        r = httpx.post(
            f"{url}/v1/voices",
            headers=auth,
            data={"transcript": "hello there"},
            files={"file": ("p.wav", prompt_wav(), "audio/wav")},
            timeout=60,
        )
        assert r.status_code == 200, r.text
        voice_id = r.json()["id"]
        for _ in range(6):  # whichever worker answers knows the voice the other one stored
            r = httpx.post(
                f"{url}/v1/audio/speech",
                headers=auth,
                timeout=60,
                json={
                    "model": "tts-1",
                    "input": "Hi.",
                    "voice": voice_id,
                    "response_format": "pcm",
                },
            )
            assert r.status_code == 200, r.text
        assert httpx.get(f"{url}/v1/models").status_code == 401  # the key reached the workers
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            _, err = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
    assert "palette serve: model" in err and "POST /v1/audio/speech -> 200" in err
