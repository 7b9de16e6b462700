"""The report's JSON and Markdown forms, the anomalies artifact, and the unreadable-file helper."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import tensorflow_data_validation as tfdv

from components.schema.logic import Schema
from components.statistics.logic import Statistics, compute_statistics
from components.validation.logic import (
    read_anomalies,
    unreadable_batch_result,
    validate_statistics,
    write_anomalies,
)
from components.validation.markdown import render_report_markdown
from components.validation.report import (
    BATCH_LEVEL,
    UNREADABLE_FILE,
    Anomaly,
    DriftMeasurement,
    Unmeasured,
    ValidationReport,
    read_report,
    write_report,
)
from contracts.errors import DataContractError, ValidationError

REPORT = ValidationReport(
    batch="2013-07.csv",
    num_examples=3000,
    anomalies=(Anomaly("hour", "INT_TYPE_BIG_INT", "Unexpectedly large value: 27."),),
    measurements=(
        DriftMeasurement("carrier", "drift", "l_infinity", 0.01, 0.05),
        DriftMeasurement("temp", "drift", "jensen_shannon_divergence", 0.52, 0.45),
    ),
    unmeasured=(Unmeasured("wind_gust", "drift"),),
)


def test_verdict_follows_the_findings() -> None:
    drift_only = ValidationReport("b", 1, measurements=REPORT.measurements)
    calm = ValidationReport("b", 1, measurements=REPORT.measurements[:1])

    assert (REPORT.verdict, drift_only.verdict, calm.verdict) == ("halt", "retrain", "proceed")
    assert [m.feature for m in drift_only.exceeded] == ["temp"]


def test_json_round_trip(tmp_path: Path) -> None:
    path = write_report(REPORT, tmp_path / "out" / "report.json")

    data = json.loads(path.read_text())
    assert data["verdict"] == "halt"
    assert data["measurements"][1]["exceeded"] is True
    assert read_report(path) == REPORT


def test_json_with_a_verdict_contradicting_its_findings_is_refused() -> None:
    data = REPORT.to_dict() | {"verdict": "proceed"}

    with pytest.raises(ValidationError, match="report says 'proceed'"):
        ValidationReport.from_json(json.dumps(data))


@pytest.mark.parametrize("text", ["{}", "[]", "not json", '{"verdict": "halt", "batch": "b"}'])
def test_malformed_json_is_a_project_error(text: str) -> None:
    with pytest.raises(ValidationError, match="not a validation report"):
        ValidationReport.from_json(text)


def test_markdown_has_an_anomaly_table_and_a_drift_table() -> None:
    text = render_report_markdown(REPORT)

    assert "**HALT**" in text
    assert "| `hour` | `INT_TYPE_BIG_INT` | Unexpectedly large value: 27. |" in text
    assert "| drift | `temp` | JS divergence | 0.5200 | 0.4500 | **yes** |" in text
    assert "| drift | `carrier` | L-infinity | 0.0100 | 0.0500 | no |" in text
    # Exceeded measurements come first.
    assert text.index("`temp`") < text.index("`carrier`")
    assert "Could not be measured (the other batch has no values for them): drift `wind_gust`." in text


def test_markdown_escapes_pipes_in_descriptions() -> None:
    report = ValidationReport("b", 1, anomalies=(Anomaly("x", "T", "a | b\nc"),))

    assert "| `x` | `T` | a \\| b c |" in render_report_markdown(report)


def test_markdown_of_a_proceed_report_says_so() -> None:
    text = render_report_markdown(ValidationReport("b", 10))

    assert "**PROCEED**" in text and "None." in text and "Not measured" in text


def test_anomalies_artifact_round_trips_and_tfdv_reads_it(
    tmp_path: Path, july: pd.DataFrame, schema: Schema, month_stats: dict[int, Statistics]
) -> None:
    bad = july.copy()
    bad.loc[0, "hour"] = 27
    result = validate_statistics(compute_statistics(bad), schema, previous=month_stats[7])

    path = write_anomalies(result.anomalies, tmp_path / "anomalies.pbtxt")

    assert read_anomalies(path) == result.anomalies
    assert tfdv.load_anomalies_text(str(path)) == result.anomalies
    assert "hour" in result.anomalies.anomaly_info
    assert len(result.anomalies.drift_skew_info) == len(result.report.measurements)


def test_unreadable_anomalies_artifact_is_a_project_error(tmp_path: Path) -> None:
    path = tmp_path / "anomalies.pbtxt"
    path.write_text("anomaly_info {")

    with pytest.raises(ValidationError, match="not a readable anomalies artifact"):
        read_anomalies(path)


def test_unreadable_file_becomes_a_halt_result_with_its_reason(tmp_path: Path) -> None:
    error = DataContractError("batch.csv: unreadable or truncated csv file: EOF inside string")

    result = unreadable_batch_result(error, batch="batch.csv")

    assert result.report.verdict == "halt"
    assert result.report.anomalies == (Anomaly(BATCH_LEVEL, UNREADABLE_FILE, str(error), "project"),)
    reason = result.anomalies.dataset_anomaly_info.reason[0]
    assert (reason.short_description, reason.description) == (UNREADABLE_FILE, str(error))
    assert result.statistics is None
    assert read_report(write_report(result.report, tmp_path / "r.json")) == result.report
