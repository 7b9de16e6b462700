"""Writing one execution, its artifacts and events, and its run contexts into ML Metadata.

The execution, its artifacts, events, attributions and associations go in one ``put_execution`` call,
which MLMD applies in a single transaction: a step that dies mid-write leaves no half-recorded execution.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from datetime import datetime

from ml_metadata.metadata_store.metadata_store import MetadataStore

from components.lineage import schema
from components.lineage._mlmd import AlreadyExistsError, PropertyValue, Proto, fill_properties, pb2
from components.lineage.records import ArtifactSpec, ExecutionState
from components.lineage.schema import TypeRegistry
from contracts.errors import LineageError

# A produced artifact is only handed on to later steps when the producer finished properly.
_SUCCEEDED = (pb2.Execution.COMPLETE, pb2.Execution.CACHED)


def write_execution(
    store: MetadataStore,
    types: TypeRegistry,
    *,
    run_id: str,
    pipeline: str,
    component: str,
    version: str,
    started: datetime,
    ended: datetime,
    state: ExecutionState,
    parameters: Mapping[str, PropertyValue],
    inputs: Sequence[ArtifactSpec],
    outputs: Sequence[ArtifactSpec],
    error_message: str | None,
) -> int:
    """Validates and writes one execution; returns its id. See ``LineageStore.record_execution``."""
    _check_text(run_id=run_id, pipeline=pipeline, component=component, version=version)
    _check_times(started, ended)
    _check_artifacts("input", inputs)
    _check_artifacts("output", outputs)

    execution = pb2.Execution(
        type_id=types.execution_type(store), last_known_state=pb2.Execution.State.Value(state)
    )
    fill_properties(
        execution.properties,
        {
            schema.COMPONENT: component,
            schema.VERSION: version,
            schema.STARTED: started.isoformat(),
            schema.ENDED: ended.isoformat(),
            schema.DURATION: (ended - started).total_seconds(),
        },
    )
    if error_message is not None:
        fill_properties(execution.properties, {schema.ERROR: error_message})
    fill_properties(execution.custom_properties, parameters)

    pairs = [(_input_artifact(store, types, spec), _event(pb2.Event.INPUT, spec.name)) for spec in inputs]
    pairs += [(_new_artifact(store, types, spec), _event(pb2.Event.OUTPUT, spec.name)) for spec in outputs]
    contexts = _contexts(store, types, run_id=run_id, pipeline=pipeline)
    # force_reuse_context: the contexts already exist, so MLMD should link to them, not rewrite them.
    execution_id, _, _ = store.put_execution(execution, pairs, contexts, force_reuse_context=True)
    return int(execution_id)


def _check_text(**fields: str) -> None:
    for key, value in fields.items():
        if not isinstance(value, str) or not value.strip():
            raise LineageError(f"{key} must be a non-empty string, got {value!r}")


def _check_times(started: datetime, ended: datetime) -> None:
    if started.tzinfo is None or ended.tzinfo is None:
        raise LineageError("started and ended must be timezone-aware datetimes (naive times are ambiguous)")
    if ended < started:
        raise LineageError(f"ended ({ended.isoformat()}) is before started ({started.isoformat()})")


def _check_artifacts(role: str, specs: Sequence[ArtifactSpec]) -> None:
    seen: set[str] = set()
    for spec in specs:
        _check_text(**{f"{role} name": spec.name, f"{role} type": spec.type, f"{role} uri": spec.uri})
        # The name is the artifact's key in the event path; two equal keys would be indistinguishable.
        if spec.name in seen:
            raise LineageError(f"{role} name {spec.name!r} is used twice in one execution")
        seen.add(spec.name)


def _event(kind: int, name: str) -> Proto:
    event = pb2.Event(type=kind)
    event.path.steps.add().key = name
    return event


def _new_artifact(store: MetadataStore, types: TypeRegistry, spec: ArtifactSpec) -> Proto:
    artifact = pb2.Artifact(
        type_id=types.artifact_type(store, spec.type), uri=spec.uri, state=pb2.Artifact.LIVE
    )
    fill_properties(artifact.custom_properties, spec.properties)
    return artifact


def _input_artifact(store: MetadataStore, types: TypeRegistry, spec: ArtifactSpec) -> Proto:
    """Returns the newest successfully produced artifact with the spec's type and URI, else a new one.

    Reusing the producer's artifact (same id) is what links step A's output to step B's input. Its stored
    properties are kept as they are: they describe what the producer wrote.
    """
    candidates = [a for a in store.get_artifacts_by_uri(spec.uri) if a.type == spec.type]
    if not candidates:
        return _new_artifact(store, types, spec)
    events = store.get_events_by_artifact_ids([a.id for a in candidates])
    producer_of = {e.artifact_id: e.execution_id for e in events if e.type == pb2.Event.OUTPUT}
    if not producer_of:
        return _new_artifact(store, types, spec)
    producers = store.get_executions_by_id(set(producer_of.values()))
    succeeded = {x.id for x in producers if x.last_known_state in _SUCCEEDED}
    produced = [a for a in candidates if producer_of.get(a.id) in succeeded]
    return max(produced, key=lambda a: a.id) if produced else _new_artifact(store, types, spec)


def _contexts(store: MetadataStore, types: TypeRegistry, *, run_id: str, pipeline: str) -> list[Proto]:
    pipeline_context = _ensure_context(
        store, types.pipeline_context_type(store), schema.PIPELINE_CONTEXT_TYPE, pipeline, {}
    )
    run_context = _ensure_context(
        store, types.run_context_type(store), schema.RUN_CONTEXT_TYPE, run_id, {schema.PIPELINE: pipeline}
    )
    recorded = run_context.properties[schema.PIPELINE].string_value
    if recorded != pipeline:
        raise LineageError(f"run {run_id!r} belongs to pipeline {recorded!r}, not {pipeline!r}")
    parents = store.get_parent_contexts_by_context(run_context.id)
    if all(parent.id != pipeline_context.id for parent in parents):
        # Another step of the same run may link them between our read and our write.
        with contextlib.suppress(AlreadyExistsError):
            store.put_parent_contexts(
                [pb2.ParentContext(child_id=run_context.id, parent_id=pipeline_context.id)]
            )
    return [pipeline_context, run_context]


def _ensure_context(
    store: MetadataStore, type_id: int, type_name: str, name: str, properties: Mapping[str, PropertyValue]
) -> Proto:
    existing = store.get_context_by_type_and_name(type_name, name)
    if existing is not None:
        return existing
    context = pb2.Context(type_id=type_id, name=name)
    fill_properties(context.properties, properties)
    try:
        [context.id] = store.put_contexts([context])
    except AlreadyExistsError:
        # Parallel steps of one run race to create its context; the loser uses the winner's.
        found = store.get_context_by_type_and_name(type_name, name)
        if found is None:
            raise
        return found
    return context
