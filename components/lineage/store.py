"""The lineage store: one connection to ML Metadata with typed write and read operations."""

from __future__ import annotations

import random
import time
from collections.abc import Mapping, Sequence
from datetime import datetime
from types import TracebackType

from ml_metadata.metadata_store.metadata_store import MetadataStore

from components.lineage import actions, reader, writer
from components.lineage._mlmd import translated
from components.lineage.config import SqliteConfig, StoreConfig, parse_metadata_uri
from components.lineage.recorder import ExecutionRecorder
from components.lineage.records import (
    ActionRecord,
    ActionSpec,
    ArtifactRecord,
    ArtifactSpec,
    ContextRecord,
    ExecutionRecord,
    ExecutionState,
    PropertyValue,
    RunRecord,
)
from components.lineage.schema import TypeRegistry
from contracts.errors import LineageError

_CONCURRENT_WRITES = "Concurrent writes aborted"
_OPEN_ATTEMPTS = 6
_OPEN_BACKOFF_SECONDS = 0.05


class LineageStore:
    """Records component executions and reads their lineage back.

    Open one per process (each KFP step is its own process) and close it when done, ideally with
    ``with open_store(uri) as store:``. Several processes may use one SQLite file one after another.
    """

    def __init__(self, config: StoreConfig) -> None:
        """Connects to the store, creating a SQLite file and its folders when missing.

        Args:
            config: Where the store is, usually from ``parse_metadata_uri``.

        Raises:
            LineageError: when the store cannot be opened.
        """
        self._config = config
        if isinstance(config, SqliteConfig):
            try:
                config.path.absolute().parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise LineageError(f"cannot create the folder for {config.path}: {exc}") from exc
        with translated(f"opening {config!r}"):
            self._mlmd: MetadataStore | None = _connect(config)
        self._types = TypeRegistry()

    @property
    def config(self) -> StoreConfig:
        """Where this store is."""
        return self._config

    def close(self) -> None:
        """Releases the connection; further calls raise ``LineageError``. Closing twice is harmless."""
        # MetadataStore has no close(); its C++ handle, and with it the database connection, is released
        # when the last reference goes, so dropping ours is the close.
        self._mlmd = None

    def __enter__(self) -> LineageStore:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    def execution(
        self,
        *,
        run_id: str,
        pipeline: str,
        component: str,
        version: str,
        parameters: Mapping[str, PropertyValue] | None = None,
    ) -> ExecutionRecorder:
        """Returns a context manager that records the execution of its ``with`` block.

        Args:
            run_id: The pipeline run (its MLMD context name).
            pipeline: The pipeline's name.
            component: The component's name.
            version: The component's version: git sha locally, image digest in the cluster.
            parameters: The component's parameters (str, int, float or bool values).

        Returns:
            A recorder: declare artifacts with ``add_input``/``add_output``; read ``record`` afterwards.

        Example:
            >>> with store.execution(run_id="run-1", pipeline="continuous-training",
            ...                      component="statistics", version="abc123", parameters={"month": 7}) as ex:
            ...     ex.add_input("examples", "Dataset", uri="/data/2013-07.parquet")
            ...     ex.add_output("statistics", "Statistics", uri="/out/stats.pb", properties={"rows": 9})
        """
        return ExecutionRecorder(
            self,
            run_id=run_id,
            pipeline=pipeline,
            component=component,
            version=version,
            parameters=parameters or {},
        )

    def record_execution(
        self,
        *,
        run_id: str,
        pipeline: str,
        component: str,
        version: str,
        started: datetime,
        ended: datetime,
        parameters: Mapping[str, PropertyValue] | None = None,
        inputs: Sequence[ArtifactSpec] = (),
        outputs: Sequence[ArtifactSpec] = (),
        state: ExecutionState = ExecutionState.COMPLETE,
        error_message: str | None = None,
    ) -> ExecutionRecord:
        """Records a finished execution in one transaction.

        Each input is linked to the newest artifact of the same type and URI that a COMPLETE (or CACHED)
        execution produced, so lineage chains across steps; an input nobody produced, and every output,
        becomes a new artifact. The execution and its artifacts join the run's ``PipelineRun`` context and
        the ``Pipeline`` context, created on first use.

        Args:
            run_id: The pipeline run.
            pipeline: The pipeline's name; a run belongs to exactly one pipeline.
            component: The component's name.
            version: The component's version.
            started: Start time, timezone-aware.
            ended: End time, timezone-aware, not before ``started``.
            parameters: The component's parameters (str, int, float or bool values).
            inputs: Artifacts read, names unique among inputs.
            outputs: Artifacts written, names unique among outputs.
            state: How the execution ended.
            error_message: Why it failed, for FAILED executions.

        Returns:
            The execution as stored, with artifact ids.

        Raises:
            LineageError: for invalid arguments, a run already bound to another pipeline, or a store error.
        """
        mlmd = self._open()
        with translated(f"recording {component!r} of run {run_id!r}"):
            execution_id = writer.write_execution(
                mlmd,
                self._types,
                run_id=run_id,
                pipeline=pipeline,
                component=component,
                version=version,
                started=started,
                ended=ended,
                state=state,
                parameters=parameters or {},
                inputs=inputs,
                outputs=outputs,
                error_message=error_message,
            )
            return reader.execution_by_id(mlmd, execution_id)

    def list_runs(self) -> list[RunRecord]:
        """Returns every recorded pipeline run, oldest first."""
        with translated("listing runs"):
            return reader.list_runs(self._open())

    def executions_of_run(self, run_id: str) -> list[ExecutionRecord]:
        """Returns a run's executions ordered by start time.

        Raises:
            LineageError: when the run is unknown.
        """
        with translated(f"reading run {run_id!r}"):
            return reader.executions_of_run(self._open(), run_id)

    def upstream(self, artifact_id: int) -> list[ExecutionRecord]:
        """Returns the executions an artifact derives from, producers before consumers.

        The last one is the artifact's own producer; a raw input's upstream is empty.

        Raises:
            LineageError: when the artifact is unknown.
        """
        with translated(f"walking the upstream of artifact {artifact_id}"):
            return reader.upstream(self._open(), artifact_id)

    def artifacts_of_type(self, type_name: str) -> list[ArtifactRecord]:
        """Returns every artifact of one type (e.g. ``"Model"``), oldest first."""
        with translated(f"listing {type_name!r} artifacts"):
            return reader.artifacts_of_type(self._open(), type_name)

    def artifact(self, artifact_id: int) -> ArtifactRecord:
        """Returns one artifact with its current properties.

        Raises:
            LineageError: when the artifact is unknown.
        """
        with translated(f"reading artifact {artifact_id}"):
            return reader.artifact_by_id(self._open(), artifact_id)

    def producer(self, artifact_id: int) -> ExecutionRecord | None:
        """Returns the execution that output an artifact, or None when nobody produced it (raw input).

        Raises:
            LineageError: when the artifact is unknown.
        """
        with translated(f"finding the producer of artifact {artifact_id}"):
            return reader.producer(self._open(), artifact_id)

    def ensure_context(self, type_name: str, name: str) -> ContextRecord:
        """Returns the context ``name`` of type ``type_name`` (e.g. a registered model), creating it if needed.

        Safe when several processes create the same context at once: all get the one stored.
        """
        with translated(f"creating context {type_name}/{name}"):
            return actions.ensure_context(self._open(), self._types, type_name, name)

    def find_context(self, type_name: str, name: str) -> ContextRecord | None:
        """Returns the context ``name`` of type ``type_name``, or None when it does not exist."""
        with translated(f"reading context {type_name}/{name}"):
            return actions.find_context(self._open(), type_name, name)

    def artifacts_of_context(self, context_id: int, type_name: str) -> list[ArtifactRecord]:
        """Returns the artifacts of one type attributed to a context, oldest first, with current properties."""
        with translated(f"listing {type_name!r} artifacts of context {context_id}"):
            return actions.artifacts_of_context(self._open(), context_id, type_name)

    def actions_of_context(self, context_id: int, type_name: str) -> list[ActionRecord]:
        """Returns the actions of one type associated with a context, oldest first."""
        with translated(f"listing {type_name!r} actions of context {context_id}"):
            return actions.actions_of_context(self._open(), context_id, type_name)

    def actions_on_artifact(self, artifact_id: int, type_name: str) -> list[ActionRecord]:
        """Returns the actions of one type that took the artifact as an input, oldest first.

        Raises:
            LineageError: when the artifact is unknown.
        """
        with translated(f"listing {type_name!r} actions on artifact {artifact_id}"):
            return actions.actions_on_artifact(self._open(), artifact_id, type_name)

    def commit_actions(
        self,
        context_id: int,
        actions_to_record: Sequence[ActionSpec],
        *,
        artifact_updates: Mapping[int, Mapping[str, PropertyValue]] | None = None,
    ) -> list[ActionRecord] | None:
        """Records actions and updates artifacts' properties, all in one transaction.

        Updated properties are merged into the artifacts' custom properties (a key given replaces its old
        value; other keys stay). Each artifact updated or named as an input is attributed to the context,
        and each action is associated with it. Updates are read-modify-write: callers that may race on the
        same artifacts serialize through unique action names, as the model registry does.

        Args:
            context_id: The context grouping the actions (from ``ensure_context``).
            actions_to_record: The actions, in order; names unique per action type.
            artifact_updates: Artifact id to the properties to set on it.

        Returns:
            The recorded actions, in the given order; or None when another writer already recorded an
            action with one of these names, in which case nothing of this call was written.

        Raises:
            LineageError: for invalid specs, an unknown artifact or context, or a store error.

        Example:
            >>> model = store.ensure_context("RegisteredModel", "flight-delay")
            >>> store.commit_actions(
            ...     model.id,
            ...     [ActionSpec("StageTransition", "flight-delay/1", {"to_stage": "blessed"}, {"version": 7})],
            ...     artifact_updates={7: {"stage": "blessed"}},
            ... )
        """
        mlmd = self._open()
        with translated(f"committing {len(actions_to_record)} action(s) on context {context_id}"):
            return actions.commit(mlmd, self._types, context_id, actions_to_record, artifact_updates or {})

    def _open(self) -> MetadataStore:
        if self._mlmd is None:
            raise LineageError("the lineage store is closed")
        return self._mlmd


