"""The continuous-training loop through kfp.local, one scenario per registry.

First model -> production; a worse candidate (shuffled labels) -> rejected with production unchanged;
an over-budget candidate -> rejected (its steps in process); a better candidate -> promoted, then rolled back.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest
from ct_support import run, seed_production
from default_data import default_months

from components.evaluate.blessing import load_verdict
from components.evaluate.step import evaluate_step
from components.infra_validate.step import infra_validate_step
from components.ingest.batch_io import write_batch
from components.ingest.step import feature_store, materialise_batch
from components.lineage import open_store, recorded_step
from components.register.step import combine_blessing, register_version
from components.registry import MODEL_VERSION_TYPE, ModelRegistry, version_properties
from components.registry.report import version_lineage
from components.settings import ProjectSettings
from components.statistics.logic import read_statistics
from components.validation.logic import read_anomalies
from components.validation.report import ANOMALIES_FILE, REPORT_FILE, read_report
from contracts.data_contract import FEATURE_NAMES, LABEL
from contracts.names import MODEL_NAME


@pytest.fixture
def settings(tmp_path: Path) -> ProjectSettings:
    return ProjectSettings.resolve({}, tmp_path)


@pytest.fixture
def with_production(settings: ProjectSettings, june_model: Path) -> ProjectSettings:
    assert seed_production(settings, june_model) == "v1"
    return settings


def test_first_model_goes_to_production_with_its_lineage(settings: ProjectSettings) -> None:
    started = time.monotonic()
    outcome = run(settings)
    wall_seconds = time.monotonic() - started
    assert outcome.succeeded, outcome.error
    with open_store(settings.metadata_uri) as store:
        registry = ModelRegistry(store)
        production = registry.production()
        assert production is not None and production.version == "v1"
        assert production.blessed
        assert production.metrics["auc"] > 0.65
        assert set(production.metrics["auc_by_origin"]) == {"EWR", "JFK", "LGA"}
        assert not any(check["name"].endswith("vs_production") for check in production.blessing_checks)
        report = version_lineage(store, registry, "v1")
    components = [step["component"] for step in report["steps"]]
    for expected in (
        "ingest",
        "validate",
        "gate",
        "time-order",
        "train",
        "evaluate",
        "infra-validate",
        "register",
    ):
        assert expected in components, expected
    assert all(step["code_version"] == "test-sha" for step in report["steps"])
    # The steps ran one after another inside the run's own wall time, and training took real time.
    durations = [(step["component"], step["duration_seconds"]) for step in report["steps"]]
    assert all(seconds >= 0 for _, seconds in durations)
    assert sum(seconds for _, seconds in durations) <= wall_seconds
    assert all(seconds > 0 for component, seconds in durations if component == "train")
    assert_artifacts_are_what_they_promise(settings, registry_run_id(settings))


def registry_run_id(settings: ProjectSettings) -> str:
    with open_store(settings.metadata_uri) as store:
        return ModelRegistry(store).get("v1").run_id


def assert_artifacts_are_what_they_promise(settings: ProjectSettings, run_id: str) -> None:
    """Every step's outputs exist, parse, and carry what the KFP dashboard shows."""
    task_dir = settings.pipeline_root / run_id
    for validate_task in task_dir.glob("validate*"):
        assert read_statistics(validate_task / "stats" / "stats.pb").datasets[0].num_examples > 0
        html = (validate_task / "stats_view").read_text()
        assert all(name in html for name in FEATURE_NAMES) and "https://" not in html
        assert (validate_task / "stats_summary").read_text().startswith("#")
        # June to July of 2013 stays within the calibrated drift thresholds: both batches proceed.
        assert read_report(validate_task / "report" / REPORT_FILE).verdict == "proceed"
        assert read_anomalies(validate_task / "report" / ANOMALIES_FILE) is not None
        view = (validate_task / "report_view").read_text().lower()
        assert "proceed" in view
    model = task_dir / "train" / "model"
    assert {"saved_model", "model.keras", "model.json", "serving_schema.json"} <= {
        p.name for p in model.iterdir()
    }
    assert load_verdict(task_dir / "evaluate" / "evaluation" / "verdict.json").blessed
    assert "Evaluation of" in (task_dir / "evaluate" / "report").read_text()
    dashboard = json.loads((task_dir / "evaluate" / "executor_output.json").read_text())["artifacts"]
    assert dashboard["metrics"]["artifacts"][0]["metadata"]["auc"] > 0.65
    classification = dashboard["classification"]["artifacts"][0]["metadata"]
    assert classification["confusionMatrix"]["rows"] and classification["confidenceMetrics"]
    infra = json.loads((task_dir / "infra-validate" / "infra" / "infra.json").read_text())
    assert infra["passed"] and {c["name"] for c in infra["checks"]} >= {
        "single-row p99 latency (ms)",
        "resident memory (MB)",
    }


