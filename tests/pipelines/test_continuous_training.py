"""The continuous-training loop through kfp.local, scenario after scenario on one registry.

First model -> production; a worse candidate (shuffled labels) -> rejected with production unchanged;
an over-budget candidate -> rejected; a good candidate -> promoted; rollback -> previous production.
The scenarios share one lineage store and registry, so they run in order in one worker.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from components.ingest.batch_io import write_batch
from components.ingest.contract import LABEL
from components.ingest.logic import load_months
from components.lineage import open_store
from components.registry import ModelRegistry
from components.registry.report import version_lineage
from components.settings import ProjectSettings
from pipelines.local_runner import LocalRun, run_pipeline_locally
from pipelines.training import continuous_training

pytestmark = pytest.mark.xdist_group("continuous-training")

# Quick: one month to learn from (July AUC ~0.73); the loop is what is under test here.
FAST = {"train_months": [6], "eval_month": 7, "previous_month": 6, "epochs": 4}


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> ProjectSettings:
    return ProjectSettings.resolve({}, tmp_path_factory.mktemp("ct"))


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("data")


def run(settings: ProjectSettings, **arguments: object) -> LocalRun:
    return run_pipeline_locally(
        continuous_training, settings, {"code_version": "test-sha", **FAST, **arguments}, quiet=True
    )


def test_1_first_model_goes_to_production(settings: ProjectSettings) -> None:
    outcome = run(settings)
    assert outcome.succeeded, outcome.error
    with open_store(settings.metadata_uri) as store:
        reg = ModelRegistry(store)
        production = reg.production()
        assert production is not None and production.version == "v1"
        assert production.blessed
        assert production.metrics["auc"] > 0.65
        assert set(production.metrics["auc_by_origin"]) == {"EWR", "JFK", "LGA"}
        assert not any(check["name"].endswith("vs_production") for check in production.blessing_checks)
        report = version_lineage(store, reg, "v1")
    components = [step["component"] for step in report["steps"]]
    for expected in (
        "ingest",
        "statistics",
        "validate",
        "gate",
        "train",
        "evaluate",
        "infra-validate",
        "register",
    ):
        assert expected in components, expected
    assert all(step["code_version"] == "test-sha" for step in report["steps"])


def test_2_worse_candidate_is_rejected_and_production_unchanged(
    settings: ProjectSettings, data_dir: Path
) -> None:
    shuffled = load_months([6])
    shuffled[LABEL] = np.random.default_rng(0).permutation(shuffled[LABEL].to_numpy())
    outcome = run(settings, train_data_file=str(write_batch(shuffled, data_dir / "shuffled.parquet")))
    assert outcome.succeeded, outcome.error
    with open_store(settings.metadata_uri) as store:
        reg = ModelRegistry(store)
        candidate = reg.get("v2")
        assert str(candidate.stage) == "rejected"
        assert not candidate.blessed
        failed = {check["name"] for check in candidate.blessing_checks if not check["passed"]}
        assert "auc_drop_vs_production" in failed
        assert reg.production().version == "v1"  # type: ignore[union-attr]


def test_3_over_budget_candidate_is_rejected(settings: ProjectSettings, data_dir: Path) -> None:
    budgets = data_dir / "tight.toml"
    budgets.write_text(
        "max_model_size_mb = 0.001\nmax_resident_memory_mb = 100000.0\nmax_p99_latency_ms = 10000.0\n"
        "latency_requests = 20\nbatch_rows = 8\n"
    )
    outcome = run(settings, infra_budgets_file=str(budgets))
    assert outcome.succeeded, outcome.error
    with open_store(settings.metadata_uri) as store:
        reg = ModelRegistry(store)
        candidate = reg.get("v3")
        assert str(candidate.stage) == "rejected"
        (size_check,) = [c for c in candidate.blessing_checks if c["name"] == "model size on disk (MB)"]
        assert not size_check["passed"] and size_check["value"] > 0.001
        evaluation_checks = [c for c in candidate.blessing_checks if c["stage"] == "evaluation"]
        assert all(c["passed"] for c in evaluation_checks)  # only the budget stood in its way
        assert reg.production().version == "v1"  # type: ignore[union-attr]


def test_4_better_candidate_is_promoted_with_a_pointer_back(settings: ProjectSettings) -> None:
    outcome = run(settings, train_months=[5, 6], epochs=3)  # July AUC ~0.75 against v1's ~0.73
    assert outcome.succeeded, outcome.error
    with open_store(settings.metadata_uri) as store:
        reg = ModelRegistry(store)
        production = reg.production()
        assert production is not None and production.version == "v4"
        assert production.previous_production == "v1"
        assert str(reg.get("v1").stage) == "archived"
        compared = [c for c in production.blessing_checks if c["name"] == "auc_drop_vs_production"]
        assert compared and compared[0]["passed"] and compared[0]["value"] > 0  # strictly better
        assert production.metrics["auc"] > reg.get("v1").metrics["auc"]


def test_5_rollback_restores_the_previous_production(settings: ProjectSettings) -> None:
    with open_store(settings.metadata_uri) as store:
        reg = ModelRegistry(store, lock_path=settings.registry_lock)
        restored = reg.rollback(reason="test")
        assert restored.version == "v1"
        assert str(reg.get("v4").stage) == "rolled_back"
        assert reg.production().version == "v1"  # type: ignore[union-attr]
