"""The time-order step's work on batch artifact folders (no kfp here)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from components.ingest.batch_io import read_batch
from components.ingest.step import batch_file
from components.time_order.logic import DEPARTURE_COLUMNS, check_order, departures


def check_batches(train_dir: Path, new_dir: Path) -> dict[str, str | int]:
    """Checks the materialised batches and returns what lineage records of the check.

    Raises:
        TimeOrderError: when any new-batch row departs at or before the last training departure.
    """
    order = check_order(_departures(train_dir), _departures(new_dir))
    return {
        "last_training_departure": f"{order.last_training_departure:%Y-%m-%d %H:00}",
        "first_new_departure": f"{order.first_new_departure:%Y-%m-%d %H:00}",
        "new_rows": order.new_rows,
    }


def _departures(artifact_dir: Path) -> pd.Series:
    path = batch_file(artifact_dir)
    if path.suffix == ".parquet":
        # Only the date parts: the training batch of a year is large, and nothing else is needed here.
        return departures(pd.read_parquet(path, columns=list(DEPARTURE_COLUMNS)))
    return departures(read_batch(path))
