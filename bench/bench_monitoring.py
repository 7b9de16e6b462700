"""Cost of one production check: reading the request log and feedback, and judging the window.

Run: ``.venv/bin/python bench/bench_monitoring.py [--repeats N]``. Request logs are written with the model
server's own writer (one-row requests of real June flights) and read back; the check's statistics,
drift and skew (TFDV) and live metrics run on a window of each size. Prints a plain text table.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "monitoring"))

from monitor_support import TRAIN_MONTHS, delay_model, delay_model_reference, sample, write_served

from components.monitoring.config import load_monitor_config
from components.monitoring.feedback import Feedback, read_feedback, store_feedback
from components.monitoring.monitor import check_production
from components.monitoring.served import read_served
from components.schema.logic import load_schema
from components.validation.config import load_thresholds

T = TypeVar("T")
LOG_ROWS = (1_500, 10_000, 50_000)
WINDOWS = (1_500, 5_000, 20_000)


def _timed(action: Callable[[], T], repeats: int) -> tuple[T, float]:
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - start)
    assert result is not None
    return result, statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs per measurement; the median is shown")
    args = parser.parse_args()
    reference = delay_model_reference()
    config, thresholds, schema = load_monitor_config(), load_thresholds(), load_schema()
    flights = sample(TRAIN_MONTHS, max(LOG_ROWS), seed=1)
    predictions = delay_model().predict(flights)

    print(f"{'request log rows':>16} {'read log s':>11} {'read feedback s':>16}")
    print("-" * 45)
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        written = 0
        for rows in LOG_ROWS:
            part = flights.iloc[written:rows]
            ids = write_served(
                root / "requests", part, predictions[written:rows], version="v1", prefix=f"p{rows}"
            )
            store_feedback(
                root / "feedback", [Feedback(i, 0, int(y)) for i, y in zip(ids, part["delayed"], strict=True)]
            )
            written = rows
            served, read_time = _timed(lambda: read_served(root / "requests"), args.repeats)
            feedback, feedback_time = _timed(lambda: read_feedback(root / "feedback"), args.repeats)
            print(f"{len(served.rows):>16,} {read_time:>11.2f} {feedback_time:>16.2f}")
        print()
        print(f"{'window rows':>11} {'check s':>8} {'status':>10}")
        print("-" * 31)
        check_production(
            served,
            feedback,
            reference,
            config=config,
            thresholds=thresholds,
            schema=schema,
            now=time.time() + 10,
        )
        for window in WINDOWS:
            sized = config.with_window(max_rows=window)
            result, check_time = _timed(
                lambda sized=sized: check_production(
                    served,
                    feedback,
                    reference,
                    config=replace(sized),
                    thresholds=thresholds,
                    schema=schema,
                    now=time.time() + 10,
                ),
                args.repeats,
            )
            print(f"{result.window.size:>11,} {check_time:>8.2f} {result.status.value:>10}")


if __name__ == "__main__":
    main()
