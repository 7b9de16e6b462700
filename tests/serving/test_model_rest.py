"""The model class behind Seldon's own Flask app (in process): API contract, refusals, health, metrics, log."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from seldon_core import wrapper
from seldon_core.metrics import SeldonMetrics

from components.serving.model import FlightDelayModel, RequestIds, local_model_dir
from components.serving.rest_hooks import MAX_BODY_BYTES
from contracts.errors import ModelUnavailableError
from contracts.serving_schema import ServingSchema

from .conftest import GOOD_RECORD, MODEL_VERSION, drop_feature_from_schema_and_inputs

PREDICT = "/api/v1.0/predictions"


@pytest.fixture(scope="module")
def served(
    model_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[FlightDelayModel, Any]]:
    model = FlightDelayModel(model_uri=str(model_dir), request_log=str(tmp_path_factory.mktemp("log")))
    model.load()
    metrics = SeldonMetrics()
    yield model, (wrapper.get_rest_microservice(model, metrics).test_client(), metrics)


@pytest.fixture()
def client(served: tuple[FlightDelayModel, Any]) -> FlaskClient:
    return served[1][0]


def _ndarray(records: list[dict[str, Any]]) -> dict[str, Any]:
    names = list(records[0])
    return {"data": {"names": names, "ndarray": [[r[n] for n in names] for r in records]}}


def test_a_prediction_carries_probabilities_names_version_and_request_id(client: FlaskClient) -> None:
    records = [GOOD_RECORD, dict(GOOD_RECORD, hour=6, temp=None, carrier="B6")]
    response = client.post(PREDICT, json={**_ndarray(records), "meta": {"puid": "req-1"}})
    assert response.status_code == 200
    body = response.get_json()
    assert body["data"]["names"] == ["delay_probability"]
    rows = body["data"]["ndarray"]
    assert len(rows) == 2 and all(len(row) == 1 and 0.0 < row[0] < 1.0 for row in rows)
    assert rows[0] != rows[1]
    assert body["meta"]["puid"] == "req-1"
    assert body["meta"]["tags"] == {"model_name": "flight-delay", "model_version": MODEL_VERSION}
    again = client.post(PREDICT, json={"jsonData": records}).get_json()
    assert again["data"]["ndarray"] == rows
    generated = again["meta"]["puid"]  # when the caller sends none
    assert len(generated) == 22 and int(generated, 16) >= 0
    third = client.post(PREDICT, json={"jsonData": records}).get_json()["meta"]["puid"]
    assert third != generated and third[:12] == generated[:12]  # one process: one prefix, a counter


@pytest.mark.parametrize(
    ("body", "status", "reason", "fragment"),
    [
        (
            {"jsonData": {k: v for k, v in GOOD_RECORD.items() if k != "dest"}},
            400,
            "MISSING_FEATURE",
            '"dest"',
        ),
        ({"jsonData": dict(GOOD_RECORD, hour="5pm")}, 400, "WRONG_TYPE", '"hour"'),
        ({"jsonData": dict(GOOD_RECORD, carrier="ZZ")}, 400, "UNKNOWN_CATEGORY", '"carrier"'),
        ({"jsonData": dict(GOOD_RECORD, sched_dep_time=float("nan"))}, 400, "NOT_FINITE", '"sched_dep_time"'),
        ({"data": {"names": ["day", "hour"], "ndarray": [[1]]}}, 400, "BAD_SHAPE", "row 0"),
        ({"jsonData": []}, 400, "EMPTY_BATCH", "empty"),
        ({"jsonData": [GOOD_RECORD] * 1001}, 413, "TOO_MANY_ROWS", "1001 rows"),
    ],
)
def test_each_bad_request_class_gets_a_4xx_naming_the_field(
    client: FlaskClient, body: dict[str, Any], status: int, reason: str, fragment: str
) -> None:
    response = client.post(PREDICT, data=json.dumps(body), content_type="application/json")
    assert response.status_code == status
    answer = response.get_json()
    assert answer["status"]["reason"] == reason and answer["status"]["status"] == "FAILURE"
    assert answer["status"]["code"] == status
    assert fragment in answer["status"]["info"]
    assert answer["meta"]["tags"]["model_version"] == MODEL_VERSION


@pytest.mark.parametrize(
    "raw",
    [b'{"jsonData": ', b"\xff\xfe", b"null", b"[" * 100_000 + b"]" * 100_000, b""],
    ids=["truncated", "not-utf8", "null", "nested-100k", "empty"],
)
def test_undecodable_bodies_get_400_not_500(client: FlaskClient, raw: bytes) -> None:
    response = client.post(PREDICT, data=raw, content_type="application/json")
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("PUT", PREDICT, b"{}", 405),
        ("GET", "/api/v1.0/no-such-endpoint", None, 404),
        ("POST", PREDICT, b'{"jsonData": "' + b"x" * (MAX_BODY_BYTES + 1) + b'"}', 413),
    ],
    ids=["wrong-method", "unknown-path", "body-too-large"],
)
def test_http_level_client_errors_keep_their_4xx(
    client: FlaskClient, method: str, path: str, body: bytes | None, status: int
) -> None:
    response = client.open(path, method=method, data=body, content_type="application/json")
    assert response.status_code == status
    assert response.get_json()["status"]["code"] == status


def test_health_status_runs_the_model_on_a_canned_row(client: FlaskClient) -> None:
    response = client.get("/health/status")
    assert response.status_code == 200
    health = response.get_json()["jsonData"]
    assert health["status"] == "ok" and health["model_version"] == MODEL_VERSION
    assert 0.0 < health["probe_probability"] < 1.0


def test_health_status_fails_when_the_model_cannot_answer(model_dir: Path) -> None:
    model = FlightDelayModel(model_uri=str(model_dir))  # never loaded
    client = wrapper.get_rest_microservice(model, SeldonMetrics()).test_client()
    assert client.get("/health/status").status_code == 503
    assert client.post(PREDICT, json={"jsonData": GOOD_RECORD}).status_code == 503


def test_metadata_lists_the_schema(client: FlaskClient, schema: ServingSchema) -> None:
    metadata = client.get("/api/v1.0/metadata").get_json()
    assert metadata["versions"] == [MODEL_VERSION]
    json_input = next(item for item in metadata["inputs"] if item["messagetype"] == "jsonData")
    assert [feature["name"] for feature in json_input["schema"]["features"]] == list(schema.names)


def test_custom_metrics_count_outcomes_and_score_bins(served: tuple[FlightDelayModel, Any]) -> None:
    client, seldon_metrics = served[1]
    client.post(PREDICT, json={"jsonData": [GOOD_RECORD] * 3})
    client.post(PREDICT, json={"jsonData": dict(GOOD_RECORD, origin="BOS")})
    client.get("/health/status")  # publishes what the current flush interval has counted
    exposition = wrapper.get_metrics_microservice(seldon_metrics).test_client().get(wrapper.METRICS_ENDPOINT)
    text = exposition.get_data(as_text=True)

    def value(name: str, *labels: str) -> float:
        lines = [
            line
            for line in text.splitlines()
            if line.startswith(name + "{") and all(label in line for label in labels)
        ]
        return sum(float(line.rsplit(" ", 1)[1]) for line in lines)

    assert value("flight_delay_requests_total", 'outcome="ok"') >= 1
    assert value("flight_delay_requests_total", 'outcome="rejected"', 'reason="UNKNOWN_CATEGORY"') >= 1
    assert value("flight_delay_rows_total") >= 3
    assert value("flight_delay_score_total") == value("flight_delay_rows_total")


def test_request_log_holds_answers_and_refusals(served: tuple[FlightDelayModel, Any]) -> None:
    model, (client, _) = served
    client.post(PREDICT, json={"jsonData": dict(GOOD_RECORD, wind_dir=None), "meta": {"puid": "logged-1"}})
    client.post(PREDICT, json={"jsonData": dict(GOOD_RECORD, day=0), "meta": {"puid": "logged-2"}})
    assert model.request_log is not None
    path = model.request_log.path
    records: dict[str, Any] = {}
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not {"logged-1", "logged-2"} <= records.keys():
        time.sleep(0.02)
        records = {r["request_id"]: r for r in map(json.loads, path.read_text().splitlines())}
    served_line, refused_line = records["logged-1"], records["logged-2"]
    assert served_line["outcome"] == "ok" and served_line["model_version"] == MODEL_VERSION
    assert served_line["features"]["wind_dir"] == [None] and served_line["features"]["carrier"] == ["UA"]
    assert len(served_line["predictions"]) == 1 and 0 < served_line["predictions"][0] < 1
    assert served_line["ts"].endswith("Z") and served_line["protocol"] == "rest"
    assert refused_line["outcome"] == "rejected" and refused_line["reason"] == "OUT_OF_RANGE"
    assert '"day"' in refused_line["error"] and refused_line["status"] == 400


def test_model_folder_problems_stop_the_start(model_copy: Path) -> None:
    with pytest.raises(ModelUnavailableError, match="only local paths and file:// URIs"):
        local_model_dir("s3://bucket/model")
    assert local_model_dir(model_copy.as_uri()) == model_copy.resolve()
    with pytest.raises(ModelUnavailableError, match="does not exist"):
        FlightDelayModel(model_uri=str(model_copy / "absent"))
    metadata = json.loads((model_copy / "model.json").read_text())
    del metadata["version"]
    (model_copy / "model.json").write_text(json.dumps(metadata))
    with pytest.raises(ModelUnavailableError, match="no model_version"):
        FlightDelayModel(model_uri=str(model_copy))
    assert FlightDelayModel(model_uri=str(model_copy), model_version="9").tags()["model_version"] == "9"
    metadata["inputs"] = [item for item in metadata["inputs"] if item["name"] != "visib"]
    (model_copy / "model.json").write_text(json.dumps(metadata))
    with pytest.raises(ModelUnavailableError, match=r"differ on \['visib'\]"):
        FlightDelayModel(model_uri=str(model_copy), model_version="9")


def test_a_schema_that_does_not_match_the_model_stops_the_load(model_copy: Path) -> None:
    drop_feature_from_schema_and_inputs(model_copy, "precip")
    model = FlightDelayModel(model_uri=str(model_copy), backend="tflite")
    with pytest.raises(ModelUnavailableError, match=r"inputs and the serving schema differ on \['precip'\]"):
        model.load()
    (model_copy / "model.tflite").unlink()
    with pytest.raises(ModelUnavailableError, match="cannot read the TFLite core"):
        model.load()


def test_generated_request_ids_differ_between_forked_workers() -> None:
    ids = RequestIds()
    parent = ids.next()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # a gunicorn worker inherits the object built in the master
        os.write(write, ids.next().encode())
        os._exit(0)
    os.waitpid(pid, 0)
    child = os.read(read, 64).decode()
    assert len(child) == 22 and child[:12] != parent[:12]


def test_loading_takes_the_loaded_objects_out_of_the_collectors_sight(model_dir: Path) -> None:
    import gc

    from doubles.echo import EchoModel

    for server in (FlightDelayModel(model_uri=str(model_dir)), EchoModel()):
        gc.unfreeze()
        server.load()
        # Seldon, Flask, numpy and the model: tens of thousands of objects a full collection no longer walks.
        frozen = gc.get_freeze_count()
        assert frozen > 50_000 and len(gc.get_objects()) < frozen / 10, type(server).__name__
