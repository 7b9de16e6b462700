"""What a production version is compared with, found through its lineage in a real ML Metadata store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from monitor_support import TRAIN_MONTHS, register_production, sample

from components.lineage import LineageStore, open_store
from components.monitoring.reference import load_reference
from components.registry import MODEL_VERSION_TYPE, ModelRegistry, version_properties
from components.statistics.logic import num_examples
from components.statistics.step import STATISTICS_FILE
from contracts.errors import MonitoringError


@pytest.fixture
def store(tmp_path: Path) -> Iterator[LineageStore]:
    with open_store(f"sqlite:///{tmp_path}/metadata.sqlite") as opened:
        yield opened


def test_the_recorded_training_statistics_metrics_and_threshold_are_found(
    store: LineageStore, tmp_path: Path
) -> None:
    training = sample(TRAIN_MONTHS, 2_000, seed=1)
    version = register_production(store, tmp_path, training=training, metrics={"auc": 0.71}, threshold=0.3)

    reference = load_reference(store, ModelRegistry(store), version)

    assert reference.version.version == version == "v1"
    assert num_examples(reference.training_statistics) == 2_000
    assert reference.statistics_source.endswith(STATISTICS_FILE)
    assert reference.training_source == "months 5,6 of 2013"
    assert reference.evaluation["auc"] == 0.71
    assert reference.decision_threshold == 0.3


def test_unreadable_statistics_are_recomputed_from_the_recorded_months(
    store: LineageStore, tmp_path: Path
) -> None:
    version = register_production(store, tmp_path, training=sample((6,), 500, seed=2), metrics={}, months="6")
    for stats in tmp_path.rglob(STATISTICS_FILE):
        stats.unlink()

    reference = load_reference(store, ModelRegistry(store), version)

    assert reference.statistics_source == "recomputed from months 6 of 2013"
    assert num_examples(reference.training_statistics) > 25_000  # all of June, as the run trained on


def test_a_version_without_a_validated_training_batch_is_refused(store: LineageStore, tmp_path: Path) -> None:
    with store.execution(run_id="r", pipeline="p", component="register", version="v") as step:
        properties = version_properties(metrics={}, blessed=True, checks=[])
        step.add_output("model_version", MODEL_VERSION_TYPE, uri=str(tmp_path), properties=properties)
    registry = ModelRegistry(store)
    registry.register(step.record.outputs[0].id)

    with pytest.raises(MonitoringError, match="records no validation of its training batch"):
        load_reference(store, registry, "v1")
