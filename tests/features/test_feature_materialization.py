"""`mlops features materialize` runs the feature-materialisation pipeline through kfp.local: it records
itself in ML Metadata and loads only what came since the previous run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from cli.main import main
from cli.run_summary import find_run
from components.features.environment import FeatureEnvironment
from components.lineage import open_store
from components.settings import ProjectSettings
from contracts.feature_catalog import VIEWS

AUGUST = "2013-08-01T00:00:00+00:00"


def _materialize(capsys: pytest.CaptureFixture[str]) -> dict:
    capsys.readouterr()
    assert main(["features", "materialize", "--end", AUGUST, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_materialisation_is_a_recorded_incremental_pipeline_run(
    feature_env: FeatureEnvironment,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("MLOPS_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.delenv("MLOPS_FEATURE_REPO")  # this state folder's own store, not the session's
    settings = ProjectSettings.resolve()
    # A copy of the shared store (materialised up to July, conftest.MATERIALIZED_UNTIL), so the other tests keep theirs as it is.
    shutil.copytree(feature_env.repo, settings.feature_repo)

    first = _materialize(capsys)
    assert first["materialized_until"] == AUGUST
    assert first["views_loaded"].split(",") == [view.name for view in VIEWS]
    assert not first["applied"]  # the store existed: nothing rebuilt

    second = _materialize(capsys)
    assert second["views_loaded"] == ""  # everything already loaded up to August

    with open_store(settings.metadata_uri) as store:
        run_id = find_run(store, first["run"])
        assert run_id is not None
        (execution,) = store.executions_of_run(run_id)
    assert execution.component == "materialize-features"
    assert execution.parameters["end"] == AUGUST
    assert execution.outputs[0].uri == str(settings.feature_repo)
