"""An experiment runs the production pipeline once per parameter set, registers candidates without
promoting them, compares them on one month, and promotes the chosen one only through the same blessing
against production, on the same rows, as any run."""

from __future__ import annotations

from pathlib import Path

import pytest
from ct_support import command_json, seed_production
from default_data import default_months

from cli.main import main
from components.evaluate.results import CANDIDATE_FILE, PRODUCTION_FILE, load_result
from components.lineage import open_store
from components.registry import ModelRegistry
from components.schema.logic import load_schema
from components.schema.serving import write_serving_schema
from components.settings import ProjectSettings
from components.train.artifact import export_model
from components.train.hyperparameters import HyperParameters
from components.train.logic import train_model
from contracts.data_contract import FEATURE_NAMES


@pytest.fixture(scope="module")
def weak_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A production model a real run beats: three epochs on a sample of June (a sixth of the month)."""
    model_dir = tmp_path_factory.mktemp("weak") / "model"
    sample = default_months([6]).sample(n=5_000, random_state=1)
    export_model(train_model(sample, HyperParameters(epochs=3)), model_dir)
    write_serving_schema(load_schema(), FEATURE_NAMES, model_dir)
    return model_dir


def test_a_sweep_is_compared_and_its_winner_promoted_against_production_on_the_same_rows(
    weak_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MLOPS_STATE_DIR", str(tmp_path / "state"))
    settings = ProjectSettings.resolve()
    assert seed_production(settings, weak_model) == "v1"

    sweep = ["experiment", "run", "sweep", "--set", "months=6", "--set", "epochs=3"]
    compared = command_json(capsys, *sweep, "--grid", "learning_rate=0.001,0.003")
    runs = compared["runs"]
    assert [run["label"] for run in runs] == ["r1", "r2"]
    assert [run["parameters"]["learning_rate"] for run in runs] == [0.001, 0.003]
    assert all(run["succeeded"] and run["eval_month"] == 7 for run in runs)
    assert all(run["stage"] == "candidate" and run["auc"] > 0.6 for run in runs)
    assert all(set(run["auc_by_origin"]) == {"EWR", "JFK", "LGA"} for run in runs)
    assert all(run["training_seconds"] > 0 and run["model_size_mb"] > 0 for run in runs)
    assert sorted(run["mark"] for run in runs)[0] == "best"
    with open_store(settings.metadata_uri) as store:
        assert ModelRegistry(store).production().version == "v1"  # type: ignore[union-attr]

    best = next(run for run in runs if run["mark"] == "best")
    promoted = command_json(capsys, "experiment", "promote", "sweep", best["label"], "--production")
    assert promoted == {**promoted, "version": best["version"], "stage": "production", "blessed": True}
    assert promoted["compared_with"] == "v1"
    evaluated = Path(promoted["evaluated_on"]) / "evaluation"
    candidate, production = load_result(evaluated / CANDIDATE_FILE), load_result(evaluated / PRODUCTION_FILE)
    assert candidate.data_fingerprint == production.data_fingerprint
    assert candidate.overall.rows == production.overall.rows > 20_000
    with open_store(settings.metadata_uri) as store:
        registry = ModelRegistry(store)
        assert registry.production().version == best["version"]  # type: ignore[union-attr]
        assert registry.get("v1").stage.value == "archived"
        (judged,) = [e for e in store.list_runs() if e.pipeline == "experiment-promotion"]
        (step,) = store.executions_of_run(judged.run_id)
        assert {artifact.type for artifact in step.inputs} == {"Model"}
        assert len(step.inputs) == 2  # the candidate and the production model it was judged against

    # A promoted run is no longer a candidate; the other one still is, and can be judged later.
    assert main(["experiment", "promote", "sweep", best["label"]]) == 1
    other = next(run for run in runs if run["label"] != best["label"])
    with open_store(settings.metadata_uri) as store:
        assert ModelRegistry(store).get(other["version"]).stage.value == "candidate"
