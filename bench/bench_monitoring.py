"""Cost of one production check: reading the request log and feedback, and judging the window.

Run: ``.venv/bin/python bench/bench_monitoring.py [--repeats N]``. Request logs are written with the model
server's own writer (one-row requests of real June flights) and read back; the check's statistics,
drift and skew (TFDV) and live metrics run on a window of each size. Prints two plain text tables.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

# The monitoring tests' helpers (real flights, a small real model, the server's own log writer) and the
# default data they read, from the project's feature store.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "monitoring"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from _timing import median_time
from monitor_support import TRAIN_MONTHS, delay_model, delay_model_reference, sample, write_served

from cli.output import format_table
from components.monitoring.config import load_monitor_config
from components.monitoring.feedback import Feedback, read_feedback, store_feedback
from components.monitoring.monitor import check_production
from components.monitoring.served import read_served
from components.schema.logic import load_schema
from components.validation.config import load_thresholds

LOG_ROWS = (1_500, 10_000, 50_000)
WINDOWS = (1_500, 5_000, 20_000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs per measurement; the median is shown")
    args = parser.parse_args()
    reference = delay_model_reference()
    config, thresholds, schema = load_monitor_config(), load_thresholds(), load_schema()
    flights = sample(TRAIN_MONTHS, max(LOG_ROWS), seed=1)
    predictions = delay_model().predict(flights)

    log_rows, window_rows = [], []
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
            served, read_time = median_time(partial(read_served, root / "requests"), args.repeats)
            feedback, feedback_time = median_time(partial(read_feedback, root / "feedback"), args.repeats)
            log_rows.append(
                {
                    "request log rows": f"{len(served.rows):,}",
                    "read log s": f"{read_time:.2f}",
                    "read feedback s": f"{feedback_time:.2f}",
                }
            )
        # Warm-up, untimed: the first check pays one-off start-up costs.
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
            result, check_time = median_time(
                partial(
                    check_production,
                    served,
                    feedback,
                    reference,
                    config=config.with_window(max_rows=window),
                    thresholds=thresholds,
                    schema=schema,
                    now=time.time() + 10,
                ),
                args.repeats,
            )
            window_rows.append(
                {
                    "window rows": f"{result.window.size:,}",
                    "check s": f"{check_time:.2f}",
                    "status": result.status.value,
                }
            )
    print(format_table(log_rows, ["request log rows", "read log s", "read feedback s"]))
    print()
    print(format_table(window_rows, ["window rows", "check s", "status"]))


if __name__ == "__main__":
    main()
