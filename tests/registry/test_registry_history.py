"""Stage history: every change is a StageTransition execution, readable through MLMD's own API."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ml_metadata.metadata_store import metadata_store
from ml_metadata.proto import metadata_store_pb2 as _untyped_pb2
from registry_support import FIXED_NOW, record_pipeline_run, record_register_step

from components.lineage import LineageStore
from components.registry import ModelRegistry, Stage

metadata_store_pb2: Any = _untyped_pb2


def _raw_store(path: Path) -> metadata_store.MetadataStore:
    config = metadata_store_pb2.ConnectionConfig()
    config.sqlite.filename_uri = str(path)
    return metadata_store.MetadataStore(config)


def test_history_of_a_version_lists_its_changes_in_order(
    store: LineageStore, registry: ModelRegistry
) -> None:
    registry.register(record_register_step(store, "run-1"), reason="nightly")
    registry.register(record_register_step(store, "run-2"))
    registry.transition("v1", "canary", reason="10% traffic")
    registry.promote("v1", reason="canary healthy")
    registry.promote("v2", reason="better")

    history = registry.history("v1")
    assert [(t.from_stage, t.to_stage, t.trigger) for t in history] == [
        (None, Stage.BLESSED, "register"),
        (Stage.BLESSED, Stage.CANARY, "transition"),
        (Stage.CANARY, Stage.PRODUCTION, "promote"),
        (Stage.PRODUCTION, Stage.ARCHIVED, "replaced"),
    ]
    assert [t.sequence for t in registry.transitions()] == [1, 2, 3, 4, 5, 6]
    assert {(t.model, t.version, t.actor, t.time) for t in history} == {
        ("flight-delay", "v1", "test", FIXED_NOW)
    }
    assert history[0].reason == "nightly"
    assert history[0].to_dict()["from_stage"] is None


def test_transitions_and_versions_are_plain_mlmd_records(
    store: LineageStore, registry: ModelRegistry, tmp_path: Path
) -> None:
    version = registry.register(record_pipeline_run(store, "run-1"))
    registry.promote("v1", reason="first")

    mlmd = _raw_store(tmp_path / "metadata.sqlite")
    [model] = mlmd.get_contexts_by_type("RegisteredModel")
    assert model.name == "flight-delay"
    [artifact] = mlmd.get_artifacts_by_context(model.id)
    assert (artifact.id, artifact.type) == (version.artifact_id, "ModelVersion")
    assert artifact.custom_properties["version"].string_value == "v1"
    assert artifact.custom_properties["stage"].string_value == "production"
    assert artifact.custom_properties["blessed"].bool_value is True

    transitions = sorted(mlmd.get_executions_by_context(model.id), key=lambda x: x.id)
    assert [x.type for x in transitions] == ["StageTransition", "StageTransition"]
    assert [x.name for x in transitions] == ["flight-delay#1", "flight-delay#2"]
    assert [x.custom_properties["to_stage"].string_value for x in transitions] == ["blessed", "production"]
    assert transitions[1].custom_properties["reason"].string_value == "first"
    assert transitions[1].custom_properties["time"].string_value == "2026-11-27T12:00:00+00:00"

    events = mlmd.get_events_by_artifact_ids([version.artifact_id])
    inputs = sorted(e.execution_id for e in events if e.type == metadata_store_pb2.Event.INPUT)
    [output] = [e for e in events if e.type == metadata_store_pb2.Event.OUTPUT]
    assert inputs == [x.id for x in transitions]
    [producer] = mlmd.get_executions_by_id([output.execution_id])
    assert producer.properties["component"].string_value == "register"


def test_transitions_do_not_disturb_the_run_or_its_lineage(
    store: LineageStore, registry: ModelRegistry
) -> None:
    artifact_id = record_pipeline_run(store, "run-1")
    before = store.upstream(artifact_id)
    registry.register(artifact_id)
    registry.promote("v1", reason="first")

    assert [e.component for e in store.upstream(artifact_id)] == [e.component for e in before]
    assert [e.component for e in store.executions_of_run("run-1")][-1] == "register"
    assert len(store.executions_of_run("run-1")) == 6
