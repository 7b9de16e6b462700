"""Wall time of statistics and validation for 1, 6 and 12 months of the default data.

Run: ``.venv/bin/python bench/bench_validation.py [--repeats N]``. Prints a plain text table; the time
to load and join the raw tables is excluded (it is the ingest step's cost, not validation's).
"""

from __future__ import annotations

import argparse
from functools import partial

from _timing import median_time

from cli.output import format_table
from components.features.offline import OfflineFeatures
from components.ingest.logic import load_year, select_months
from components.schema.logic import load_schema
from components.settings import ProjectSettings
from components.statistics.logic import compute_statistics
from components.validation.config import load_thresholds
from components.validation.logic import validate_statistics

SIZES = {"1 month (Jan)": [1], "6 months (Jan-Jun)": list(range(1, 7)), "12 months": list(range(1, 13))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="runs per measurement; the median is shown")
    args = parser.parse_args()

    # The project's feature store (built on first use, as `make run` builds it).
    year = load_year(OfflineFeatures(ProjectSettings.resolve().feature_repo))
    schema, thresholds = load_schema(), load_thresholds()
    # Drift is measured against a fixed month so every row of the table does the same validation work.
    previous = compute_statistics(select_months(year, [7]))
    # Warm-up: the first TFDV call pays for lazy imports and generator set-up.
    validate_statistics(compute_statistics(year.head(100)), schema, previous=previous, thresholds=thresholds)

    rows = []
    for label, months in SIZES.items():
        frame = select_months(year, months)
        stats, stats_time = median_time(partial(compute_statistics, frame), args.repeats)
        result, validation_time = median_time(
            partial(validate_statistics, stats, schema, previous=previous, thresholds=thresholds),
            args.repeats,
        )
        rows.append(
            {
                "batch": label,
                "rows": f"{len(frame):,}",
                "statistics s": f"{stats_time:.3f}",
                "validation s": f"{validation_time:.3f}",
                "total s": f"{stats_time + validation_time:.3f}",
                "measured": len(result.report.measurements),
            }
        )
    print(format_table(rows, ["batch", "rows", "statistics s", "validation s", "total s", "measured"]))
    print(
        f"\nmedian of {args.repeats} runs; validation includes drift against July 2013 "
        f"({len(thresholds.drift.features)} features compared)"
    )


if __name__ == "__main__":
    main()
