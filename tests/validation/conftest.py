"""Real data shared by the validation tests: the year is joined once per session, each month summarised once."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from default_data import default_year

from components.ingest.batch_io import write_batch
from components.ingest.logic import MONTHS, select_months
from components.schema.logic import Schema, load_schema
from components.statistics.logic import Statistics, compute_statistics
from components.validation.logic import ValidationResult, validate_batch_file

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


@pytest.fixture()
def validate_as_file(tmp_path: Path, schema: Schema) -> Callable[..., ValidationResult]:
    """Writes a frame as a user's CSV file would arrive, then validates that file."""

    def run(
        frame: pd.DataFrame,
        *,
        name: str = "batch.csv",
        previous: Statistics | None = None,
        serving: Statistics | None = None,
    ) -> ValidationResult:
        path = write_batch(frame, tmp_path / name)
        return validate_batch_file(path, schema, previous=previous, serving=serving)

    return run
