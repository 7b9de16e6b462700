"""Reading lineage back through ML Metadata's event and context APIs.

Only id-, type- and context-keyed calls are used: ``filter_query`` and ``get_lineage_subgraph`` are being
deprecated upstream, and the graph walks here need nothing they offer.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from ml_metadata.metadata_store.metadata_store import ListOptions, MetadataStore, OrderByField

from components.lineage import schema
from components.lineage._mlmd import Proto, pb2, properties_of
from components.lineage.records import ArtifactRecord, ExecutionRecord, ExecutionState, RunRecord
from contracts.errors import LineageError

_BY_ID = ListOptions(order_by=OrderByField.ID, is_asc=True)


def list_runs(store: MetadataStore) -> list[RunRecord]:
    """Returns every pipeline run, oldest first."""
    contexts = sorted(store.get_contexts_by_type(schema.RUN_CONTEXT_TYPE), key=lambda c: c.id)
    return [
        RunRecord(
            run_id=c.name,
            pipeline=c.properties[schema.PIPELINE].string_value,
            created=_from_millis(c.create_time_since_epoch),
        )
        for c in contexts
    ]


def executions_of_run(store: MetadataStore, run_id: str) -> list[ExecutionRecord]:
    """Returns the executions of one run ordered by start time.

    Raises:
        LineageError: when no run has that id.
    """
    context = store.get_context_by_type_and_name(schema.RUN_CONTEXT_TYPE, run_id)
    if context is None:
        raise LineageError(f"no pipeline run {run_id!r} in the lineage store")
    executions = store.get_executions_by_context(context.id, list_options=_BY_ID)
    return sorted(_records(store, executions), key=lambda r: (r.started, r.id))


def upstream(store: MetadataStore, artifact_id: int) -> list[ExecutionRecord]:
    """Returns the executions that led to an artifact, producers before their consumers.

    Walks artifact ← producing execution ← its inputs ← their producers, one batch of calls per level.
    An artifact nobody produced (raw input data) has an empty upstream.

    Raises:
        LineageError: when no artifact has that id.
    """
    if not store.get_artifacts_by_id([artifact_id]):
        raise LineageError(f"no artifact with id {artifact_id} in the lineage store")
    executions: dict[int, Proto] = {}
    seen_artifacts: set[int] = set()
    frontier = {artifact_id}
    while frontier:
        seen_artifacts |= frontier
        producer_ids = {
            e.execution_id for e in store.get_events_by_artifact_ids(frontier) if e.type == pb2.Event.OUTPUT
        } - executions.keys()
        if not producer_ids:
            break
        executions.update((x.id, x) for x in store.get_executions_by_id(producer_ids))
        input_ids = {
            e.artifact_id
            for e in store.get_events_by_execution_ids(producer_ids)
            if e.type == pb2.Event.INPUT
        }
        frontier = input_ids - seen_artifacts
    return _topological(_records(store, executions.values()))


def artifacts_of_type(store: MetadataStore, type_name: str) -> list[ArtifactRecord]:
    """Returns every artifact of one type, oldest first, named after the role its producer gave it."""
    artifacts = sorted(store.get_artifacts_by_type(type_name), key=lambda a: a.id)
    if not artifacts:
        return []
    names: dict[int, str] = {}
    # The producer's name for an artifact wins; one never produced here keeps its first reader's name.
    for event in store.get_events_by_artifact_ids([a.id for a in artifacts]):
        if event.type == pb2.Event.OUTPUT or event.artifact_id not in names:
            names[event.artifact_id] = path_name(event)
    return [artifact_record(a, names.get(a.id, "")) for a in artifacts]


def artifact_by_id(store: MetadataStore, artifact_id: int) -> ArtifactRecord:
    """Returns one artifact with its current properties, named after the role its producer gave it.

    Raises:
        LineageError: when no artifact has that id.
    """
    found = store.get_artifacts_by_id([artifact_id])
    if not found:
        raise LineageError(f"no artifact with id {artifact_id} in the lineage store")
    events = store.get_events_by_artifact_ids([artifact_id])
    # As in artifacts_of_type: the producer's name wins, else the first reader's.
    names = [path_name(e) for e in events if e.type == pb2.Event.OUTPUT] + [path_name(e) for e in events]
    return artifact_record(found[0], names[0] if names else "")


def producer(store: MetadataStore, artifact_id: int) -> ExecutionRecord | None:
    """Returns the execution that output an artifact, or None for an artifact nobody produced.

    Raises:
        LineageError: when no artifact has that id.
    """
    if not store.get_artifacts_by_id([artifact_id]):
        raise LineageError(f"no artifact with id {artifact_id} in the lineage store")
    producer_ids = {
        e.execution_id for e in store.get_events_by_artifact_ids([artifact_id]) if e.type == pb2.Event.OUTPUT
    }
    # Outputs are always new artifacts, so an artifact has at most one producer.
    records = _records(store, store.get_executions_by_id(producer_ids)) if producer_ids else []
    return min(records, key=lambda r: r.id) if records else None


def execution_by_id(store: MetadataStore, execution_id: int) -> ExecutionRecord:
    """Returns one execution.

    Raises:
        LineageError: when no execution has that id.
    """
    executions = store.get_executions_by_id([execution_id])
    if not executions:
        raise LineageError(f"no execution with id {execution_id} in the lineage store")
    [record] = _records(store, executions)
    return record


def _records(store: MetadataStore, executions: Iterable[Proto]) -> list[ExecutionRecord]:
    """Builds full records for executions with one batched event and artifact read."""
    listed = list(executions)
    if not listed:
        return []
    events = store.get_events_by_execution_ids([x.id for x in listed])
    artifacts = {a.id: a for a in store.get_artifacts_by_id({e.artifact_id for e in events})}
    return [_record(store, x, [e for e in events if e.execution_id == x.id], artifacts) for x in listed]


def _record(
    store: MetadataStore, execution: Proto, events: Sequence[Proto], artifacts: dict[int, Proto]
) -> ExecutionRecord:
    properties = properties_of(execution.properties)
    contexts = {c.type: c.name for c in store.get_contexts_by_execution(execution.id)}
    # Executions written by other tools lack our times; MLMD's own create/update times stand in for them.
    started = _datetime(properties.get(schema.STARTED), execution.create_time_since_epoch)
    ended = _datetime(properties.get(schema.ENDED), execution.last_update_time_since_epoch)
    error = properties.get(schema.ERROR)

    def side(kind: int) -> tuple[ArtifactRecord, ...]:
        return tuple(
            artifact_record(artifacts[e.artifact_id], path_name(e)) for e in events if e.type == kind
        )

    return ExecutionRecord(
        id=execution.id,
        component=str(properties.get(schema.COMPONENT, "")),
        version=str(properties.get(schema.VERSION, "")),
        run_id=contexts.get(schema.RUN_CONTEXT_TYPE, ""),
        pipeline=contexts.get(schema.PIPELINE_CONTEXT_TYPE, ""),
        state=ExecutionState(pb2.Execution.State.Name(execution.last_known_state)),
        started=started,
        ended=ended,
        duration_seconds=float(properties.get(schema.DURATION, (ended - started).total_seconds())),
        parameters=properties_of(execution.custom_properties),
        error_message=None if error is None else str(error),
        inputs=side(pb2.Event.INPUT),
        outputs=side(pb2.Event.OUTPUT),
    )


def artifact_record(artifact: Proto, name: str) -> ArtifactRecord:
    """Builds the record of an MLMD artifact, given the role it is seen in."""
    return ArtifactRecord(
        id=artifact.id,
        name=name,
        type=artifact.type,
        uri=artifact.uri,
        properties=properties_of(artifact.custom_properties),
    )


def _topological(records: list[ExecutionRecord]) -> list[ExecutionRecord]:
    """Orders records so every producer precedes its consumers; ties go to the earlier start."""
    by_id = {r.id: r for r in records}
    producer_of = {a.id: r.id for r in records for a in r.outputs}
    needs = {r.id: {producer_of[a.id] for a in r.inputs if a.id in producer_of} - {r.id} for r in records}
    consumers: dict[int, set[int]] = {r.id: set() for r in records}
    for consumer, producers in needs.items():
        for producer in producers:
            consumers[producer].add(consumer)
    ready = [(r.started, r.id) for r in records if not needs[r.id]]
    heapq.heapify(ready)
    ordered: list[ExecutionRecord] = []
    while ready:
        _, execution_id = heapq.heappop(ready)
        ordered.append(by_id[execution_id])
        for consumer in consumers[execution_id]:
            needs[consumer].discard(execution_id)
            if not needs[consumer]:
                heapq.heappush(ready, (by_id[consumer].started, consumer))
    if len(ordered) != len(records):
        raise LineageError("the lineage graph has a cycle; the store holds inconsistent events")
    return ordered


def path_name(event: Proto) -> str:
    """The role an event gives its artifact: the first key of the event path."""
    steps = event.path.steps
    return str(steps[0].key) if steps else ""


def _datetime(value: object, fallback_millis: int) -> datetime:
    if isinstance(value, str) and value:
        return datetime.fromisoformat(value).astimezone(UTC)
    return _from_millis(fallback_millis)


def _from_millis(millis: int) -> datetime:
    return datetime.fromtimestamp(millis / 1000, UTC)