def test_worse_candidate_is_rejected_and_production_unchanged(
    with_production: ProjectSettings, tmp_path: Path
) -> None:
    shuffled = default_months([6])
    shuffled[LABEL] = np.random.default_rng(0).permutation(shuffled[LABEL].to_numpy())
    outcome = run(with_production, train_data_file=str(write_batch(shuffled, tmp_path / "shuffled.parquet")))
    assert outcome.succeeded, outcome.error
    with open_store(with_production.metadata_uri) as store:
        registry = ModelRegistry(store)
        candidate = registry.get("v2")
        assert str(candidate.stage) == "rejected"
        assert not candidate.blessed
        failed = {check["name"] for check in candidate.blessing_checks if not check["passed"]}
        assert "auc_drop_vs_production" in failed
        assert registry.production().version == "v1"  # type: ignore[union-attr]


def test_over_budget_candidate_is_rejected(
    with_production: ProjectSettings, june_model: Path, tmp_path: Path
) -> None:
    # The steps a run chains after training, in process (the whole chain runs in the scenario above): a
    # candidate as good as production, so evaluation blesses it, that breaks the size budget.
    budgets = tmp_path / "tight.toml"
    budgets.write_text(
        "max_model_size_mb = 0.001\nmax_resident_memory_mb = 100000.0\nmax_p99_latency_ms = 10000.0\n"
        "latency_requests = 20\nbatch_rows = 8\n"
    )
    batch = tmp_path / "july"
    materialise_batch(batch, months=[7], features=feature_store(str(with_production.feature_repo)))
    evaluate_step(
        june_model,
        batch,
        tmp_path / "evaluation",
        tmp_path / "evaluation.md",
        production_model_dir=june_model,
    )
    infra_validate_step(june_model, batch, tmp_path / "infra", tmp_path / "infra.md", budgets_path=budgets)
    blessing = combine_blessing(tmp_path / "evaluation", tmp_path / "infra")
    with recorded_step("register", with_production.metadata_uri, "over-budget", "test", "test-sha") as step:
        properties = version_properties(
            metrics=blessing.metrics, blessed=blessing.blessed, checks=blessing.checks
        )
        step.add_output("model_version", MODEL_VERSION_TYPE, uri=str(june_model), properties=properties)

    version = register_version(
        with_production.metadata_uri,
        model_version_id=step.record.outputs[0].id,
        model_name=MODEL_NAME,
        promotion="production",
        blessing=blessing,
        registry_lock=with_production.registry_lock,
        trigger="test",
        run_id="over-budget",
    )

    assert str(version.stage) == "rejected"
    with open_store(with_production.metadata_uri) as store:
        registry = ModelRegistry(store)
        candidate = registry.get(version.version)
        assert str(candidate.stage) == "rejected"
        (size_check,) = [c for c in candidate.blessing_checks if c["name"] == "model size on disk (MB)"]
        assert not size_check["passed"] and size_check["value"] > 0.001
        assert all(c["passed"] for c in candidate.blessing_checks if c["stage"] == "evaluation")
        assert registry.production().version == "v1"  # type: ignore[union-attr]


def test_better_candidate_is_promoted_then_rolled_back(with_production: ProjectSettings) -> None:
    outcome = run(with_production, train_months=[5, 6], epochs=3)  # July AUC ~0.75 against v1's ~0.73
    assert outcome.succeeded, outcome.error
    with open_store(with_production.metadata_uri) as store:
        registry = ModelRegistry(store, lock_path=with_production.registry_lock)
        production = registry.production()
        assert production is not None and production.version == "v2"
        assert production.previous_production == "v1"
        assert str(registry.get("v1").stage) == "archived"
        (compared,) = [c for c in production.blessing_checks if c["name"] == "auc_drop_vs_production"]
        assert compared["passed"] and compared["value"] > 0  # strictly better on the same rows
        restored = registry.rollback(reason="test")
        assert restored.version == "v1"
        assert str(registry.get("v2").stage) == "rolled_back"
        assert registry.production().version == "v1"  # type: ignore[union-attr]
