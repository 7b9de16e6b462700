"""No false halt: every real month of 2013 passes the curated schema, seasonal extremes included."""

from __future__ import annotations

import pandas as pd
import pytest

from components.ingest.logic import MONTHS, select_months
from components.schema.logic import SERVING, Schema
from components.statistics.logic import Statistics, compute_statistics
from components.validation.logic import validate_statistics
from contracts.data_contract import LABEL, ORIGINS


@pytest.mark.parametrize("month", MONTHS)
def test_every_real_month_passes_the_schema(
    month: int, month_stats: dict[int, Statistics], schema: Schema
) -> None:
    report = validate_statistics(month_stats[month], schema, batch=f"2013-{month:02d}").report

    assert report.verdict == "proceed", report.anomalies
    assert report.anomalies == ()


def test_the_whole_year_passes_the_schema(year: pd.DataFrame, schema: Schema) -> None:
    assert validate_statistics(compute_statistics(year), schema).report.verdict == "proceed"


def test_serving_batch_without_label_passes_in_serving_environment(
    year: pd.DataFrame, schema: Schema
) -> None:
    requests = select_months(year, [12]).drop(columns=[LABEL])

    report = validate_statistics(compute_statistics(requests), schema, environment=SERVING).report

    assert report.verdict == "proceed", report.anomalies


def test_the_same_batch_without_label_halts_in_training(year: pd.DataFrame, schema: Schema) -> None:
    requests = select_months(year, [12]).drop(columns=[LABEL])

    report = validate_statistics(compute_statistics(requests), schema).report

    assert "SCHEMA_MISSING_COLUMN" in report.anomaly_types(LABEL)


@pytest.mark.parametrize("origin", ORIGINS)
def test_every_single_origin_month_passes_the_schema(origin: str, year: pd.DataFrame, schema: Schema) -> None:
    # Presence of plane facts depends on the carrier mix (LGA months go down to 69%), so a slice-heavy
    # batch must not trip the presence thresholds.
    sliced = year[year["origin"] == origin]
    for month in MONTHS:
        stats = compute_statistics(select_months(sliced, [month]))
        report = validate_statistics(stats, schema).report
        assert report.verdict == "proceed", (month, report.anomalies)
