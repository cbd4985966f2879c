"""The scheduler alone: one thread, turns a chunk at a time, a bounded queue, cancellation."""

import asyncio
import threading
import time

import pytest

from palette.tts.server.scheduler import QueueFull, Scheduler


def ticks(n, delay=0.01, log=None, tag=None):
    for i in range(n):
        time.sleep(delay)
        if log is not None:
            log.append((tag, threading.current_thread().name))
        yield i


async def drain(job):
    out = []
    while True:
        try:
            out.append(await job.next(timeout=10))
        except StopAsyncIteration:
            return out


def test_streams_take_turns_on_one_thread():
    async def main():
        scheduler = Scheduler(max_active=2, queue_size=0)
        log = []
        try:
            long = scheduler.submit(lambda: ticks(50, log=log, tag="long"))
            await asyncio.sleep(0.05)
            short = scheduler.submit(lambda: ticks(3, log=log, tag="short"))
            assert await drain(short) == [0, 1, 2]
            done_short = len(log)
            assert await drain(long) == list(range(50))
        finally:
            scheduler.close()
        assert done_short < 20  # the short one did not wait for the long one to end
        assert {name for _, name in log} == {"palette-model"}

    asyncio.run(main())


def test_a_full_queue_refuses_and_frees_up():
    async def main():
        scheduler = Scheduler(max_active=1, queue_size=1)
        try:
            a = scheduler.submit(lambda: ticks(5))
            b = scheduler.submit(lambda: ticks(5))
            with pytest.raises(QueueFull):
                scheduler.submit(lambda: ticks(5))
            await drain(a)
            await drain(b)
            assert scheduler.load == 0
            assert await scheduler.call(lambda: 42) == 42
        finally:
            scheduler.close()

    asyncio.run(main())


def test_cancelled_jobs_stop_and_errors_reach_the_caller():
    async def main():
        scheduler = Scheduler(max_active=1, queue_size=2)
        made = []
        try:
            job = scheduler.submit(lambda: ticks(1000, log=made))
            await job.next(timeout=10)
            job.cancel()
            await asyncio.sleep(0.2)
            count = len(made)
            await asyncio.sleep(0.2)
            assert len(made) == count < 100

            def boom():
                raise ValueError("bad text")

            with pytest.raises(ValueError, match="bad text"):
                await scheduler.call(boom)
        finally:
            scheduler.close()

    asyncio.run(main())
