"""The Seldon input transformer, for real: feature server, model server and transformer as processes on
127.0.0.1; a client sends only booking-time fields."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from components.features.catalog import AIRCRAFT, FEATURE_NAMES, ROUTE_DELAYS
from components.features.client import FeatureClient
from components.features.server import FeatureServer
from components.serving.fixture_model import build_model_folder
from components.serving.process import ModelServer, ServerConfig, serve_model, start_server
from components.serving.schema import ServingSchema

EXAMPLE_SCHEMA = (
    Path(__file__).resolve().parents[2] / "components" / "serving" / "serving_schema.example.json"
)
TRANSFORMER_CLASS = "components.features.transformer.FeatureTransformer"
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
def transformer(feature_server: FeatureServer, model_dir: Path) -> Iterator[ModelServer]:
    with serve_model(model_dir, model_version="fs-1", grpc_workers=0) as model:
        config = ServerConfig(
            model_class=TRANSFORMER_CLASS,
            parameters={
                "feature_server_url": feature_server.url,
                "model_uri": str(model_dir),
                "model_url": model.http_url,
            },
            grpc_workers=0,
        )
        with start_server(config) as server:
            yield server


def _post(url: str, body: Any) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_a_booking_time_request_is_answered_with_store_features_filled(
    transformer: ModelServer, feature_server: FeatureServer
) -> None:
    status, answer = _post(transformer.http_url + "/api/v1.0/predictions", {"jsonData": BOOKING})
    assert status == 200, answer
    probability = answer["data"]["ndarray"][0][0]
    assert 0.0 <= probability <= 1.0
    assert answer["meta"]["tags"]["model_version"] == "fs-1"
    assert answer["meta"]["tags"]["features_defaulted"] == ""

    status, transformed = _post(transformer.http_url + "/transform-input", {"jsonData": BOOKING})
    assert status == 200
    row = transformed["jsonData"]
    looked_up = FeatureClient(feature_server.url).lookup(
        [{"origin": "EWR", "tailnum": "N14228", "carrier": "UA", "route": "EWR-ORD"}]
    )[0]
    model_inputs = set(ServingSchema.read(EXAMPLE_SCHEMA).names)
    assert (
        set(row) == model_inputs
    )  # tailnum used for the lookup only; aggregates the model does not read are left out
    for name in model_inputs & set(FEATURE_NAMES):
        assert row[name] == looked_up.values[name], name
    assert row["temp"] is not None and row["plane_year"] == 1999.0


def test_an_unknown_aircraft_takes_the_recorded_defaults_and_says_so(transformer: ModelServer) -> None:
    rows = [dict(BOOKING, tailnum="N0NE00"), dict(BOOKING, tailnum=None)]
    status, answer = _post(transformer.http_url + "/api/v1.0/predictions", {"jsonData": rows})
    assert status == 200, answer
    assert len(answer["data"]["ndarray"]) == 2
    defaulted = answer["meta"]["tags"]["features_defaulted"].split(",")
    assert defaulted == sorted(feature.name for feature in AIRCRAFT.features)
    status, transformed = _post(transformer.http_url + "/transform-input", {"jsonData": rows[0]})
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
    transformer: ModelServer, body: Any, reason: str | None
) -> None:
    status, answer = _post(transformer.http_url + "/api/v1.0/predictions", body)
    assert status == 400, answer
    if reason:
        assert answer["status"]["reason"] == reason
    else:
        assert "hour" in answer["status"]["info"]
