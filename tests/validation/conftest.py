"""Real data shared by the validation tests: the year is joined once per session, each month summarised once.

Batches are validated through the code the pipeline runs: a frame is written as the ingest step writes a
batch artifact, and the validation step describes and judges that folder, writing every artifact."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from default_data import default_year
from validation_support import validate_artifact

from components.ingest.batch_io import write_batch
from components.ingest.logic import MONTHS, select_months
from components.ingest.step import BATCH_STEM
from components.schema.logic import Schema, load_schema
from components.statistics.logic import Statistics, compute_statistics
from components.validation.logic import ValidationResult

SAMPLE_ROWS = 3_000
SAMPLE_SEED = 7


@pytest.fixture(scope="session")
def year() -> pd.DataFrame:
    return default_year()


@pytest.fixture(scope="session")
def schema() -> Schema:
    return load_schema()


@pytest.fixture(scope="session")
def month_stats(year: pd.DataFrame) -> dict[int, Statistics]:
    """Statistics of every full month of 2013."""
    return {month: compute_statistics(select_months(year, [month])) for month in MONTHS}


@pytest.fixture(scope="session")
def july(year: pd.DataFrame) -> pd.DataFrame:
    """A clean sample of July: the base every bad batch is made from."""
    return select_months(year, [7]).sample(SAMPLE_ROWS, random_state=SAMPLE_SEED).reset_index(drop=True)


@pytest.fixture(scope="session")
def month_batch(year: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Callable[[int], Path]:
    """A whole month of 2013 as a batch artifact (the previous batch drift is measured against)."""
    written: dict[int, Path] = {}

    def batch(month: int) -> Path:
        if month not in written:
            folder = tmp_path_factory.mktemp(f"month-{month}")
            write_batch(select_months(year, [month]), folder / f"{BATCH_STEM}.parquet")
            written[month] = folder
        return written[month]

    return batch


@pytest.fixture()
def validate_as_file(tmp_path: Path) -> Callable[..., ValidationResult]:
    """Writes a frame as a user's CSV file would arrive in a batch artifact, then validates that artifact."""
    numbers = itertools.count()

    def run(frame: pd.DataFrame, *, previous: Path | None = None) -> ValidationResult:
        batch_dir = tmp_path / f"batch-{next(numbers)}"
        write_batch(frame, batch_dir / f"{BATCH_STEM}.csv")
        return validate_artifact(batch_dir, previous=previous)

    return run
