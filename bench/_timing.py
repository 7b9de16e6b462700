"""Wall time of repeated runs, shared by the benchmarks (imported from their own folder)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import TypeVar

Result = TypeVar("Result")


def median_time(action: Callable[[], Result], repeats: int) -> tuple[Result, float]:
    """Runs ``action`` ``repeats`` times.

    Args:
        action: What to time, with its arguments bound (``functools.partial``).
        repeats: How many runs; the median damps a run slowed by another process on a shared machine.

    Returns:
        The last run's result and the median wall time in seconds. Only the last result is kept alive,
        so runs that build large frames do not add up in memory.

    Raises:
        ValueError: when ``repeats`` is below 1.

    Example:
        >>> median_time(lambda: sum(range(10)), repeats=3)[0]
        45
    """
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    seconds = []
    for _ in range(repeats):
        started = time.perf_counter()
        result = action()
        seconds.append(time.perf_counter() - started)
    return result, statistics.median(seconds)