def _connect(config: StoreConfig) -> MetadataStore:
    """Opens MLMD, retrying the SQLite schema check that fails when other processes open the file at once.

    Opening a SQLite store runs a schema transaction; MLMD gives up on it after a few busy retries and
    raises ``RuntimeError("Concurrent writes aborted ...")`` when several processes open the same file
    together (measured: 1 to 3 of 12 simultaneous opens). Reads and writes after opening retry on their own.
    """
    for attempt in range(_OPEN_ATTEMPTS):
        try:
            return MetadataStore(config.to_proto())
        except RuntimeError as exc:
            if _CONCURRENT_WRITES not in str(exc) or attempt == _OPEN_ATTEMPTS - 1:
                raise
        # Jitter spreads out processes that collided, so they do not collide again in step.
        time.sleep(_OPEN_BACKOFF_SECONDS * (2**attempt) * (1 + random.random()))
    raise AssertionError("unreachable: the last attempt returns or raises")


def open_store(uri: str) -> LineageStore:
    """Opens the lineage store a metadata URI names.

    Args:
        uri: See ``parse_metadata_uri``, e.g. ``"sqlite:///.mlops/metadata.sqlite"``.

    Returns:
        An open store; use it in a ``with`` block to close it.

    Raises:
        ConfigError: when the URI is malformed.
        LineageError: when the store cannot be opened.

    Example:
        >>> with open_store("sqlite:///.mlops/metadata.sqlite") as store:
        ...     runs = store.list_runs()
    """
    return LineageStore(parse_metadata_uri(uri))
