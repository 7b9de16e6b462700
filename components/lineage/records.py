"""Plain values going into and coming out of the lineage store; no ML Metadata types leak past them."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from components.lineage._mlmd import PropertyValue

__all__ = [
    "ActionRecord",
    "ActionSpec",
    "ArtifactRecord",
    "ArtifactSpec",
    "ContextRecord",
    "ExecutionRecord",
    "ExecutionState",
    "PropertyValue",
    "RunRecord",
]


class ExecutionState(enum.StrEnum):
    """How an execution ended; the names are ML Metadata's ``Execution.State`` names."""

    COMPLETE = "COMPLETE"
    FAILED = "FAILED"
    CACHED = "CACHED"
    CANCELED = "CANCELED"
    RUNNING = "RUNNING"
    NEW = "NEW"
    UNKNOWN = "UNKNOWN"


@dataclass(frozen=True)
class ArtifactSpec:
    """An artifact to record as an input or output of an execution.

    Attributes:
        name: The artifact's role in that execution (``"examples"``, ``"model"``); stored in the event path.
        type: Artifact type name, e.g. ``"Dataset"``, ``"Statistics"``, ``"Model"``.
        uri: Where the artifact's content lives.
        properties: Extra facts about the artifact (row count, metric values...).
    """

    name: str
    type: str
    uri: str
    properties: Mapping[str, PropertyValue] = field(default_factory=dict)


@dataclass(frozen=True)
class ArtifactRecord:
    """An artifact as stored.

    Attributes:
        id: ML Metadata artifact id; the same artifact keeps its id across the steps that share it.
        name: Its role in the execution it was read with (the event path), else its producing role.
        type: Artifact type name.
        uri: Where its content lives.
        properties: Its custom properties: those recorded when it was first stored, plus any later
            updates made with ``LineageStore.commit_actions``.
    """

    id: int
    name: str
    type: str
    uri: str
    properties: Mapping[str, PropertyValue]

    def to_dict(self) -> dict[str, Any]:
        """Returns a JSON-ready dict."""
        return {
            "id": self.id,
            "name": self.name,
            "type": self.type,
            "uri": self.uri,
            "properties": dict(self.properties),
        }


@dataclass(frozen=True)
class ExecutionRecord:
    """One recorded run of one component.

    Attributes:
        id: ML Metadata execution id.
        component: Component name.
        version: Component version (git sha locally, image digest in the cluster).
        run_id: The pipeline run it belongs to.
        pipeline: The pipeline that run belongs to.
        state: How it ended.
        started: Start time, UTC.
        ended: End time, UTC.
        duration_seconds: ``ended - started`` in seconds.
        parameters: Its parameters.
        error_message: Why it failed, when it did.
        inputs: Artifacts it read, in the order MLMD returns their events (recorded order with SQLite).
        outputs: Artifacts it wrote, likewise.
    """

    id: int
    component: str
    version: str
    run_id: str
    pipeline: str
    state: ExecutionState
    started: datetime
    ended: datetime
    duration_seconds: float
    parameters: Mapping[str, PropertyValue]
    error_message: str | None
    inputs: tuple[ArtifactRecord, ...]
    outputs: tuple[ArtifactRecord, ...]

    def to_dict(self) -> dict[str, Any]:
        """Returns a JSON-ready dict (times as ISO-8601 strings)."""
        return {
            "id": self.id,
            "component": self.component,
            "version": self.version,
            "run_id": self.run_id,
            "pipeline": self.pipeline,
            "state": self.state.value,
            "started": self.started.isoformat(),
            "ended": self.ended.isoformat(),
            "duration_seconds": self.duration_seconds,
            "parameters": dict(self.parameters),
            "error_message": self.error_message,
            "inputs": [artifact.to_dict() for artifact in self.inputs],
            "outputs": [artifact.to_dict() for artifact in self.outputs],
        }


@dataclass(frozen=True)
class RunRecord:
    """A pipeline run known to the store.

    Attributes:
        run_id: The run id (the run context's name).
        pipeline: The pipeline it ran.
        created: When the run was first recorded, UTC.
    """

    run_id: str
    pipeline: str
    created: datetime

    def to_dict(self) -> dict[str, Any]:
        """Returns a JSON-ready dict."""
        return {"run_id": self.run_id, "pipeline": self.pipeline, "created": self.created.isoformat()}


@dataclass(frozen=True)
class ContextRecord:
    """A group of executions and artifacts (a pipeline run, a registered model...).

    Attributes:
        id: ML Metadata context id.
        type: Context type name, e.g. ``"RegisteredModel"``.
        name: Its name, unique among contexts of its type.
    """

    id: int
    type: str
    name: str


@dataclass(frozen=True)
class ActionSpec:
    """A decision taken about existing artifacts, recorded as an execution that is not a component run.

    A stage transition in the model registry is one: it reads a model version and changes its stage.

    Attributes:
        type: Execution type name, e.g. ``"StageTransition"``; never ``"ComponentExecution"``.
        name: Unique among executions of ``type``. A writer whose action name was taken first writes
            nothing, which makes names usable as optimistic-concurrency tokens.
        properties: Facts about the decision (str, int, float or bool values).
        inputs: The artifacts it is about: role (the event path) to artifact id.
    """

    type: str
    name: str
    properties: Mapping[str, PropertyValue] = field(default_factory=dict)
    inputs: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class ActionRecord:
    """An action as stored.

    Attributes:
        id: ML Metadata execution id.
        type: Execution type name.
        name: Its unique name.
        properties: Its properties.
        inputs: The artifacts it is about, named by their role, as they are now (current properties).
        created: When the store recorded it, UTC, millisecond precision.
    """

    id: int
    type: str
    name: str
    properties: Mapping[str, PropertyValue]
    inputs: tuple[ArtifactRecord, ...]
    created: datetime

    def to_dict(self) -> dict[str, Any]:
        """Returns a JSON-ready dict (times as ISO-8601 strings)."""
        return {
            "id": self.id,
            "type": self.type,
            "name": self.name,
            "properties": dict(self.properties),
            "inputs": [artifact.to_dict() for artifact in self.inputs],
            "created": self.created.isoformat(),
        }
