"""Bad-data catalogue: each bad batch is made from real July data, goes through a CSV file and must halt.

Every case names the anomaly type and the feature a user would need to fix.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from components.ingest.batch_io import write_batch
from components.schema.logic import Schema
from components.statistics.logic import compute_statistics
from components.validation.logic import ValidationResult, validate_batch_file, validate_statistics
from components.validation.report import ALL_NULL_COLUMN, BATCH_LEVEL, EMPTY_BATCH, UNREADABLE_FILE


def _missing_column(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop(columns=["distance"])


def _extra_column(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(gate="B22")


def _text_in_numeric(frame: pd.DataFrame) -> pd.DataFrame:
    bad = frame.astype({"distance": "object"})
    bad.loc[5, "distance"] = "far"
    return bad


def _unknown_carrier(frame: pd.DataFrame) -> pd.DataFrame:
    bad = frame.copy()
    bad.loc[:10, "carrier"] = "ZZ"
    return bad


def _unknown_origin(frame: pd.DataFrame) -> pd.DataFrame:
    bad = frame.copy()
    bad.loc[:3, "origin"] = "BOS"
    return bad


def _temp_mostly_missing(frame: pd.DataFrame) -> pd.DataFrame:
    # 20% missing, against a schema that asks for 95% presence (December, the worst month, has 96.6%).
    bad = frame.copy()
    bad.loc[bad.sample(frac=0.2, random_state=0).index, "temp"] = np.nan
    return bad


def _required_feature_missing(frame: pd.DataFrame) -> pd.DataFrame:
    bad = frame.copy()
    bad.loc[bad.sample(frac=0.05, random_state=0).index, "carrier"] = None
    return bad


def _negative_distance(frame: pd.DataFrame) -> pd.DataFrame:
    bad = frame.copy()
    bad.loc[3, "distance"] = -100
    return bad


def _hour_27(frame: pd.DataFrame) -> pd.DataFrame:
    bad = frame.copy()
    bad.loc[3, "hour"] = 27
    return bad


def _humidity_above_100(frame: pd.DataFrame) -> pd.DataFrame:
    bad = frame.copy()
    bad.loc[3, "humid"] = 140.0
    return bad


def _all_null_numeric(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(temp=np.nan)


def _all_null_sparse_numeric(frame: pd.DataFrame) -> pd.DataFrame:
    # wind_gust is 76% missing by nature: its presence threshold is low, an empty column must still halt.
    return frame.assign(wind_gust=np.nan)


def _label_missing(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop(columns=["delayed"])


def _label_not_binary(frame: pd.DataFrame) -> pd.DataFrame:
    bad = frame.copy()
    bad.loc[3, "delayed"] = 2
    return bad


CASES = [
    pytest.param(_missing_column, "distance", "SCHEMA_MISSING_COLUMN", id="missing-required-column"),
    pytest.param(_extra_column, "gate", "SCHEMA_NEW_COLUMN", id="unexpected-extra-column"),
    pytest.param(_text_in_numeric, "distance", "UNEXPECTED_DATA_TYPE", id="text-in-numeric-column"),
    pytest.param(_unknown_carrier, "carrier", "ENUM_TYPE_UNEXPECTED_STRING_VALUES", id="unknown-carrier-ZZ"),
    pytest.param(_unknown_origin, "origin", "ENUM_TYPE_UNEXPECTED_STRING_VALUES", id="unknown-origin"),
    pytest.param(
        _temp_mostly_missing, "temp", "FEATURE_TYPE_LOW_FRACTION_PRESENT", id="weather-below-presence"
    ),
    pytest.param(
        _required_feature_missing, "carrier", "FEATURE_TYPE_LOW_FRACTION_PRESENT", id="required-missing"
    ),
    pytest.param(_negative_distance, "distance", "INT_TYPE_SMALL_INT", id="negative-distance"),
    pytest.param(_hour_27, "hour", "INT_TYPE_BIG_INT", id="hour-27"),
    pytest.param(_humidity_above_100, "humid", "FLOAT_TYPE_BIG_FLOAT", id="humidity-140"),
    pytest.param(_all_null_numeric, "temp", "FEATURE_TYPE_NOT_PRESENT", id="all-null-numeric"),
    pytest.param(
        _all_null_sparse_numeric, "wind_gust", "FEATURE_TYPE_NOT_PRESENT", id="all-null-sparse-numeric"
    ),
    pytest.param(_label_missing, "delayed", "SCHEMA_MISSING_COLUMN", id="label-missing-at-training"),
    pytest.param(_label_not_binary, "delayed", "BOOL_TYPE_BIG_INT", id="label-not-binary"),
]


@pytest.mark.parametrize(("make_bad", "feature", "anomaly_type"), CASES)
def test_bad_batch_halts_naming_feature_and_type(
    july: pd.DataFrame,
    validate_as_file: Callable[..., ValidationResult],
    make_bad: Callable[[pd.DataFrame], pd.DataFrame],
    feature: str,
    anomaly_type: str,
) -> None:
    report = validate_as_file(make_bad(july)).report

    assert report.verdict == "halt"
    assert anomaly_type in report.anomaly_types(feature), report.anomalies


def test_text_in_numeric_column_also_names_the_bad_value(
    july: pd.DataFrame, validate_as_file: Callable[..., ValidationResult]
) -> None:
    report = validate_as_file(_text_in_numeric(july)).report

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
    july: pd.DataFrame, validate_as_file: Callable[..., ValidationResult], month_stats: dict
) -> None:
    report = validate_as_file(july.iloc[:0], previous=month_stats[6]).report

    assert report.verdict == "halt"
    assert report.measurements == ()


def _truncate(path: Path, fraction: float) -> Path:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * fraction)])
    return path


def test_truncated_parquet_halts_as_unreadable(tmp_path: Path, july: pd.DataFrame, schema: Schema) -> None:
    path = _truncate(write_batch(july, tmp_path / "batch.parquet"), 0.5)

    result = validate_batch_file(path, schema)

    assert result.report.verdict == "halt"
    assert result.report.anomaly_types(BATCH_LEVEL) == {UNREADABLE_FILE}
    assert result.statistics is None


def test_csv_cut_inside_a_quoted_field_halts_as_unreadable(
    tmp_path: Path, july: pd.DataFrame, schema: Schema
) -> None:
    path = tmp_path / "batch.csv"
    write_batch(july, path)
    path.write_text(path.read_text() + '"2013-07-31T23:00:00Z,2013,7,31,19,0,1900,2200,UA,1')

    result = validate_batch_file(path, schema)

    assert result.report.anomaly_types(BATCH_LEVEL) == {UNREADABLE_FILE}


def test_csv_cut_mid_row_halts_on_the_short_last_row(
    tmp_path: Path, july: pd.DataFrame, schema: Schema
) -> None:
    # pandas pads a short last row with missing values instead of failing; the label, last column and
    # required, is then missing in one row.
    path = write_batch(july, tmp_path / "batch.csv")
    text = path.read_text()
    path.write_text(text[: text.rindex("\n", 0, len(text) - 1) + 60])

    report = validate_batch_file(path, schema).report

    assert report.verdict == "halt"
    assert "FEATURE_TYPE_LOW_FRACTION_PRESENT" in report.anomaly_types("delayed")


def test_missing_file_halts_as_unreadable(tmp_path: Path, schema: Schema) -> None:
    report = validate_batch_file(tmp_path / "absent.csv", schema).report

    assert report.verdict == "halt"
    assert report.anomaly_types(BATCH_LEVEL) == {UNREADABLE_FILE}
    assert report.batch == "absent.csv"


def test_binary_garbage_halts_as_unreadable(tmp_path: Path, schema: Schema) -> None:
    path = tmp_path / "batch.csv"
    path.write_bytes(b'\x00\x01\xff\xfe"unterminated,1,2\n')

    report = validate_batch_file(path, schema).report

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
