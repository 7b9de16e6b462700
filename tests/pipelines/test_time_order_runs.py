"""A model is never judged on data it trained on: the CLI refuses such a run before anything runs, and
the pipeline itself halts one started with overlapping windows (as a KFP run with any parameters could)."""

from __future__ import annotations

from pathlib import Path

import pytest
from ct_support import run
from default_data import default_months

from cli.main import main
from cli.run_summary import find_run, summarise_run
from components.lineage import open_store
from components.registry import ModelRegistry
from components.settings import ProjectSettings


def nothing_registered(state: Path) -> bool:
    settings = ProjectSettings.resolve({"MLOPS_STATE_DIR": str(state)}, Path.cwd())
    if not Path(settings.metadata_uri.removeprefix("sqlite:///")).exists():
        return True
    with open_store(settings.metadata_uri) as store:
        return ModelRegistry(store).list_versions() == [] and store.artifacts_of_type("Model") == []


def refusal(capsys: pytest.CaptureFixture[str]) -> str:
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1 and "Traceback" not in captured.err, captured.err
    return lines[0]


def test_a_window_ending_in_december_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MLOPS_STATE_DIR", str(tmp_path / "state"))
    assert main(["run", "--months", "1-12"]) == 1
    assert refusal(capsys).startswith("mlops: error: months 1-12 leave no later month of 2013")
    assert nothing_registered(tmp_path / "state")


def test_a_users_batch_inside_the_window_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    june = default_months([6]).sample(n=300, random_state=5)
    batch = tmp_path / "june.csv"
    june.to_csv(batch, index=False)
    monkeypatch.setenv("MLOPS_STATE_DIR", str(tmp_path / "state"))
    assert main(["run", "--months", "1-6", "--data", str(batch)]) == 1
    line = refusal(capsys)
    assert "new batch june.csv overlaps the training data: 300 of its 300 rows" in line
    assert "2013-06-" in line
    assert nothing_registered(tmp_path / "state")


def test_a_pipeline_run_with_overlapping_windows_halts_before_training(tmp_path: Path) -> None:
    settings = ProjectSettings.resolve({}, tmp_path)
    outcome = run(settings, train_months=[6], eval_month=6, previous_month=5)
    assert not outcome.succeeded
    with open_store(settings.metadata_uri) as store:
        summary = summarise_run(store, find_run(store, outcome.request_id), outcome)
        assert ModelRegistry(store).list_versions() == []
    (failure,) = summary["failures"]
    assert failure.startswith("time-order: TimeOrderError")
    assert "overlaps the training data" in failure and "2013-06-30" in failure
    assert sorted(summary["validation"]) == ["new batch: proceed", "training batch: proceed"]
    assert not {"train", "evaluate", "register"} & {step["component"] for step in summary["steps"]}
