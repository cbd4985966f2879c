"""Load test of ``palette serve`` on loopback: rounds of concurrent streaming requests.

Starts the server as its own process (the default model unless --model), uploads the demo
voice, measures time to first byte of requests that do not queue (one at a time), then runs
``--rounds`` rounds of ``--concurrency`` simultaneous streaming ``pcm`` requests of mixed
lengths. Reports time to first byte (p50/p90), total time, statuses and transport errors, how
fast refusals (429/503) came, the server's peak RSS and its RSS after each round against the
baseline. Bounded: every request times out after --request-timeout s, the whole run after
--max-seconds. Writes ``benchmarks/results/server_load.md``.

    python benchmarks/server_load.py                    # default limits: some requests get 429
    python benchmarks/server_load.py --queue-size 20 --append   # every request waits its turn
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import platform
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parents[1]
TEXTS = [  # short, medium and long: about 1, 4 and 10 seconds of speech
    "Good morning.",
    "The little boat sailed across the lake, and the fishermen waved from the shore.",
    "We walked along the river for an hour. The water was calm and the sky was clear. "
    "At the bridge we stopped, looked back at the town, and talked about the long winter.",
]


INTRO = """# palette serve under load

Time to first byte is from sending the request to the first body bytes; "does not queue" requests
are sent one at a time. Refusals are 429 (queue full, answered at once) and 503 (waited
--max-wait seconds without a turn). RSS is the server process's resident memory.

"""


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return (
        values[min(len(values) - 1, int(round(q * (len(values) - 1))))] if values else float("nan")
    )


class RSSWatcher(threading.Thread):
    """Samples the server's resident memory (the process and its children) every 50 ms."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.proc, self.peak, self.stopped = psutil.Process(pid), 0, False

    def rss(self) -> int:
        procs = [self.proc, *self.proc.children(recursive=True)]
        return sum(p.memory_info().rss for p in procs if p.is_running())

    def run(self):
        while not self.stopped:
            self.peak = max(self.peak, self.rss())
            time.sleep(0.05)


async def one(client: httpx.AsyncClient, voice: str, text: str, timeout: float) -> dict:
    body = {"model": "tts-1", "input": text, "voice": voice, "response_format": "pcm"}
    start = time.monotonic()
    out = {"status": None, "ttfb": None, "total": None, "bytes": 0, "error": None}
    try:
        async with client.stream("POST", "/v1/audio/speech", json=body, timeout=timeout) as r:
            out["status"] = r.status_code
            async for piece in r.aiter_raw():
                if out["ttfb"] is None:
                    out["ttfb"] = time.monotonic() - start
                out["bytes"] += len(piece)
    except httpx.TransportError as err:
        out["error"] = type(err).__name__
    out["total"] = time.monotonic() - start
    return out


