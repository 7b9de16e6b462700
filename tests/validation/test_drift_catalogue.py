"""Drift and skew catalogue, calibrated on the real months of 2013 (see components/validation/README.md)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from components.ingest.logic import MONTHS, select_months
from components.schema.logic import Schema
from components.statistics.logic import Statistics, compute_statistics
from components.validation.config import load_thresholds
from components.validation.logic import ValidationResult, validate_statistics
from components.validation.report import DriftMeasurement, ValidationReport


def _measured(report: ValidationReport, feature: str, comparison: str = "drift") -> DriftMeasurement:
    (found,) = [m for m in report.measurements if m.feature == feature and m.comparison == comparison]
    return found


@pytest.fixture(scope="module")
def july_stats(month_stats: dict[int, Statistics]) -> Statistics:
    return month_stats[7]


def test_temperature_shifted_by_15F_asks_for_retraining(
    july: pd.DataFrame, validate_as_file: Callable[..., ValidationResult], month_batch: Callable[[int], Path]
) -> None:
    report = validate_as_file(july.assign(temp=july["temp"] + 15), previous=month_batch(7)).report

    assert report.verdict == "retrain"
    temp = _measured(report, "temp")
    assert temp.metric == "jensen_shannon_divergence"
    assert temp.exceeded
    assert [m.feature for m in report.exceeded] == ["temp"]


def test_origin_mix_with_70_percent_LGA_asks_for_retraining(
    july: pd.DataFrame, validate_as_file: Callable[..., ValidationResult], month_batch: Callable[[int], Path]
) -> None:
    lga = july[july["origin"] == "LGA"].sample(2_100, replace=True, random_state=0)
    others = july[july["origin"] != "LGA"].sample(900, random_state=0)
    skewed = pd.concat([lga, others], ignore_index=True)

    report = validate_as_file(skewed, previous=month_batch(7)).report

    assert report.verdict == "retrain"
    origin = _measured(report, "origin")
    assert origin.metric == "l_infinity"
    assert origin.value == pytest.approx(0.70 - 0.297, abs=0.02)


def test_a_removed_major_carrier_asks_for_retraining(
    july: pd.DataFrame, validate_as_file: Callable[..., ValidationResult], month_batch: Callable[[int], Path]
) -> None:
    report = validate_as_file(july[july["carrier"] != "UA"], previous=month_batch(7)).report

    assert report.verdict == "retrain"
    assert _measured(report, "carrier").exceeded


def test_a_clean_batch_against_itself_proceeds_with_zero_drift(
    july_stats: Statistics, schema: Schema
) -> None:
    report = validate_statistics(july_stats, schema, previous=july_stats).report

    assert report.verdict == "proceed"
    assert {m.feature for m in report.measurements} == set(load_thresholds().drift.features)
    assert max(m.value for m in report.measurements) == pytest.approx(0.0, abs=1e-9)


def test_a_sample_against_its_own_month_proceeds(
    july: pd.DataFrame, validate_as_file: Callable[..., ValidationResult], month_batch: Callable[[int], Path]
) -> None:
    report = validate_as_file(july, previous=month_batch(7)).report

    assert report.verdict == "proceed", report.exceeded


@pytest.mark.parametrize("month", MONTHS[1:])
def test_natural_month_over_month_drift_stays_below_thresholds(
    month: int, month_stats: dict[int, Statistics], schema: Schema
) -> None:
    report = validate_statistics(month_stats[month], schema, previous=month_stats[month - 1]).report

    assert report.verdict == "proceed", report.exceeded


def test_skew_of_a_shifted_serving_population_asks_for_retraining(
    year: pd.DataFrame, july_stats: Statistics, schema: Schema
) -> None:
    # Serving in January with a model trained on July: the whole weather block moved.
    serving = compute_statistics(select_months(year, [1]).drop(columns=["delayed"]))

    report = validate_statistics(july_stats, schema, serving=serving).report

    assert report.verdict == "retrain"
    assert _measured(report, "temp", "skew").exceeded
    assert all(m.comparison == "skew" for m in report.measurements)
    assert "delayed" not in {m.feature for m in report.measurements}


def test_skew_against_the_same_month_proceeds(
    year: pd.DataFrame, july: pd.DataFrame, july_stats: Statistics, schema: Schema
) -> None:
    serving = compute_statistics(july.drop(columns=["delayed"]))

    report = validate_statistics(july_stats, schema, serving=serving).report

    assert report.verdict == "proceed", report.exceeded
    assert len(report.measurements) == len(load_thresholds().skew.features)


def test_schema_anomaly_outranks_drift(
    july: pd.DataFrame, validate_as_file: Callable[..., ValidationResult], month_batch: Callable[[int], Path]
) -> None:
    bad = july.assign(temp=july["temp"] + 15)
    bad.loc[0, "hour"] = 27

    report = validate_as_file(bad, previous=month_batch(7)).report

    assert report.verdict == "halt"
    assert _measured(report, "temp").exceeded


def test_a_feature_the_previous_batch_lacks_is_reported_unmeasured(
    july: pd.DataFrame, july_stats: Statistics, schema: Schema
) -> None:
    previous = compute_statistics(july.drop(columns=["temp"]).assign(wind_gust=float("nan")))

    report = validate_statistics(july_stats, schema, previous=previous).report

    assert report.verdict == "proceed"
    assert [(u.comparison, u.feature) for u in report.unmeasured] == [
        ("drift", "temp"),
        ("drift", "wind_gust"),
    ]
    assert {m.feature for m in report.measurements}.isdisjoint({"temp", "wind_gust"})
