"""The model served for real by seldon-core-microservice on 127.0.0.1: once over HTTP, once over gRPC."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import json_format
from seldon_core.proto import prediction_pb2, prediction_pb2_grpc

from components.processes import ModelServer, group_members, serve_model

from .conftest import GOOD_RECORD, MODEL_VERSION


@pytest.fixture(scope="module")
def server(model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModelServer]:
    log = tmp_path_factory.mktemp("request-log")
    running = serve_model(model_dir, request_log=log, workers=2, threads=4, grpc_workers=1)
    members = group_members(running.pid)
    yield running
    running.stop()
    assert group_members(running.pid) == [] and members


def _post(server: ModelServer, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        f"{server.http_url}/api/v1.0/predictions",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _grpc_predict(server: ModelServer, body: dict[str, Any]) -> prediction_pb2.SeldonMessage:
    with grpc.insecure_channel(server.grpc_target) as channel:
        stub = prediction_pb2_grpc.ModelStub(channel)
        return stub.Predict(json_format.ParseDict(body, prediction_pb2.SeldonMessage()), timeout=10)


def _ndarray(records: list[dict[str, Any]], puid: str) -> dict[str, Any]:
    names = list(records[0])
    return {
        "data": {"names": names, "ndarray": [[r[n] for n in names] for r in records]},
        "meta": {"puid": puid},
    }


RECORDS = [GOOD_RECORD, dict(GOOD_RECORD, hour=6, temp=None, dest="XNA")]


def test_http_answers_good_and_refuses_bad(server: ModelServer) -> None:
    status, body = _post(server, _ndarray(RECORDS, "http-1"))
    assert status == 200
    assert body["data"]["names"] == ["delay_probability"] and len(body["data"]["ndarray"]) == 2
    assert body["meta"]["tags"]["model_version"] == MODEL_VERSION and body["meta"]["puid"] == "http-1"
    assert "metrics" not in body["meta"]  # the manager keeps metrics out of response bodies
    status, body = _post(server, {"jsonData": dict(GOOD_RECORD, origin="BOS")})
    assert status == 400 and '"origin"' in body["status"]["info"]


def test_grpc_gives_the_same_probabilities_and_refuses_in_band(server: ModelServer) -> None:
    _, over_http = _post(server, _ndarray(RECORDS, "http-2"))
    response = _grpc_predict(server, _ndarray(RECORDS, "grpc-1"))
    probabilities = json_format.MessageToDict(response)["data"]["ndarray"]
    flat = [row[0] for row in probabilities]
    assert flat == pytest.approx([row[0] for row in over_http["data"]["ndarray"]], abs=1e-7)
    assert response.meta.puid == "grpc-1"
    assert response.meta.tags["model_version"].string_value == MODEL_VERSION
    refused = _grpc_predict(server, {"jsonData": dict(GOOD_RECORD, wind_speed=-5)})
    assert refused.status.status == prediction_pb2.Status.FAILURE
    assert refused.status.code == 400 and refused.status.reason == "OUT_OF_RANGE"
    assert '"wind_speed"' in refused.status.info


def test_prometheus_endpoint_exposes_the_custom_metrics(server: ModelServer) -> None:
    _post(server, {"jsonData": GOOD_RECORD})
    with urllib.request.urlopen(server.metrics_url, timeout=5) as response:
        text = response.read().decode()
    assert "flight_delay_requests_total{" in text and 'outcome="ok"' in text
    assert "flight_delay_score_total{" in text


def test_request_log_has_one_file_per_server_process(server: ModelServer) -> None:
    _post(server, _ndarray(RECORDS, "log-http"))
    _grpc_predict(server, _ndarray(RECORDS, "log-grpc"))
    log_dir = Path(json.loads(server.command()[-1])[1]["value"])
    found: dict[str, dict[str, Any]] = {}
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not {"log-http", "log-grpc"} <= found.keys():
        time.sleep(0.05)
        for path in log_dir.glob("requests-*.jsonl"):
            for line in path.read_text().splitlines():
                record = json.loads(line)
                found[record["request_id"]] = dict(record, file=path.name)
    assert found["log-http"]["protocol"] == "rest" and found["log-grpc"]["protocol"] == "grpc"
    assert found["log-http"]["file"] != found["log-grpc"]["file"]  # different worker processes
    assert found["log-grpc"]["rows"] == 2 and found["log-grpc"]["features"]["dest"] == ["ORD", "XNA"]