async def round_of(url: str, voice: str, n: int, timeout: float, first: int = 0) -> list[dict]:
    limits = httpx.Limits(max_connections=n + 5)
    async with httpx.AsyncClient(base_url=url, limits=limits) as client:
        texts = [TEXTS[(first + i) % len(TEXTS)] for i in range(n)]
        return await asyncio.gather(*(one(client, voice, t, timeout) for t in texts))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(args, data_dir: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "palette.tts",
        "serve",
        "--model",
        args.model,
        "--port",
        str(port),
        "--data-dir",
        str(data_dir),
        "--queue-size",
        str(args.queue_size),
        "--max-active",
        str(args.max_active),
        "--max-wait",
        str(args.max_wait),
        "--no-web",
        *(["--torch-threads", str(args.torch_threads)] if args.torch_threads else []),
    ]
    log = open(data_dir / "server.log", "w")
    proc = subprocess.Popen(cmd, stderr=log, stdout=log)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited: see {data_dir / 'server.log'}")
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return proc, url
        except httpx.TransportError:
            time.sleep(0.3)
    proc.kill()
    raise SystemExit("the server did not start within 180 s")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default="palette-mini-en")
    p.add_argument("--concurrency", type=int, default=20)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--solo", type=int, default=12, help="requests sent one at a time (no queueing)")
    p.add_argument("--max-active", type=int, default=2)
    p.add_argument("--queue-size", type=int, default=8)
    p.add_argument("--max-wait", type=float, default=30.0)
    p.add_argument("--torch-threads", type=int, help="passed to palette serve")
    p.add_argument("--request-timeout", type=float, default=120.0)
    p.add_argument("--max-seconds", type=float, default=900.0)
    p.add_argument("--out", default=str(ROOT / "benchmarks/results/server_load.md"))
    p.add_argument("--append", action="store_true", help="add to --out instead of replacing it")
    p.add_argument("--data-dir", default="/tmp/palette-server-load")
    args = p.parse_args(argv)

    data_dir = Path(args.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    proc, url = start_server(args, data_dir)
    watcher = RSSWatcher(proc.pid)
    began = time.monotonic()
    try:
        with (ROOT / "demos/prompt.wav").open("rb") as fh:
            r = httpx.post(
                f"{url}/v1/voices",
                files={"file": ("prompt.wav", fh, "audio/wav")},
                data={"transcript": (ROOT / "demos/prompt.txt").read_text()},
                timeout=120,
            )
        r.raise_for_status()
        voice = r.json()["id"]
        asyncio.run(round_of(url, voice, 1, args.request_timeout))  # warm-up
        solo = [
            asyncio.run(round_of(url, voice, 1, args.request_timeout, first=i))[0]
            for i in range(args.solo)
        ]
        time.sleep(1.0)
        baseline = watcher.rss()
        watcher.start()
        rounds = []
        for i in range(args.rounds):
            if time.monotonic() - began > args.max_seconds:
                print("stopping: --max-seconds reached", file=sys.stderr)
                break
            t0 = time.monotonic()
            results = asyncio.run(round_of(url, voice, args.concurrency, args.request_timeout))
            wall = time.monotonic() - t0
            time.sleep(2.0)
            rounds.append((results, wall, watcher.rss()))
            print(
                f"round {i + 1}: {wall:.1f} s, statuses "
                f"{dict(collections.Counter(r['status'] for r in results))}",
                file=sys.stderr,
            )
        watcher.stopped = True
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
    report = render(args, solo, rounds, baseline, watcher.peak)
    out = Path(args.out)
    previous = out.read_text() + "\n" if args.append and out.exists() else INTRO
    out.write_text(previous + report)
    print(report)
    return 0


def render(args, solo, rounds, baseline, peak) -> str:
    mb = 1 / 2**20
    solo_ttfb = [1000 * r["ttfb"] for r in solo if r["ttfb"] is not None]
    all_results = [r for results, _, _ in rounds for r in results]
    served = [r for r in all_results if r["status"] == 200 and r["error"] is None]
    refused = [r for r in all_results if r["status"] in (429, 503)]
    statuses = collections.Counter(str(r["status"]) for r in all_results if r["error"] is None)
    errors = collections.Counter(r["error"] for r in all_results if r["error"] is not None)
    cmd = (
        "python benchmarks/server_load.py"
        + (" --append" if args.append else "")
        + (f" --queue-size {args.queue_size}" if args.queue_size != 8 else "")
    )
    lines = [
        f"## palette serve under load: queue of {args.queue_size}",
        "",
        f"Command: `{cmd}` (model `{args.model}`, {args.concurrency} concurrent streaming `pcm` "
        f"requests per round, {args.rounds} rounds, texts of about 1, 4 and 10 s in turn; server "
        f"`--max-active {args.max_active} --queue-size {args.queue_size} --max-wait {args.max_wait:g}`, "
        "loopback, one worker).",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPU cores (shared with other jobs), "
        f"Python {platform.python_version()}.",
        "",
        "| measure | value |",
        "|---|---|",
        f"| time to first byte, request that does not queue (p50 / p90 of {len(solo_ttfb)}) | "
        f"{percentile(solo_ttfb, 0.5):.0f} / {percentile(solo_ttfb, 0.9):.0f} ms |",
    ]
    ttfb = [1000 * r["ttfb"] for r in served if r["ttfb"] is not None]
    lines += [
        f"| time to first byte, served under load (p50 / p90 of {len(ttfb)}) | "
        f"{percentile(ttfb, 0.5):.0f} / {percentile(ttfb, 0.9):.0f} ms |",
        f"| total time of a served request (p50 / p90) | "
        f"{percentile([r['total'] for r in served], 0.5):.2f} / {percentile([r['total'] for r in served], 0.9):.2f} s |",
        f"| wall time per round | {', '.join(f'{w:.1f}' for _, w, _ in rounds)} s |",
        f"| statuses (all rounds) | {', '.join(f'{k}: {v}' for k, v in sorted(statuses.items()))} |",
        f"| 5xx other than 503 | {sum(v for k, v in statuses.items() if k.startswith('5') and k != '503')} |",
        f"| dropped connections / transport errors | {sum(errors.values())} {dict(errors) or ''} |",
        "| slowest refusal (429/503) | "
        + (f"{1000 * max(r['total'] for r in refused):.0f} ms |" if refused else "none refused |"),
        f"| server RSS: baseline (after warm-up) | {baseline * mb:.0f} MiB |",
        f"| server RSS: peak during the rounds | {peak * mb:.0f} MiB |",
        f"| server RSS after each round | {', '.join(f'{r * mb:.0f}' for _, _, r in rounds)} MiB |",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
