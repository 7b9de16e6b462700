"""The Seldon input transformer, for real, as `mlops serve --features` starts it: feature server, model
server and transformer as processes on 127.0.0.1; a client sends only booking-time fields."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from doubles.fixture_model import build_model_folder

from cli import serve_commands
from components.features.booking_service import serve_booking_time
from components.features.client import FeatureClient
from components.features.environment import FeatureEnvironment
from components.monitoring.served import read_served
from components.processes import group_members
from components.settings import ProjectSettings
from contracts.feature_catalog import AIRCRAFT, FEATURE_NAMES, ROUTE_DELAYS
from contracts.serving_schema import ServingSchema

EXAMPLE_SCHEMA = Path(__file__).resolve().parents[2] / "contracts" / "serving_schema.example.json"
SERVER_FILE = serve_commands.SERVER_FILE
BOOKING: dict[str, Any] = {
    "day": 14,
    "hour": 17,
    "minute": 30,
    "sched_dep_time": 1730,
    "sched_arr_time": 2015,
    "carrier": "UA",
    "origin": "EWR",
    "dest": "ORD",
    "distance": 719,
    "tailnum": "N14228",
}


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_model_folder(tmp_path_factory.mktemp("model"), ServingSchema.read(EXAMPLE_SCHEMA))


@pytest.fixture(scope="module")
def served(
    feature_env: FeatureEnvironment, model_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    """What `mlops serve --features` starts: feature server, model server and transformer in front."""
    state = tmp_path_factory.mktemp("state")
    (state / "features").symlink_to(feature_env.repo)
    settings = ProjectSettings(state_dir=state, metadata_uri=f"sqlite:///{state / 'metadata.sqlite'}")
    record = serve_booking_time(model_dir, "fs-1", settings, port=0, workers=1, threads=4)
    record["request_log"] = str(state / "requests")
    (state / SERVER_FILE).write_text(json.dumps(record), encoding="utf-8")
    yield record
    serve_commands._stop(state / SERVER_FILE, as_json=True)
    groups = [record["pid"], *record["also_started"]]
    assert len(groups) == 3 and not any(group_members(group) for group in groups)


def _served_rows(folder: Path) -> Any:
    # The server's log writer flushes every 50 ms; a bounded wait, not a timing assertion.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        rows = read_served(folder).rows
        if len(rows):
            return rows
        time.sleep(0.1)
    raise AssertionError(f"no served row reached the request log in {folder}")


def _post(url: str, body: Any) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_a_booking_time_request_is_answered_with_store_features_filled(served: dict[str, Any]) -> None:
    status, answer = _post(served["http_url"] + "/api/v1.0/predictions", {"jsonData": BOOKING})
    assert status == 200, answer
    probability = answer["data"]["ndarray"][0][0]
    assert 0.0 <= probability <= 1.0
    assert answer["meta"]["tags"]["model_version"] == "fs-1"
    assert answer["meta"]["tags"]["features_defaulted"] == ""

    status, transformed = _post(served["http_url"] + "/transform-input", {"jsonData": BOOKING})
    assert status == 200
    row = transformed["jsonData"]
    looked_up = FeatureClient(served["feature_server_url"]).lookup(
        [{"origin": "EWR", "tailnum": "N14228", "carrier": "UA", "route": "EWR-ORD"}]
    )[0]
    model_inputs = set(ServingSchema.read(EXAMPLE_SCHEMA).names)
    assert (
        set(row) == model_inputs
    )  # tailnum used for the lookup only; aggregates the model does not read are left out
    for name in model_inputs & set(FEATURE_NAMES):
        assert row[name] == looked_up.values[name], name
    assert row["temp"] is not None and row["plane_year"] == 1999.0

    # What the monitor compares with the training statistics: the rows the model served, store features filled.
    served_rows = _served_rows(Path(served["request_log"]))
    first = served_rows.iloc[0]
    assert first["temp"] == looked_up.values["temp"] and first["plane_year"] == 1999.0


def test_an_unknown_aircraft_takes_the_recorded_defaults_and_says_so(served: dict[str, Any]) -> None:
    rows = [dict(BOOKING, tailnum="N0NE00"), dict(BOOKING, tailnum=None)]
    status, answer = _post(served["http_url"] + "/api/v1.0/predictions", {"jsonData": rows})
    assert status == 200, answer
    assert len(answer["data"]["ndarray"]) == 2
    defaulted = answer["meta"]["tags"]["features_defaulted"].split(",")
    assert defaulted == sorted(feature.name for feature in AIRCRAFT.features)
    status, transformed = _post(served["http_url"] + "/transform-input", {"jsonData": rows[0]})
    assert all(transformed["jsonData"][feature.name] == feature.default for feature in AIRCRAFT.features)
    assert ROUTE_DELAYS.features[0].default == 0  # the count of an unknown route is zero, not missing


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"jsonData": dict(BOOKING, temp=50.0)}, "LOOKED_UP_FEATURE"),
        ({"jsonData": {k: v for k, v in BOOKING.items() if k != "dest"}}, "MISSING_ENTITY"),
        ({"jsonData": dict(BOOKING, origin=7)}, "MISSING_ENTITY"),
        ({"data": {"ndarray": [[1, 2]]}}, "BAD_REQUEST_FORM"),
        ({"jsonData": dict(BOOKING, hour=27)}, None),  # passed on: the model's own schema refuses it
    ],
)
def test_bad_requests_are_refused_with_a_reason(
    served: dict[str, Any], body: Any, reason: str | None
) -> None:
    status, answer = _post(served["http_url"] + "/api/v1.0/predictions", body)
    assert status == 400, answer
    if reason:
        assert answer["status"]["reason"] == reason
    else:
        assert "hour" in answer["status"]["info"]
