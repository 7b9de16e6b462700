"""Shared by the pipeline tests: quick pipeline runs, and a production model registered without a run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from default_data import default_months

from cli.main import main
from components.evaluate.logic import evaluate_artifact
from components.evaluate.results import registry_metrics
from components.evaluate.thresholds import load_thresholds
from components.lineage import open_store
from components.registry import MODEL_VERSION_TYPE, ModelRegistry, version_properties
from components.schema.logic import load_schema
from components.schema.serving import write_serving_schema
from components.settings import ProjectSettings
from components.train.artifact import export_model
from components.train.hyperparameters import HyperParameters
from components.train.logic import train_model
from contracts.data_contract import FEATURE_NAMES
from pipelines.local_runner import LocalRun, run_pipeline_locally
from pipelines.training import continuous_training

# Quick: one month to learn from (July AUC ~0.73); the loop is what is under test, not the model.
FAST = {"train_months": [6], "eval_month": 7, "previous_month": 6, "epochs": 4}


def run(settings: ProjectSettings, **arguments: object) -> LocalRun:
    """One continuous-training run with the quick defaults, its logs in the state folder."""
    return run_pipeline_locally(
        continuous_training, settings, {"code_version": "test-sha", **FAST, **arguments}, quiet=True
    )


def train_june_model(model_dir: Path) -> Path:
    """The model ``FAST`` trains, made in-process (no pipeline) to stand in as production."""
    trained = train_model(default_months([6]), HyperParameters(epochs=4))
    export_model(trained, model_dir)
    write_serving_schema(load_schema(), FEATURE_NAMES, model_dir)
    return model_dir


def seed_production(settings: ProjectSettings, model_dir: Path) -> str:
    """Registers ``model_dir`` as the production version, as a register step would, and returns its name."""
    metrics = registry_metrics(
        evaluate_artifact(
            model_dir, default_months([7]), model_name="seed", thresholds=load_thresholds(), importance_rows=0
        )
    )
    with open_store(settings.metadata_uri) as store:
        with store.execution(
            run_id="seed", pipeline="seed", component="register", version="test-sha"
        ) as step:
            properties = version_properties(metrics=metrics, blessed=True, checks=[])
            step.add_output("model_version", MODEL_VERSION_TYPE, uri=str(model_dir), properties=properties)
        registry = ModelRegistry(store, lock_path=settings.registry_lock, actor="test")
        version = registry.register(step.record.outputs[0].id, reason="seeded by the test")
        return registry.promote(version.version, reason="seeded by the test").version


def command_json(capsys: pytest.CaptureFixture[str], *argv: str, code: int = 0) -> dict:
    """Runs ``mlops ARGV --json`` in-process, checks its exit code and returns its JSON output."""
    capsys.readouterr()
    assert main([*argv, "--json"]) == code
    return dict(json.loads(capsys.readouterr().out))
