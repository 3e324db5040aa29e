"""Timing that holds up on a shared machine: best and median of many short calls."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def measure(
    call: Callable[[], object], items: int, seconds: float, *, warmup: int = 2, min_calls: int = 3
) -> dict:
    """Call ``call`` (which processes ``items`` items) for about ``seconds``.

    ``best_fps`` (fastest call) estimates what the hardware can do when nothing else runs;
    ``median_fps`` is what a run saw under the load of the moment.
    """
    for _ in range(warmup):
        call()
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < min_calls or time.perf_counter() - start < seconds:
        t0 = time.perf_counter()
        call()
        times.append(time.perf_counter() - t0)
    return {
        "best_fps": round(items / min(times), 2),
        "median_fps": round(items / statistics.median(times), 2),
        "calls": len(times),
    }
