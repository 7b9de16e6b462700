"""`mlops serve` serves the production version over real HTTP; `mlops loadtest` loads it; `--stop` ends it."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from ct_support import seed_production
from default_data import default_months

from cli.main import main
from components.ingest.records import feature_records
from components.processes import group_members


def post(url: str, body: object) -> tuple[int, dict]:
    request = urllib.request.Request(url, json.dumps(body).encode(), {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_serve_predict_load_and_stop(
    june_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from components.settings import ProjectSettings

    monkeypatch.setenv("MLOPS_STATE_DIR", str(tmp_path / "state"))
    settings = ProjectSettings.resolve()
    seed_production(settings, june_model)
    capsys.readouterr()

    assert main(["serve", "--port", "0", "--json"]) == 0
    address = json.loads(capsys.readouterr().out)
    try:
        assert address["version"] == "v1" and address["stage"] == "production"
        row = feature_records(default_months([8]), limit=1)[0]
        status, answer = post(address["predictions_url"], {"jsonData": row})
        assert status == 200
        assert answer["meta"]["tags"]["model_version"] == "v1"
        (probability,) = answer["data"]["ndarray"][0]
        assert 0.0 <= probability <= 1.0

        status, answer = post(address["predictions_url"], {"jsonData": {**row, "carrier": "ZZ"}})
        assert status == 400
        assert "carrier" in answer["status"]["info"]

        assert main(["serve", "--port", "0"]) == 1  # one server at a time
        capsys.readouterr()
        url = address["predictions_url"]
        assert main(["loadtest", "--url", url, "--rate", "50", "--duration", "2", "--json"]) == 0
        result = json.loads(capsys.readouterr().out)
        assert result["sent"] == 100 and result["ok"] == 100
        latency, service = result["latency_ms"], result["service_ms"]
        assert 0 < latency["p50"] <= latency["p95"] <= latency["p99"] <= latency["max"]
        # A request's latency includes its send, so no percentile of the send alone can exceed it.
        assert all(service[key] <= latency[key] + 1e-9 for key in ("p50", "p95", "p99", "max"))
    finally:
        assert main(["serve", "--stop"]) == 0
    assert group_members(address["pid"]) == []
    logs = list((tmp_path / "state" / "requests").glob("*.jsonl"))
    assert logs, "the request log was not written"
    lines = [json.loads(line) for log in logs for line in log.read_text().splitlines()]
    assert any(line.get("model_version") == "v1" for line in lines)
