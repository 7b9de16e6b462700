"""The lineage report of a model version: where it came from, step by step, and what happened to it since.

Everything is read generically from the upstream executions in the lineage store, so a step added to the
pipeline shows up in the report without a change here.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from components.lineage import ArtifactRecord, ExecutionRecord, LineageStore
from components.registry.registry import ModelRegistry


def version_lineage(store: LineageStore, registry: ModelRegistry, version: str | int) -> dict[str, Any]:
    """Builds the JSON-ready lineage report of one version.

    Args:
        store: The lineage store the registry writes to.
        registry: The registry of the version's model.
        version: ``"v3"``, ``"3"`` or ``3``.

    Returns:
        A dict with ``model``; ``version`` (the registry fields: stage, URI, metrics, blessing verdict and
        checks, run, code version, previous production); ``transitions`` (its stage history); ``steps``
        (every upstream execution, producers first: component, code version, run, state, start, end,
        duration, parameters, inputs and outputs with ids, URIs and properties); ``artifacts`` (each
        artifact of the chain once, grouped by type: data batches, statistics, schema, anomalies, model...);
        and ``timing`` (first start, last end, wall and summed step seconds).

    Raises:
        RegistryError: when the model has no such version.
        LineageError: when the store cannot be read.

    Example:
        >>> report = version_lineage(store, registry, "v3")
        >>> [step["component"] for step in report["steps"]]
        ['ingest', 'statistics', 'validate', 'train', 'evaluate', 'register']
    """
    found = registry.get(version)
    steps = store.upstream(found.artifact_id)
    return {
        "model": registry.model_name,
        "version": found.to_dict(),
        "transitions": [t.to_dict() for t in registry.history(found.version)],
        "steps": [_step(record) for record in steps],
        "artifacts": _artifacts_by_type(steps),
        "timing": _timing(steps),
    }


def _step(record: ExecutionRecord) -> dict[str, Any]:
    step = record.to_dict()
    # The step's version is its code version; named so it is not read as the model version.
    step["code_version"] = step.pop("version")
    return step


def _artifacts_by_type(steps: Iterable[ExecutionRecord]) -> dict[str, list[dict[str, Any]]]:
    seen: dict[int, ArtifactRecord] = {}
    for record in steps:
        for artifact in (*record.inputs, *record.outputs):
            # The first sighting walking producers-first is the producer's, whose role name is canonical.
            seen.setdefault(artifact.id, artifact)
    grouped: dict[str, list[dict[str, Any]]] = {}
    for artifact in sorted(seen.values(), key=lambda a: a.id):
        grouped.setdefault(artifact.type, []).append(artifact.to_dict())
    return dict(sorted(grouped.items()))


def _timing(steps: list[ExecutionRecord]) -> dict[str, Any]:
    if not steps:
        return {"started": None, "ended": None, "wall_seconds": 0.0, "step_seconds": 0.0}
    started = min(record.started for record in steps)
    ended = max(record.ended for record in steps)
    return {
        "started": started.isoformat(),
        "ended": ended.isoformat(),
        "wall_seconds": (ended - started).total_seconds(),
        "step_seconds": sum(record.duration_seconds for record in steps),
    }
