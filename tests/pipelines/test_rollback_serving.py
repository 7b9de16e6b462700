"""A rollback switches what is served: after `mlops models rollback`, the registry, the lineage and the
`model_version` tag of a live prediction all name the restored version."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest
from ct_support import command_json, seed_production
from default_data import default_months

from cli.main import main
from components.ingest.records import feature_records
from components.processes import group_members
from components.settings import ProjectSettings


def served_version(url: str, row: dict) -> str:
    body = json.dumps({"jsonData": row}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return str(json.loads(response.read())["meta"]["tags"]["model_version"])


def test_rollback_restarts_the_running_server_on_the_restored_version(
    june_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MLOPS_STATE_DIR", str(tmp_path / "state"))
    settings = ProjectSettings.resolve()
    assert seed_production(settings, june_model) == "v1"
    assert seed_production(settings, june_model) == "v2"
    row = feature_records(default_months([8]), limit=1)[0]

    first = command_json(capsys, "serve", "--port", "0")
    restarted: dict | None = None
    try:
        assert served_version(first["predictions_url"], row) == "v2"
        rollback = command_json(capsys, "models", "rollback")
        assert rollback["production"]["version"] == "v1"
        assert rollback["rolled_back"]["version"] == "v2"
        restarted = rollback["served"]
        assert restarted is not None and restarted["version"] == "v1"
        assert group_members(first["pid"]) == [], "the v2 server is still running"
        assert served_version(restarted["predictions_url"], row) == "v1"
        listed = command_json(capsys, "models", "list")
        assert listed["production"] == "v1"
        lineage = command_json(capsys, "lineage", "v1")
        assert lineage["version"]["version"] == "v1" and lineage["version"]["stage"] == "production"
        # A second rollback has nothing to go back to: refused, and the server keeps serving v1.
        assert main(["models", "rollback"]) == 1
        assert served_version(restarted["predictions_url"], row) == "v1"
    finally:
        assert main(["serve", "--stop"]) == 0
    assert restarted is not None and group_members(restarted["pid"]) == []


def test_a_server_of_a_pinned_version_is_left_alone(
    june_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MLOPS_STATE_DIR", str(tmp_path / "state"))
    settings = ProjectSettings.resolve()
    seed_production(settings, june_model)
    seed_production(settings, june_model)
    pinned = command_json(capsys, "serve", "v2", "--port", "0")
    try:
        assert command_json(capsys, "models", "rollback")["served"] is None
        assert group_members(pinned["pid"]) != []
    finally:
        assert main(["serve", "--stop"]) == 0
