"""Registering versions: names, fields taken from the register step, idempotence and refusals."""

from __future__ import annotations

import json

import pytest
from registry_support import FIXED_NOW, record_pipeline_run, record_register_step

from components.lineage import ArtifactSpec, LineageStore
from components.registry import ModelRegistry, Stage, version_properties
from contracts.errors import RegistryError


def test_versions_are_numbered_per_model_and_carry_the_register_steps_facts(
    store: LineageStore, registry: ModelRegistry
) -> None:
    first = registry.register(record_pipeline_run(store, "run-1", auc=0.71), reason="first training")
    second = registry.register(record_pipeline_run(store, "run-2", blessed=False, auc=0.6))
    other = ModelRegistry(store, model_name="taxi-fare").register(record_register_step(store, "run-3"))

    assert (first.version, first.number, first.stage) == ("v1", 1, Stage.BLESSED)
    assert (second.version, second.stage) == ("v2", Stage.REJECTED)
    assert (other.model, other.version) == ("taxi-fare", "v1")
    assert first.model == "flight-delay"
    assert first.uri == "/out/run-1/model"
    assert (first.run_id, first.pipeline, first.code_version) == (
        "run-1",
        "continuous-training",
        "sha-register",
    )
    assert first.metrics["auc"] == 0.71
    assert first.metrics["auc_by_origin"] == {"EWR": 0.7, "JFK": 0.72, "LGA": 0.71}
    assert first.blessed is True and second.blessed is False
    assert [c["name"] for c in first.blessing_checks] == ["auc_above_floor", "no_worse_than_production"]
    assert first.registered_at == FIXED_NOW == first.stage_changed_at
    assert first.previous_production is None
    assert [v.version for v in registry.list_versions()] == ["v1", "v2"]
    assert registry.get("v2") == registry.get(2) == registry.get("2") == second
    as_json = json.loads(json.dumps(first.to_dict()))
    assert as_json["stage"] == "blessed" and as_json["registered_at"] == "2026-11-27T12:00:00+00:00"


def test_registering_the_same_artifact_again_returns_the_same_version(
    store: LineageStore, registry: ModelRegistry
) -> None:
    artifact_id = record_register_step(store, "run-1")
    assert registry.register(artifact_id) == registry.register(artifact_id)
    assert [v.version for v in registry.list_versions()] == ["v1"]
    assert len(registry.transitions()) == 1


def test_a_candidate_can_be_registered_before_its_blessing_counts(
    store: LineageStore, registry: ModelRegistry
) -> None:
    unblessed = registry.register(record_register_step(store, "run-1", blessed=False), stage="candidate")
    assert unblessed.stage is Stage.CANDIDATE
    with pytest.raises(RegistryError, match="not blessed by evaluation, so it cannot start as blessed"):
        registry.register(record_register_step(store, "run-2", blessed=False), stage=Stage.BLESSED)
    with pytest.raises(RegistryError, match="starts as blessed, candidate, rejected, not production"):
        registry.register(record_register_step(store, "run-3"), stage="production")


def test_artifacts_that_are_not_produced_versions_are_refused(
    store: LineageStore, registry: ModelRegistry
) -> None:
    record = store.record_execution(
        run_id="run-1",
        pipeline="ct",
        component="train",
        version="v",
        started=FIXED_NOW,
        ended=FIXED_NOW,
        inputs=[
            ArtifactSpec(
                "raw", "ModelVersion", "/raw", version_properties(metrics={}, blessed=True, checks=[])
            )
        ],
        outputs=[ArtifactSpec("model", "Model", "/m"), ArtifactSpec("bare", "ModelVersion", "/bare")],
    )
    raw, [model, bare] = record.inputs[0], record.outputs
    with pytest.raises(RegistryError, match="is a Model, not a ModelVersion"):
        registry.register(model.id)
    with pytest.raises(RegistryError, match="has no blessing verdict; record it with version_properties"):
        registry.register(bare.id)
    with pytest.raises(RegistryError, match="not produced by a recorded execution"):
        registry.register(raw.id)
    assert registry.list_versions() == []
    assert registry.transitions() == []


def test_a_version_of_one_model_cannot_be_registered_to_another(
    store: LineageStore, registry: ModelRegistry
) -> None:
    artifact_id = record_register_step(store, "run-1")
    registry.register(artifact_id)
    with pytest.raises(RegistryError, match="already a version of model 'flight-delay'"):
        ModelRegistry(store, model_name="other").register(artifact_id)


@pytest.mark.parametrize("text", ["v0", "x3", "", "v-1", "3.0"])
def test_unknown_or_malformed_versions_are_registry_errors(registry: ModelRegistry, text: str) -> None:
    with pytest.raises(RegistryError, match="is not a version name"):
        registry.get(text)


def test_missing_versions_and_bad_inputs_are_named(store: LineageStore, registry: ModelRegistry) -> None:
    with pytest.raises(RegistryError, match="model 'flight-delay' has no version v7"):
        registry.get("v7")
    with pytest.raises(RegistryError, match="model name 'a b'"):
        ModelRegistry(store, model_name="a b")
    with pytest.raises(RegistryError, match="JSON-ready"):
        version_properties(metrics={"auc": float("nan")}, blessed=True, checks=[])
    with pytest.raises(RegistryError, match="blessed must be True or False"):
        version_properties(metrics={}, blessed="yes", checks=[])  # type: ignore[arg-type]
    assert registry.production() is None
    assert registry.list_versions() == []


def test_a_store_holding_two_artifacts_with_one_version_name_is_refused(
    store: LineageStore, registry: ModelRegistry
) -> None:
    first = registry.register(record_register_step(store, "run-1"))
    rogue = record_register_step(store, "run-2")
    # A writer bypassing the registry copies v1's fields onto another artifact of the model.
    model = store.ensure_context("RegisteredModel", "flight-delay")
    store.commit_actions(
        model.id, [], artifact_updates={rogue: dict(store.artifact(first.artifact_id).properties)}
    )

    with pytest.raises(RegistryError, match="two artifacts with the same version name"):
        registry.list_versions()
    with pytest.raises(RegistryError, match="two artifacts with the same version name"):
        registry.promote("v1", reason="must not decide on a corrupted state")
