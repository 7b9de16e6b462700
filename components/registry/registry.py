"""The model registry: versions of one registered model, their stages and every stage change, in MLMD.

Writes are safe against concurrent writers twice over:

1. A ``WriterLock`` (``flock``) lets one writer per lock file work at a time on this machine.
2. Every write commits its stage transitions under sequence-numbered names (``flight-delay#7``) computed
   from the state it read. MLMD names are unique per type, so of two writers that read the same state
   only the first commits; the other's whole transaction is refused and it re-reads and retries. This
   holds on any store (SQLite, MySQL, gRPC) and across machines, where no file lock reaches.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from components.lineage import ActionSpec, ContextRecord, LineageStore, PropertyValue
from components.registry import records as keys
from components.registry.lock import WriterLock
from components.registry.records import (
    MODEL_VERSION_TYPE,
    REGISTERED_MODEL_TYPE,
    STAGE_TRANSITION_TYPE,
    ModelVersion,
    Transition,
    check_model_name,
    version_name,
    version_number,
    version_properties,
)
from components.registry.stages import INITIAL, NEEDS_BLESSING, Stage, check_transition, parse_stage
from contracts.errors import RegistryError
from contracts.names import MODEL_NAME

_MAX_ATTEMPTS = 50
_RETRY_SECONDS = 0.01


@dataclass(frozen=True)
class _Move:
    """One stage change to commit: which artifact, to which stage, and the version fields to set."""

    artifact_id: int
    version: str
    from_stage: Stage | None
    to_stage: Stage
    reason: str
    trigger: str
    fields: dict[str, PropertyValue] = field(default_factory=dict)


@dataclass(frozen=True)
class _State:
    """The model as one writer read it: its context, versions by name and last transition number."""

    context: ContextRecord
    versions: dict[str, ModelVersion]
    sequence: int

    def in_stage(self, stage: Stage) -> list[ModelVersion]:
        return [v for v in self.versions.values() if v.stage == stage]

    def version(self, text: str | int) -> ModelVersion:
        name = version_name(version_number(text))
        if name not in self.versions:
            raise RegistryError(f"model {self.context.name!r} has no version {name}")
        return self.versions[name]


class ModelRegistry:
    """Registered versions of one model and their stages, kept in the lineage store.

    Example:
        >>> with open_store("sqlite:///.mlops/metadata.sqlite") as store:
        ...     registry = ModelRegistry(store, lock_path=Path(".mlops/registry.lock"), actor="pipeline")
        ...     version = registry.register(artifact_id, reason="scheduled retraining")
        ...     registry.transition(version.version, Stage.PRODUCTION, reason="beats v3 on AUC")
    """

    def __init__(
        self,
        store: LineageStore,
        *,
        model_name: str = MODEL_NAME,
        lock_path: Path | None = None,
        actor: str = "unknown",
        lock_timeout_seconds: float = 60.0,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        """Binds the registry to a store and a model; nothing is written until the first change.

        Args:
            store: An open lineage store.
            model_name: The registered model (its ``RegisteredModel`` context name).
            lock_path: Lock file shared by this machine's writers, usually beside a SQLite store. None
                skips the file lock; writes stay correct through the store's unique transition names.
            actor: Who makes the changes, recorded with each transition (``pipeline``, ``cli:alice``).
            lock_timeout_seconds: How long a write waits for another writer's lock.
            clock: Current UTC time; tests pass a fixed one.
        """
        self._store = store
        self.model_name = check_model_name(model_name)
        self._lock_path = lock_path
        self._lock_timeout = lock_timeout_seconds
        self.actor = actor
        self._clock = clock or (lambda: datetime.now(UTC))

    # Reads ------------------------------------------------------------------------------------------

    def list_versions(self) -> list[ModelVersion]:
        """Returns every version, oldest first."""
        return sorted(self._read().versions.values(), key=lambda v: v.number)

    def get(self, version: str | int) -> ModelVersion:
        """Returns one version (``"v3"``, ``"3"`` or ``3``).

        Raises:
            RegistryError: when the model has no such version.
        """
        return self._read().version(version)

    def production(self) -> ModelVersion | None:
        """Returns the version in production, or None when there is none."""
        current = self._read().in_stage(Stage.PRODUCTION)
        return current[0] if current else None

    def history(self, version: str | int) -> list[Transition]:
        """Returns a version's stage changes, oldest first, read from its ``StageTransition`` events.

        Raises:
            RegistryError: when the model has no such version.
        """
        artifact_id = self.get(version).artifact_id
        actions = self._store.actions_on_artifact(artifact_id, STAGE_TRANSITION_TYPE)
        return sorted((Transition.from_action(a) for a in actions), key=lambda t: t.sequence)

    def transitions(self) -> list[Transition]:
        """Returns every stage change of the model, in the order they were committed."""
        context = self._store.find_context(REGISTERED_MODEL_TYPE, self.model_name)
        if context is None:
            return []
        actions = self._store.actions_of_context(context.id, STAGE_TRANSITION_TYPE)
        return sorted((Transition.from_action(a) for a in actions), key=lambda t: t.sequence)

    # Writes -----------------------------------------------------------------------------------------

    def register(
        self,
        artifact_id: int,
        *,
        stage: Stage | str | None = None,
        reason: str = "registered",
    ) -> ModelVersion:
        """Registers a ``ModelVersion`` artifact as the model's next version (``v1``, ``v2``, ...).

        The artifact must be the output of a recorded execution (the pipeline's register step) and carry
        ``version_properties``. Registering the same artifact again returns the version it already is,
        so a retried register step does not create a second version.

        Args:
            artifact_id: The ``ModelVersion`` artifact's id.
            stage: The first stage: candidate, blessed or rejected. By default blessed when the blessing
                verdict is positive, else rejected.
            reason: Why, recorded with the registration.

        Returns:
            The registered version.

        Raises:
            RegistryError: for a wrong artifact type, one nobody produced, missing blessing properties,
                an artifact of another model, a stage not allowed at registration, or one the blessing
                does not support.
        """
        requested = None if stage is None else parse_stage(stage)

        def plan(state: _State) -> list[_Move]:
            if any(v.artifact_id == artifact_id for v in state.versions.values()):
                return []
            artifact = self._store.artifact(artifact_id)
            owner = artifact.properties.get(keys.MODEL)
            if owner is not None:
                raise RegistryError(f"artifact {artifact_id} is already a version of model {owner!r}")
            if artifact.type != MODEL_VERSION_TYPE:
                raise RegistryError(
                    f"artifact {artifact_id} is a {artifact.type}, not a {MODEL_VERSION_TYPE}; the register "
                    f"step records the version as an output of type {MODEL_VERSION_TYPE}"
                )
            blessed = artifact.properties.get(keys.BLESSED)
            if not isinstance(blessed, bool):
                raise RegistryError(
                    f"artifact {artifact_id} has no blessing verdict; record it with version_properties()"
                )
            producer = self._store.producer(artifact_id)
            if producer is None:
                raise RegistryError(
                    f"artifact {artifact_id} was not produced by a recorded execution, so it has no lineage; "
                    "record it as the output of the register step"
                )
            first = requested or (Stage.BLESSED if blessed else Stage.REJECTED)
            if first not in INITIAL:
                allowed = ", ".join(sorted(s.value for s in INITIAL))
                raise RegistryError(f"a version starts as {allowed}, not {first.value}")
            if first in NEEDS_BLESSING and not blessed:
                raise RegistryError(
                    f"artifact {artifact_id} was not blessed by evaluation, so it cannot start as {first.value}"
                )
            number = max((v.number for v in state.versions.values()), default=0) + 1
            now = self._now()
            fields: dict[str, PropertyValue] = {
                keys.MODEL: self.model_name,
                keys.VERSION: version_name(number),
                keys.NUMBER: number,
                keys.REGISTERED_AT: now,
                keys.RUN_ID: producer.run_id,
                keys.PIPELINE: producer.pipeline,
                keys.CODE_VERSION: producer.version,
            }
            return [_Move(artifact_id, version_name(number), None, first, reason, "register", fields)]

        self._write(plan)
        [registered] = [v for v in self._read().versions.values() if v.artifact_id == artifact_id]
        return registered

    def transition(self, version: str | int, to_stage: Stage | str, *, reason: str) -> ModelVersion:
        """Moves a version to another stage, as the stage table allows.

        Promotion to production archives the version in production in the same transaction and records
        it as the new version's ``previous_production``. At most one version is canary at a time.

        Args:
            version: ``"v3"``, ``"3"`` or ``3``.
            to_stage: The stage to move it to.
            reason: Why, recorded with the transition.

        Returns:
            The version after the change.

        Raises:
            RegistryError: for an unknown version, a change the table forbids (rejected and rolled_back
                are terminal; only blessed and canary versions become production), a version whose
                blessing is negative going to a serving stage, or a second canary.
        """
        target = parse_stage(to_stage)

        def plan(state: _State) -> list[_Move]:
            chosen = state.version(version)
            check_transition(chosen.version, chosen.stage, target, blessed=chosen.blessed)
            if target == Stage.CANARY:
                others = [v.version for v in state.in_stage(Stage.CANARY)]
                if others:
                    raise RegistryError(
                        f"{others[0]} is already canary; move it on before starting a canary of {chosen.version}"
                    )
            if target != Stage.PRODUCTION:
                return [_move(chosen, target, reason, "transition")]
            moves = [
                _move(old, Stage.ARCHIVED, f"replaced by {chosen.version}: {reason}", "replaced")
                for old in state.in_stage(Stage.PRODUCTION)
            ]
            previous = moves[0].version if moves else ""
            fields: dict[str, PropertyValue] = {keys.PREVIOUS_PRODUCTION: previous}
            return [*moves, _move(chosen, Stage.PRODUCTION, reason, "promote", fields)]

        self._write(plan)
        return self.get(version)

    def judge(
        self,
        version: str | int,
        *,
        blessed: bool,
        metrics: Mapping[str, Any],
        checks: Sequence[Mapping[str, Any]],
        reason: str,
    ) -> ModelVersion:
        """Blesses or rejects a ``candidate`` with a blessing decided after it was registered.

        An experiment's runs register candidates; promoting one judges it against the production version
        of that moment. The new blessing replaces the recorded one and the stage follows it, in one
        transaction.

        Raises:
            RegistryError: for an unknown version or one that is not a candidate.
        """

        def plan(state: _State) -> list[_Move]:
            chosen = state.version(version)
            if chosen.stage != Stage.CANDIDATE:
                raise RegistryError(
                    f"{chosen.version} is {chosen.stage.value}, not a candidate: only a candidate is judged again"
                )
            fields = version_properties(metrics=metrics, blessed=blessed, checks=checks)
            target = Stage.BLESSED if blessed else Stage.REJECTED
            return [_move(chosen, target, reason, "blessing", dict(fields))]

        self._write(plan)
        return self.get(version)

    def promote(self, version: str | int, *, reason: str) -> ModelVersion:
        """Moves a blessed or canary version to production; see ``transition``."""
        return self.transition(version, Stage.PRODUCTION, reason=reason)

    def rollback(self, *, reason: str) -> ModelVersion:
        """Returns production to the version that was in production before the current one.

        The current production version becomes ``rolled_back`` (terminal: it was found wanting) and its
        ``previous_production``, which was archived, becomes production again, in one transaction.

        Args:
            reason: Why, recorded with both transitions.

        Returns:
            The version now in production.

        Raises:
            RegistryError: when nothing is in production, the production version has no previous one, or
                that previous version is no longer archived.
        """

        def plan(state: _State) -> list[_Move]:
            withdrawn, restored = self._rollback_pair(state)
            return [
                _move(withdrawn, Stage.ROLLED_BACK, reason, "rollback"),
                _move(restored, Stage.PRODUCTION, f"rollback from {withdrawn.version}: {reason}", "rollback"),
            ]

        self._write(plan)
        restored = self.production()
        assert restored is not None, "a committed rollback leaves a version in production"
        return restored

    def rollback_target(self) -> ModelVersion:
        """The version ``rollback`` would put back in production, checked the same way, changing nothing.

        A caller that must change something else first (the served deployment) asks here, so that a
        refused rollback is refused before anything moved.

        Raises:
            RegistryError: as ``rollback`` would.
        """
        return self._rollback_pair(self._read())[1]

    def _rollback_pair(self, state: _State) -> tuple[ModelVersion, ModelVersion]:
        """The production version a rollback withdraws and the one it restores."""
        current = state.in_stage(Stage.PRODUCTION)
        if not current:
            raise RegistryError(
                f"model {self.model_name!r} has no version in production, so there is nothing to roll back"
            )
        withdrawn = current[0]
        if withdrawn.previous_production is None:
            raise RegistryError(
                f"{withdrawn.version} has no previous production version to roll back to "
                "(nothing was in production when it was promoted)"
            )
        restored = state.version(withdrawn.previous_production)
        if restored.stage != Stage.ARCHIVED:
            raise RegistryError(
                f"cannot roll back to {restored.version}: it is {restored.stage.value}, not archived"
            )
        return withdrawn, restored

    # Internals --------------------------------------------------------------------------------------

    def _read(self) -> _State:
        context = self._store.find_context(REGISTERED_MODEL_TYPE, self.model_name)
        return self._state(context) if context else _State(_empty_context(self.model_name), {}, 0)

    def _state(self, context: ContextRecord) -> _State:
        # Sequence first, versions second: a commit landing between the two reads is then either seen in
        # the versions too, or it took our next number and our own commit is refused. The other order
        # could pair a fresh number with stale versions and let a decision on stale data through.
        actions = self._store.actions_of_context(context.id, STAGE_TRANSITION_TYPE)
        sequence = max((int(a.properties[keys.SEQUENCE]) for a in actions), default=0)
        artifacts = self._store.artifacts_of_context(context.id, MODEL_VERSION_TYPE)
        versions = [ModelVersion.from_artifact(a) for a in artifacts if a.properties.get(keys.VERSION)]
        by_name = {v.version: v for v in versions}
        if len(by_name) != len(versions):
            # Only a writer bypassing the registry could do this; deciding on such a state would spread it.
            raise RegistryError(
                f"model {self.model_name!r} has two artifacts with the same version name in the store; "
                "repair the store before changing stages"
            )
        return _State(context, by_name, sequence)

    def _write(self, plan: Callable[[_State], Sequence[_Move]]) -> None:
        """Reads, plans and commits until a commit wins the race; plans raise to refuse a change."""
        with self._lock():
            context = self._store.ensure_context(REGISTERED_MODEL_TYPE, self.model_name)
            for attempt in range(_MAX_ATTEMPTS):
                state = self._state(context)
                moves = plan(state)
                if not moves or self._commit(state, moves):
                    return
                # Another writer committed first (another machine, or no lock file): re-read and re-plan.
                time.sleep(_RETRY_SECONDS * (1 + attempt) * random.random())
        raise RegistryError(
            f"gave up after {_MAX_ATTEMPTS} attempts: other writers of model {self.model_name!r} kept "
            "committing first"
        )

    def _commit(self, state: _State, moves: Sequence[_Move]) -> bool:
        now = self._now()
        actions = []
        updates: dict[int, dict[str, PropertyValue]] = {}
        for offset, move in enumerate(moves, start=1):
            sequence = state.sequence + offset
            actions.append(
                ActionSpec(
                    type=STAGE_TRANSITION_TYPE,
                    # The name is the concurrency token: a second commit of this number fails whole.
                    name=f"{self.model_name}#{sequence}",
                    properties={
                        keys.MODEL: self.model_name,
                        keys.VERSION: move.version,
                        keys.FROM_STAGE: "" if move.from_stage is None else move.from_stage.value,
                        keys.TO_STAGE: move.to_stage.value,
                        keys.REASON: move.reason,
                        keys.ACTOR: self.actor,
                        keys.TRIGGER: move.trigger,
                        keys.TIME: now,
                        keys.SEQUENCE: sequence,
                    },
                    inputs={"version": move.artifact_id},
                )
            )
            updates.setdefault(move.artifact_id, {}).update(
                {keys.STAGE: move.to_stage.value, keys.STAGE_CHANGED_AT: now, **move.fields}
            )
        return self._store.commit_actions(state.context.id, actions, artifact_updates=updates) is not None

    def _lock(self) -> AbstractContextManager[object]:
        if self._lock_path is None:
            return nullcontext()
        return WriterLock(self._lock_path, timeout_seconds=self._lock_timeout)

    def _now(self) -> str:
        return self._clock().astimezone(UTC).isoformat()


def _move(
    version: ModelVersion,
    to_stage: Stage,
    reason: str,
    trigger: str,
    fields: dict[str, PropertyValue] | None = None,
) -> _Move:
    return _Move(version.artifact_id, version.version, version.stage, to_stage, reason, trigger, fields or {})


def _empty_context(model_name: str) -> ContextRecord:
    # A model nobody registered yet reads as empty; its context is created by the first write.
    return ContextRecord(id=0, type=REGISTERED_MODEL_TYPE, name=model_name)
