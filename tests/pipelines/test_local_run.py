"""The continuous-training pipeline runs end to end through kfp.local and records its lineage."""

from __future__ import annotations

from pathlib import Path

import pytest

from components.ingest.batch_io import write_batch
from components.ingest.logic import load_months
from components.lineage import ExecutionRecord, open_store
from components.settings import ProjectSettings
from pipelines.local_runner import LocalRun, run_pipeline_locally
from pipelines.run_summary import find_run
from pipelines.training import continuous_training


@pytest.fixture
def settings(tmp_path: Path) -> ProjectSettings:
    return ProjectSettings.resolve({}, tmp_path)


def run(settings: ProjectSettings, **arguments: object) -> tuple[LocalRun, list[ExecutionRecord]]:
    outcome = run_pipeline_locally(
        continuous_training, settings, {"code_version": "test-sha", **arguments}, quiet=True
    )
    with open_store(settings.metadata_uri) as store:
        run_id = find_run(store, outcome.request_id)
        assert run_id is not None, outcome.error
        return outcome, store.executions_of_run(run_id)


def test_clean_month_is_validated_and_recorded(settings: ProjectSettings) -> None:
    outcome, steps = run(settings, train_months=[1], eval_month=3, previous_month=2)
    assert outcome.succeeded, outcome.error
    by_name: dict[str, list[ExecutionRecord]] = {}
    for step in steps:
        by_name.setdefault(step.component, []).append(step)
    assert {"ingest", "statistics", "validate", "gate"} <= set(by_name)
    assert all(step.state.value == "COMPLETE" and step.version == "test-sha" for step in steps)
    rows = sorted(step.outputs[0].properties["rows"] for step in by_name["ingest"])
    assert rows == [23_611, 27_902]  # February (previous) and March (new)
    (validation,) = by_name["validate"]
    assert validation.outputs[0].properties["verdict"] in {"proceed", "retrain"}
    assert [a.type for a in validation.inputs] == ["Statistics", "Statistics", "Schema"]


def test_bad_user_batch_halts_before_training_with_the_anomaly_named(
    settings: ProjectSettings, tmp_path: Path
) -> None:
    bad = load_months([8]).iloc[:2_000].copy()
    bad.loc[:40, "carrier"] = "ZZ"
    user_file = write_batch(bad, tmp_path / "bad.csv")
    outcome, steps = run(settings, data_file=str(user_file))
    assert not outcome.succeeded
    (gate,) = [step for step in steps if step.component == "gate"]
    assert gate.state.value == "FAILED"
    assert "carrier: ENUM_TYPE_UNEXPECTED_STRING_VALUES" in (gate.error_message or "")
    assert [s.component for s in steps if s.component in {"train", "register"}] == []
    (ingest,) = [s for s in steps if s.component == "ingest" and s.inputs]
    assert [artifact.uri for artifact in ingest.inputs] == [str(user_file)]
