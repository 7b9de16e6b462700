"""Recording an execution around the code that performs it (``with store.execution(...) as ex``)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import TYPE_CHECKING

from components.lineage.records import ArtifactSpec, ExecutionRecord, ExecutionState, PropertyValue
from contracts.errors import LineageError

if TYPE_CHECKING:
    from components.lineage.store import LineageStore


class ExecutionRecorder:
    """Collects an execution's artifacts while it runs and records it when the ``with`` block ends.

    A block that ends normally is recorded COMPLETE; one that raises is recorded FAILED (CANCELED for
    ``KeyboardInterrupt`` and other non-``Exception`` exits) with the error as its message, and the error
    propagates unchanged. Timings come from a monotonic clock, so a wall-clock jump mid-step cannot make a
    duration negative. Obtain one from ``LineageStore.execution``.
    """

    def __init__(
        self,
        store: LineageStore,
        *,
        run_id: str,
        pipeline: str,
        component: str,
        version: str,
        parameters: Mapping[str, PropertyValue],
    ) -> None:
        self._store = store
        self._run_id = run_id
        self._pipeline = pipeline
        self._component = component
        self._version = version
        self._parameters = dict(parameters)
        self._inputs: list[ArtifactSpec] = []
        self._outputs: list[ArtifactSpec] = []
        self._started: datetime | None = None
        self._clock_start = 0.0
        self._record: ExecutionRecord | None = None

    @property
    def store(self) -> LineageStore:
        """The store the execution is recorded in, for a step that also reads it (the registry)."""
        return self._store

    def add_input(
        self,
        name: str,
        artifact_type: str,
        *,
        uri: str,
        properties: Mapping[str, PropertyValue] | None = None,
    ) -> None:
        """Declares an artifact the execution reads.

        When an earlier, successful execution produced an artifact of this type at this URI, that very
        artifact is linked, which is what chains steps together.

        Args:
            name: Its role in this execution, e.g. ``"examples"``.
            artifact_type: Artifact type name, e.g. ``"Dataset"``.
            uri: Where it lives.
            properties: Facts about it; ignored when an earlier producer's artifact is reused.

        Raises:
            LineageError: when an input of that name was already declared.
        """
        self._add(self._inputs, "input", ArtifactSpec(name, artifact_type, uri, dict(properties or {})))

    def add_output(
        self,
        name: str,
        artifact_type: str,
        *,
        uri: str,
        properties: Mapping[str, PropertyValue] | None = None,
    ) -> None:
        """Declares an artifact the execution writes; every output is stored as a new artifact.

        Args:
            name: Its role in this execution, e.g. ``"statistics"``.
            artifact_type: Artifact type name, e.g. ``"Statistics"``.
            uri: Where it lives.
            properties: Facts about it, e.g. ``{"num_examples": 123}``.

        Raises:
            LineageError: when an output of that name was already declared.
        """
        self._add(self._outputs, "output", ArtifactSpec(name, artifact_type, uri, dict(properties or {})))

    @property
    def record(self) -> ExecutionRecord:
        """The execution as stored, once the ``with`` block has ended.

        Raises:
            LineageError: while the block is still running.
        """
        if self._record is None:
            raise LineageError("the execution is recorded when its `with` block ends")
        return self._record

    def __enter__(self) -> ExecutionRecorder:
        if self._started is not None:
            raise LineageError("an ExecutionRecorder records one execution; ask the store for a new one")
        self._started = datetime.now(UTC)
        self._clock_start = time.perf_counter()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        assert self._started is not None, "__exit__ without __enter__"
        ended = self._started + timedelta(seconds=time.perf_counter() - self._clock_start)
        if exc is None:
            self._write(ended, ExecutionState.COMPLETE, None)
            return
        state = ExecutionState.FAILED if isinstance(exc, Exception) else ExecutionState.CANCELED
        try:
            self._write(ended, state, f"{type(exc).__name__}: {exc}")
        except LineageError as lineage_error:
            # The step's own error matters more than the bookkeeping one; keep it and mention the other.
            exc.add_note(f"the failed execution could not be recorded in the lineage store: {lineage_error}")

    def _add(self, specs: list[ArtifactSpec], role: str, spec: ArtifactSpec) -> None:
        # Checked now rather than at the end, so the mistake surfaces before the step does its work.
        if any(s.name == spec.name for s in specs):
            raise LineageError(f"{role} {spec.name!r} was already declared for this execution")
        specs.append(spec)

    def _write(self, ended: datetime, state: ExecutionState, error_message: str | None) -> None:
        assert self._started is not None
        self._record = self._store.record_execution(
            run_id=self._run_id,
            pipeline=self._pipeline,
            component=self._component,
            version=self._version,
            started=self._started,
            ended=ended,
            parameters=self._parameters,
            inputs=self._inputs,
            outputs=self._outputs,
            state=state,
            error_message=error_message,
        )
