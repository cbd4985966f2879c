"""Speed: real-time factor (wall seconds / audio seconds) and timing of any callable."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterable
from typing import TypeVar

from palette.codec.files import UserError

T = TypeVar("T")


def real_time_factor(wall_seconds: float, audio_seconds: float) -> float:
    """Seconds of compute per second of audio; below 1 is faster than real time."""
    if audio_seconds <= 0:
        raise UserError(f"audio duration must be positive, got {audio_seconds}")
    return wall_seconds / audio_seconds


def timed(fn: Callable[..., T], *args, **kwargs) -> tuple[T, float]:
    """Call ``fn(*args, **kwargs)`` -> (its result, wall seconds)."""
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - start


def time_synthesis(
    synthesize: Callable[[], tuple[object, int]], repeats: int = 3, warmup: int = 1
) -> dict[str, float]:
    """Time ``synthesize() -> (wav [S], sample_rate)``: warm-up calls first, then the median
    wall time and RTF over ``repeats`` calls (timings on shared CPUs are noisy: use medians)."""
    for _ in range(warmup):
        synthesize()
    walls, rtfs = [], []
    for _ in range(repeats):
        (wav, sr), wall = timed(synthesize)
        walls.append(wall)
        rtfs.append(real_time_factor(wall, len(wav) / sr))  # type: ignore[arg-type]
    return {
        "median_seconds": statistics.median(walls),
        "median_rtf": statistics.median(rtfs),
        "repeats": float(repeats),
    }


def median(values: Iterable[float | None]) -> float | None:
    """Median of the values that are not None (None when there are none)."""
    vals = [v for v in values if v is not None]
    return statistics.median(vals) if vals else None
