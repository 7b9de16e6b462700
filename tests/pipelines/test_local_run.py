"""The continuous-training pipeline runs end to end through kfp.local and records its lineage."""

from __future__ import annotations

from pathlib import Path

import pytest

from components.ingest.batch_io import write_batch
from components.ingest.logic import load_months
from components.lineage import open_store
from components.settings import ProjectSettings
from pipelines.local_runner import run_pipeline_locally
from pipelines.run_summary import find_run
from pipelines.training import continuous_training


@pytest.fixture
def settings(tmp_path: Path) -> ProjectSettings:
    return ProjectSettings.resolve({}, tmp_path)


def test_default_run_records_ingest_with_its_batch(settings: ProjectSettings) -> None:
    outcome = run_pipeline_locally(
        continuous_training, settings, {"code_version": "test-sha", "train_months": [2]}, quiet=True
    )
    assert outcome.succeeded, outcome.error
    with open_store(settings.metadata_uri) as store:
        run_id = find_run(store, outcome.request_id)
        assert run_id is not None
        steps = {record.component: record for record in store.executions_of_run(run_id)}
    ingest = steps["ingest"]
    assert ingest.state.value == "COMPLETE"
    assert ingest.version == "test-sha"
    assert ingest.parameters["months"] == "2"
    assert ingest.duration_seconds > 0
    (batch,) = ingest.outputs
    assert batch.type == "Dataset"
    assert batch.properties["rows"] == 23_611
    assert Path(batch.uri).is_dir()


def test_user_file_is_recorded_as_the_source(settings: ProjectSettings, tmp_path: Path) -> None:
    user_file = write_batch(load_months([3]).iloc[:100], tmp_path / "mine.csv")
    outcome = run_pipeline_locally(
        continuous_training, settings, {"code_version": "test-sha", "data_file": str(user_file)}, quiet=True
    )
    assert outcome.succeeded, outcome.error
    with open_store(settings.metadata_uri) as store:
        run_id = find_run(store, outcome.request_id)
        assert run_id is not None
        (ingest,) = [r for r in store.executions_of_run(run_id) if r.component == "ingest"]
    assert [artifact.uri for artifact in ingest.inputs] == [str(user_file)]
