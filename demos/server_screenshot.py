"""Screenshot of the web demo (``demos/server.png``): serve the default model on loopback, add
the demo voice through the page, speak a sentence, and capture the page.

    python demos/server_screenshot.py        # needs the serve extra, playwright and chromium
"""

from __future__ import annotations

import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

import uvicorn
from playwright.sync_api import sync_playwright

from palette.tts.server import ServerOptions, create_app

HERE = Path(__file__).resolve().parent


def main() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = create_app(ServerOptions(data_dir=tempfile.mkdtemp(prefix="palette-demo-")))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.1)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--autoplay-policy=no-user-gesture-required"]
        )
        page = browser.new_page(viewport={"width": 900, "height": 1000})
        page.set_default_timeout(120_000)
        page.goto(f"http://127.0.0.1:{port}/")
        page.set_input_files("#prompt-file", str(HERE / "prompt.wav"))
        page.fill("#transcript", (HERE / "prompt.txt").read_text().strip())
        page.fill("#voice-name", "demo prompt")
        page.click("#add-voice")
        page.wait_for_selector("#voices li[data-voice]")
        page.fill("#text", "The little boat sailed across the lake in the morning.")
        page.click("#speak")
        page.wait_for_function("window.paletteStats.done")
        page.wait_for_function("document.getElementById('result').duration > 0")
        page.screenshot(path=str(HERE / "server.png"), full_page=True)
        browser.close()
    server.should_exit = True
    print(f"wrote {HERE / 'server.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
