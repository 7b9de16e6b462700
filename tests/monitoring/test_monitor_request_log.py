"""Served rows read back from request logs the server's own writer wrote."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np
import pytest
from monitor_support import EXAMPLE_SCHEMA, sample, write_served

from components.monitoring.served import feature_frame, read_served
from components.serving.request_log import RequestLog, rejected_record, served_record
from components.serving.validation import RequestValidator
from contracts.data_contract import FEATURE_NAMES
from contracts.errors import MonitoringError
from contracts.serving_schema import ServingSchema


def test_every_answered_row_comes_back_with_its_key_features_and_prediction(tmp_path: Path) -> None:
    flights = sample((6,), 40, seed=1)
    predictions = np.linspace(0.1, 0.9, 40)
    ids = write_served(tmp_path, flights, predictions, version="v3", prefix="june", start=1_000.0)

    rows = read_served(tmp_path).rows

    assert list(rows["request_id"]) == ids
    assert set(rows["model_version"]) == {"v3"}
    assert rows["row"].eq(0).all()
    np.testing.assert_allclose(rows["prediction"], predictions)
    np.testing.assert_allclose(rows["ts"], 1_000.0 + np.arange(40))
    assert rows["carrier"].tolist() == flights["carrier"].tolist()
    assert rows["distance"].tolist() == flights["distance"].tolist()


def test_a_multi_row_request_is_unrolled_by_row_index(tmp_path: Path) -> None:
    flights = sample((6,), 3, seed=2)
    validator = RequestValidator(ServingSchema.read(EXAMPLE_SCHEMA))
    records = flights[list(FEATURE_NAMES)].astype(object).where(flights[list(FEATURE_NAMES)].notna(), None)
    batch = validator.parse({"jsonData": records.to_dict("records")})
    log = RequestLog(tmp_path, flush_seconds=0.01)
    log.append(served_record(time.time(), "batch-1", "v1", batch, np.array([0.2, 0.4, 0.6]), protocol="rest"))
    log.close()

    rows = read_served(tmp_path).rows

    assert rows[["request_id", "row"]].values.tolist() == [["batch-1", 0], ["batch-1", 1], ["batch-1", 2]]
    assert rows["prediction"].tolist() == pytest.approx([0.2, 0.4, 0.6])


def test_refusals_torn_lines_and_foreign_lines_are_counted_not_fatal(tmp_path: Path) -> None:
    flights = sample((6,), 5, seed=3)
    write_served(tmp_path, flights, np.full(5, 0.3), version="v1", prefix="ok")
    log = RequestLog(tmp_path, flush_seconds=0.01)
    log.append(
        rejected_record(
            time.time(),
            "bad-1",
            "v1",
            {"jsonData": {"day": 99}},
            status=400,
            reason="BAD",
            error="day",
            protocol="rest",
        )
    )
    log.close()
    with (tmp_path / "requests-999999.jsonl").open("w") as crashed:
        crashed.write(json.dumps({"ts": "2026-11-27T08:00:00Z", "outcome": "ok", "features": {}}) + "\n")
        crashed.write('{"ts": "2026-11-27T08:00:01Z", "request_id": "torn", "outc')

    log_read = read_served(tmp_path)

    assert len(log_read.rows) == 5
    assert log_read.refused == 1
    assert log_read.unreadable_lines == 2


def test_a_missing_category_is_null_for_statistics(tmp_path: Path) -> None:
    flights = sample((6,), 200, seed=4)
    missing = flights["plane_engine"].isna()
    assert missing.any(), "June has aircraft without a known engine"
    write_served(tmp_path, flights, np.full(200, 0.3), version="v1", prefix="p")

    features = feature_frame(read_served(tmp_path).rows)

    assert features["plane_engine"].isna().tolist() == missing.tolist()
    assert str(features["hour"].dtype) == "Int64"
    assert str(features["temp"].dtype) == "float64"


def test_since_leaves_out_older_requests_and_no_folder_is_no_rows(tmp_path: Path) -> None:
    flights = sample((6,), 10, seed=5)
    write_served(tmp_path, flights, np.full(10, 0.3), version="v1", prefix="p", start=1_000.0)

    assert len(read_served(tmp_path, since=1_005.0).rows) == 5
    assert read_served(tmp_path / "nothing-here").rows.empty


def test_an_unreadable_log_folder_is_a_monitoring_error(tmp_path: Path) -> None:
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("x")
    with pytest.raises(MonitoringError, match="not a folder"):
        read_served(not_a_folder)


def test_a_log_file_last_written_before_the_window_is_not_read(tmp_path: Path) -> None:
    old = sample((6,), 5, seed=6)
    write_served(tmp_path, old, np.full(5, 0.3), version="v1", prefix="old", start=1_000.0)
    [path] = tmp_path.glob("requests-*.jsonl")
    os.utime(path, (1_010.0, 1_010.0))
    path.rename(tmp_path / "requests-1.jsonl")
    new = sample((6,), 3, seed=7)
    write_served(tmp_path, new, np.full(3, 0.3), version="v1", prefix="new", start=5_000.0)

    assert read_served(tmp_path, since=2_000.0).rows["request_id"].tolist() == ["new-0", "new-1", "new-2"]
    assert len(read_served(tmp_path).rows) == 8
