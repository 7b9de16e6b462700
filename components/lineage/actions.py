"""Contexts, artifact updates and actions: decisions about artifacts that are not component runs.

A component run (``writer``) produces new artifacts; an action (a model's stage transition, say) reads
artifacts that exist already, may update their properties, and is grouped in a context of its own. All of
one ``commit`` goes through ``put_lineage_subgraph``, which MLMD applies in one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime

from ml_metadata.metadata_store.metadata_store import MetadataStore

from components.lineage import schema
from components.lineage._mlmd import (
    AlreadyExistsError,
    PropertyValue,
    Proto,
    fill_properties,
    pb2,
    properties_of,
)
from components.lineage.reader import artifact_record, path_name
from components.lineage.records import ActionRecord, ActionSpec, ArtifactRecord, ContextRecord
from components.lineage.schema import TypeRegistry
from contracts.errors import LineageError


def ensure_context(store: MetadataStore, types: TypeRegistry, type_name: str, name: str) -> ContextRecord:
    """Returns the context ``name`` of ``type_name``, creating it when missing (race-safe)."""
    _check_name("context type", type_name)
    _check_name("context name", name)
    existing = store.get_context_by_type_and_name(type_name, name)
    if existing is not None:
        return _context_record(existing)
    try:
        [context_id] = store.put_contexts(
            [pb2.Context(type_id=types.context_type(store, type_name), name=name)]
        )
    except AlreadyExistsError:
        # Two writers created it at once; both then use the one that was stored.
        found = store.get_context_by_type_and_name(type_name, name)
        if found is None:
            raise
        return _context_record(found)
    return ContextRecord(id=int(context_id), type=type_name, name=name)


def find_context(store: MetadataStore, type_name: str, name: str) -> ContextRecord | None:
    """Returns the context ``name`` of ``type_name``, or None when there is none."""
    found = store.get_context_by_type_and_name(type_name, name)
    return None if found is None else _context_record(found)


def artifacts_of_context(store: MetadataStore, context_id: int, type_name: str) -> list[ArtifactRecord]:
    """Returns the artifacts of one type attributed to a context, oldest first."""
    found = [a for a in store.get_artifacts_by_context(context_id) if a.type == type_name]
    return [artifact_record(a, "") for a in sorted(found, key=lambda a: a.id)]


def actions_of_context(store: MetadataStore, context_id: int, type_name: str) -> list[ActionRecord]:
    """Returns the actions of one type associated with a context, oldest first."""
    return _action_records(
        store, [x for x in store.get_executions_by_context(context_id) if x.type == type_name]
    )


def actions_on_artifact(store: MetadataStore, artifact_id: int, type_name: str) -> list[ActionRecord]:
    """Returns the actions of one type that have the artifact as an input, oldest first.

    Raises:
        LineageError: when no artifact has that id.
    """
    _artifacts(store, [artifact_id])
    execution_ids = {
        e.execution_id for e in store.get_events_by_artifact_ids([artifact_id]) if e.type == pb2.Event.INPUT
    }
    if not execution_ids:
        return []
    return _action_records(
        store, [x for x in store.get_executions_by_id(execution_ids) if x.type == type_name]
    )


def commit(
    store: MetadataStore,
    types: TypeRegistry,
    context_id: int,
    actions: Sequence[ActionSpec],
    artifact_updates: Mapping[int, Mapping[str, PropertyValue]],
) -> list[ActionRecord] | None:
    """Writes artifact updates and actions in one transaction; returns the actions as stored, in order.

    Every artifact updated or named as an input is attributed to the context, every action associated with
    it. Returns None, having written nothing, when an action's name is already taken.

    Raises:
        LineageError: for invalid specs, an unknown artifact or context id, or a ``ComponentExecution``
            action type.
    """
    _check_actions(actions)
    contexts = store.get_contexts_by_id([context_id])
    if not contexts:
        raise LineageError(f"no context with id {context_id} in the lineage store")
    wanted = sorted(set(artifact_updates) | {i for spec in actions for i in spec.inputs.values()})
    artifacts = {a.id: a for a in _artifacts(store, wanted)}
    for artifact_id, properties in artifact_updates.items():
        fill_properties(artifacts[artifact_id].custom_properties, properties)
    order = list(artifacts)
    executions = []
    edges: list[tuple[int | None, int | None, Proto]] = []
    for index, spec in enumerate(actions):
        execution = pb2.Execution(
            type_id=types.action_type(store, spec.type),
            name=spec.name,
            last_known_state=pb2.Execution.COMPLETE,
        )
        fill_properties(execution.custom_properties, spec.properties)
        executions.append(execution)
        for role, artifact_id in spec.inputs.items():
            event = pb2.Event(type=pb2.Event.INPUT)
            event.path.steps.add().key = role
            edges.append((index, order.index(artifact_id), event))
    try:
        execution_ids, _, _ = store.put_lineage_subgraph(
            executions, [artifacts[i] for i in order], contexts, edges, reuse_context_if_already_exist=True
        )
    except AlreadyExistsError:
        return None
    records = {r.id: r for r in _action_records(store, store.get_executions_by_id(execution_ids))}
    return [records[i] for i in execution_ids]


def _check_actions(actions: Sequence[ActionSpec]) -> None:
    names: set[tuple[str, str]] = set()
    for spec in actions:
        _check_name("action type", spec.type)
        _check_name("action name", spec.name)
        # Sharing the component type would make actions show up as pipeline steps in every reader.
        if spec.type == schema.EXECUTION_TYPE:
            raise LineageError(f"an action cannot use the component execution type {schema.EXECUTION_TYPE!r}")
        if (spec.type, spec.name) in names:
            raise LineageError(f"action {spec.type}/{spec.name} appears twice in one commit")
        names.add((spec.type, spec.name))
        for role in spec.inputs:
            _check_name(f"input role of action {spec.name!r}", role)


def _check_name(what: str, value: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise LineageError(f"{what} must be a non-empty string, got {value!r}")


def _artifacts(store: MetadataStore, artifact_ids: Iterable[int]) -> list[Proto]:
    wanted = list(artifact_ids)
    found = store.get_artifacts_by_id(wanted) if wanted else []
    missing = sorted(set(wanted) - {a.id for a in found})
    if missing:
        raise LineageError(f"no artifact with id {', '.join(map(str, missing))} in the lineage store")
    return sorted(found, key=lambda a: wanted.index(a.id))


def _action_records(store: MetadataStore, executions: Sequence[Proto]) -> list[ActionRecord]:
    if not executions:
        return []
    events = [
        e for e in store.get_events_by_execution_ids([x.id for x in executions]) if e.type == pb2.Event.INPUT
    ]
    artifacts = {a.id: a for a in store.get_artifacts_by_id({e.artifact_id for e in events})}
    return [
        ActionRecord(
            id=x.id,
            type=x.type,
            name=x.name,
            properties=properties_of(x.custom_properties),
            inputs=tuple(
                artifact_record(artifacts[e.artifact_id], path_name(e))
                for e in events
                if e.execution_id == x.id
            ),
            created=datetime.fromtimestamp(x.create_time_since_epoch / 1000, UTC),
        )
        for x in sorted(executions, key=lambda x: x.id)
    ]


def _context_record(context: Proto) -> ContextRecord:
    return ContextRecord(id=context.id, type=context.type, name=context.name)
