"""The feature server's failures are feature-store errors that name the cause and the log, and leave no
process behind; a healthy server is exercised by the session fixture in ``conftest.py``."""

from __future__ import annotations

from pathlib import Path

import pytest

from components.features.server import FeatureServer, FeatureServerConfig, start_feature_server
from components.processes import group_members
from contracts.errors import FeatureStoreError
from contracts.feature_catalog import CONFIG_FILE


def test_a_feature_server_that_exits_while_starting_names_the_cause_and_keeps_its_log(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / CONFIG_FILE).write_text("project: [unclosed\n", encoding="utf-8")
    server = FeatureServer(FeatureServerConfig(repo=repo, log_dir=tmp_path / "log", startup_timeout=60))
    with pytest.raises(FeatureStoreError) as caught:
        server.start()
    first_line = str(caught.value).splitlines()[0]
    assert first_line.startswith("the feature server exited with status 1 while starting")
    assert "ParserError" in first_line  # Feast's YAML error, lifted from the log
    assert str(tmp_path / "log" / "feature-server.log") in first_line
    assert server.log_path.is_file()
    assert group_members(server.pid) == []


def test_a_repository_without_a_feature_store_is_refused_before_starting(tmp_path: Path) -> None:
    with pytest.raises(FeatureStoreError, match="holds no feature store"):
        start_feature_server(tmp_path)
