"""One thread makes every model call; streams take turns, a chunk each.

The text front end (espeak-ng) and the models are not thread-safe, so a server process runs them
on a single worker thread. Up to ``max_active`` jobs are in progress at once and advance
round-robin (one ``next()`` each per turn), so a new request starts producing audio without
waiting for a long one to finish; up to ``queue_size`` more wait for a place; beyond that
``submit`` raises ``QueueFull`` at once (the HTTP layer answers 429). A cancelled job (its client
went away) is dropped before its next turn, so its generation stops.

Results travel to the event loop with ``call_soon_threadsafe``: the asyncio side awaits
``Job.next()`` and never blocks a thread.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

log = logging.getLogger("palette.server")

_END = object()


class QueueFull(Exception):
    """No place in the queue: try again later."""


class Job:
    """One piece of work: ``make()`` -> an iterator whose items go to the awaiting request."""

    def __init__(
        self, make: Callable[[], Iterator[Any]], loop: asyncio.AbstractEventLoop, name: str = "job"
    ):
        self.make, self.loop, self.name = make, loop, name
        self.items: asyncio.Queue = asyncio.Queue()
        self.iterator: Iterator[Any] | None = None
        self.cancelled = False
        self.submitted = time.monotonic()
        self.started: float | None = None  # when the worker first ran it
        self._getter: asyncio.Future | None = None  # a pending items.get(), kept across timeouts

    def cancel(self) -> None:
        self.cancelled = True
        if self._getter is not None:
            self._getter.cancel()
            self._getter = None

    def _deliver(self, kind: str, value: Any) -> None:
        self.loop.call_soon_threadsafe(self.items.put_nowait, (kind, value))

    async def next(self, timeout: float | None = None) -> Any:
        """The next item; ``StopAsyncIteration`` at the end; the job's exception if it failed;
        ``TimeoutError`` when nothing came within ``timeout`` seconds (the item is not lost:
        the next call gets it)."""
        if self._getter is None:
            self._getter = asyncio.ensure_future(self.items.get())
        done, _ = await asyncio.wait({self._getter}, timeout=timeout)
        if not done:
            raise TimeoutError
        kind, value = self._getter.result()
        self._getter = None
        if kind == "error":
            raise value
        if value is _END:
            raise StopAsyncIteration
        return value


class Scheduler:
    def __init__(self, max_active: int = 2, queue_size: int = 8):
        if max_active < 1 or queue_size < 0:
            raise ValueError("max_active must be >= 1 and queue_size >= 0")
        self.max_active, self.queue_size = max_active, queue_size
        self._active: list[Job] = []
        self._waiting: collections.deque[Job] = collections.deque()
        self._cond = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="palette-model", daemon=True)
        self._thread.start()

    # --- asyncio side --------------------------------------------------------------------
    def submit(self, make: Callable[[], Iterator[Any]], name: str = "job") -> Job:
        """Queue ``make`` (called on the worker thread); raise ``QueueFull`` if no place."""
        job = Job(make, asyncio.get_running_loop(), name)
        with self._cond:
            if self._closed:
                raise QueueFull("the server is shutting down")
            if self.load >= self.max_active + self.queue_size:
                raise QueueFull(f"{self.load} requests are in progress or waiting")
            self._waiting.append(job)
            self._cond.notify()
        return job

    async def call(self, fn: Callable[[], Any], name: str = "call", timeout: float | None = None):
        """Run ``fn()`` on the worker thread and return its result."""
        job = self.submit(lambda: iter((fn(),)), name)
        try:
            return await job.next(timeout)
        finally:
            job.cancel()

    @property
    def load(self) -> int:
        """Jobs in progress or waiting (cancelled ones not yet dropped included)."""
        return len(self._active) + len(self._waiting)

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify()
        self._thread.join(timeout=5)

    # --- worker thread -------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._closed and not self._active and not self._waiting:
                    self._cond.wait()
                if self._closed:
                    for job in [*self._active, *self._waiting]:
                        job._deliver("error", QueueFull("the server is shutting down"))
                    return
                while self._waiting and len(self._active) < self.max_active:
                    job = self._waiting.popleft()
                    if not job.cancelled:
                        self._active.append(job)
                turn = list(self._active)
            for job in turn:
                last = self._step(job)
                if last is not None:  # finished: leave the active set, then tell the request
                    with self._cond:
                        self._active.remove(job)
                    if last:
                        job._deliver(*last)

    def _step(self, job: Job) -> tuple | None:
        """Advance ``job`` by one item. -> None while it goes on; when it is finished, failed or
        cancelled, the last message for its request (an empty tuple: nobody is listening)."""
        if job.cancelled:
            self._close(job)
            log.debug("%s cancelled", job.name)
            return ()
        try:
            if job.iterator is None:
                job.started = time.monotonic()
                job.iterator = iter(job.make())
            job._deliver("item", next(job.iterator))
            return None
        except StopIteration:
            return ("item", _END)
        except Exception as err:  # goes to the request, which decides 4xx or 500
            return ("error", err)

    @staticmethod
    def _close(job: Job) -> None:
        close = getattr(job.iterator, "close", None)
        if close is not None:
            try:
                close()
            except Exception:  # a generator's cleanup failing must not kill the worker
                log.exception("closing %s failed", job.name)
