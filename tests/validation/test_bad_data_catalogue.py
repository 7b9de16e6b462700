"""Bad-data catalogue: each bad batch is made from real July data, goes through a CSV file and must halt.

Every case names the anomaly type and the feature a user would need to fix.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from validation_support import validate_artifact

from components.ingest.step import BATCH_STEM
from components.schema.logic import Schema
from components.statistics.logic import compute_statistics
from components.validation.catalogue import CASES, BadDataCase, bad_data_case
from components.validation.logic import ValidationResult, validate_statistics
from components.validation.report import ALL_NULL_COLUMN, BATCH_LEVEL, EMPTY_BATCH, UNREADABLE_FILE

ROW_CASES = [
    pytest.param(case, id=case.name)
    for case in CASES
    if case.damage_file is None and case.name != "empty-batch"
]


@pytest.mark.parametrize("case", ROW_CASES)
def test_bad_batch_halts_naming_feature_and_type(
    july: pd.DataFrame, validate_as_file: Callable[..., ValidationResult], case: BadDataCase
) -> None:
    report = validate_as_file(case.corrupt(july.copy())).report

    assert report.verdict == "halt"
    assert case.anomaly_type in report.anomaly_types(case.feature), report.anomalies


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
@pytest.mark.parametrize("case", [pytest.param(c, id=c.name) for c in CASES if c.damage_file is not None])
def test_damaged_file_halts_as_unreadable(
    tmp_path: Path, july: pd.DataFrame, case: BadDataCase, suffix: str
) -> None:
    case.write(july, tmp_path / "batch" / f"{BATCH_STEM}{suffix}")

    report = validate_artifact(tmp_path / "batch").report

    assert report.verdict == "halt"
    assert report.anomaly_types(BATCH_LEVEL) == {UNREADABLE_FILE}
    assert "truncated" in report.anomalies[0].description


def test_text_in_numeric_column_also_names_the_bad_value(
    july: pd.DataFrame, validate_as_file: Callable[..., ValidationResult]
) -> None:
    report = validate_as_file(bad_data_case("text-in-numeric-column").corrupt(july.copy())).report

    descriptions = " ".join(a.description for a in report.anomalies if a.feature == "distance")
    assert '"far"' in descriptions


def test_clean_sample_through_the_same_path_proceeds(
    july: pd.DataFrame, validate_as_file: Callable[..., ValidationResult]
) -> None:
    report = validate_as_file(july).report

    assert report.verdict == "proceed", report.anomalies
    assert report.num_examples == len(july)


def test_header_only_batch_halts_as_empty(
    july: pd.DataFrame, validate_as_file: Callable[..., ValidationResult]
) -> None:
    result = validate_as_file(july.iloc[:0])

    assert result.report.verdict == "halt"
    assert [(a.feature, a.type) for a in result.report.anomalies] == [(BATCH_LEVEL, EMPTY_BATCH)]
    assert result.anomalies.dataset_anomaly_info.reason[0].short_description == EMPTY_BATCH


def test_empty_batch_measures_no_drift(
    july: pd.DataFrame, validate_as_file: Callable[..., ValidationResult], month_batch: Callable[[int], Path]
) -> None:
    report = validate_as_file(july.iloc[:0], previous=month_batch(6)).report

    assert report.verdict == "halt"
    assert report.measurements == ()


def test_missing_file_halts_as_unreadable(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()

    report = validate_artifact(tmp_path / "empty").report

    assert report.verdict == "halt"
    assert report.anomaly_types(BATCH_LEVEL) == {UNREADABLE_FILE}
    assert "no batch file" in report.anomalies[0].description


def test_binary_garbage_halts_as_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "batch" / f"{BATCH_STEM}.csv"
    path.parent.mkdir()
    path.write_bytes(b'\x00\x01\xff\xfe"unterminated,1,2\n')

    report = validate_artifact(path.parent).report

    assert report.anomaly_types(BATCH_LEVEL) == {UNREADABLE_FILE}


def test_all_null_column_is_named_when_the_schema_sets_no_min_count(
    july: pd.DataFrame, schema: Schema
) -> None:
    # A drafted schema without presence.min_count lets TFDV pass an empty, mostly-missing column.
    lenient = Schema()
    lenient.CopyFrom(schema)
    for feature in lenient.feature:
        feature.presence.ClearField("min_count")
    gust = next(f for f in lenient.feature if f.name == "wind_gust")
    gust.presence.min_fraction = 0.0

    result = validate_statistics(compute_statistics(july.assign(wind_gust=np.nan)), lenient)

    assert result.report.verdict == "halt"
    assert result.report.anomaly_types("wind_gust") == {ALL_NULL_COLUMN}
    reason = result.anomalies.anomaly_info["wind_gust"].reason[0]
    assert reason.short_description == ALL_NULL_COLUMN
