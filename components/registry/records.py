"""The registry's vocabulary in ML Metadata and its typed records: model versions and stage transitions.

A version is an MLMD artifact of type ``ModelVersion`` whose custom properties hold its registry fields;
a transition is an MLMD execution of type ``StageTransition`` with the version as its input. Both are read
back from the lineage store's plain records, so nothing here touches ML Metadata itself.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from components.lineage import ActionRecord, ArtifactRecord, PropertyValue
from components.registry.stages import Stage
from contracts.errors import RegistryError

MODEL_VERSION_TYPE = "ModelVersion"
REGISTERED_MODEL_TYPE = "RegisteredModel"
STAGE_TRANSITION_TYPE = "StageTransition"

# Written by the register step when it records the version artifact (see `version_properties`).
METRICS = "metrics"
BLESSED = "blessed"
BLESSING_CHECKS = "blessing_checks"

# Written by the registry.
MODEL = "model"
VERSION = "version"
NUMBER = "version_number"
STAGE = "stage"
REGISTERED_AT = "registered_at"
STAGE_CHANGED_AT = "stage_changed_at"
PREVIOUS_PRODUCTION = "previous_production"
RUN_ID = "run_id"
PIPELINE = "pipeline"
CODE_VERSION = "code_version"

# Stage transition properties.
FROM_STAGE = "from_stage"
TO_STAGE = "to_stage"
REASON = "reason"
ACTOR = "actor"
TRIGGER = "trigger"
TIME = "time"
SEQUENCE = "sequence"

_MODEL_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_VERSION_NAME = re.compile(r"[vV]?([1-9][0-9]{0,8})")


def version_properties(
    *, metrics: Mapping[str, Any], blessed: bool, checks: Sequence[Mapping[str, Any]]
) -> dict[str, PropertyValue]:
    """The properties the register step gives the ``ModelVersion`` artifact it outputs.

    Args:
        metrics: Evaluation metrics, JSON-ready; by convention ``auc``, ``log_loss``, ``accuracy`` and
            ``auc_by_origin`` (origin airport to AUC).
        blessed: The blessing verdict: True only when every check passed.
        checks: The blessing checks, JSON-ready, e.g. ``{"name": "auc", "passed": True, "value": 0.71,
            "threshold": 0.65}``.

    Returns:
        Properties for ``ExecutionRecorder.add_output(..., properties=...)``.

    Raises:
        RegistryError: when ``blessed`` is not a bool or the metrics or checks are not JSON-ready.

    Example:
        >>> version_properties(metrics={"auc": 0.71}, blessed=True, checks=[])
        {'metrics': '{"auc": 0.71}', 'blessed': True, 'blessing_checks': '[]'}
    """
    if not isinstance(blessed, bool):
        raise RegistryError(f"blessed must be True or False, got {blessed!r}")
    return {
        METRICS: _to_json("metrics", dict(metrics)),
        BLESSED: blessed,
        BLESSING_CHECKS: _to_json("blessing checks", [dict(check) for check in checks]),
    }


def check_model_name(name: str) -> str:
    """Returns ``name`` when it is a usable model name (letters, digits, ``.``, ``_``, ``-``).

    Raises:
        RegistryError: otherwise.
    """
    if not isinstance(name, str) or not _MODEL_NAME.fullmatch(name):
        raise RegistryError(
            f"model name {name!r} must be 1-100 letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    return name


def version_number(text: str | int) -> int:
    """Returns the number of a version written ``v3``, ``"3"`` or ``3``.

    Raises:
        RegistryError: for anything else.
    """
    match = _VERSION_NAME.fullmatch(str(text).strip())
    if match is None:
        raise RegistryError(f"version {text!r} is not a version name; write v1, v2, ... (or 1, 2, ...)")
    return int(match.group(1))


def version_name(number: int) -> str:
    """The name of version ``number``: ``v3`` for 3."""
    return f"v{number}"


@dataclass(frozen=True)
class ModelVersion:
    """One registered version of a model.

    Attributes:
        model: The registered model's name.
        version: Its name, ``v1``, ``v2``, ... in registration order.
        number: The number in its name.
        artifact_id: The ``ModelVersion`` artifact in ML Metadata; ``upstream(artifact_id)`` is its lineage.
        stage: Its stage now.
        uri: The model's artifact folder.
        metrics: Evaluation metrics as the register step recorded them.
        blessed: The blessing verdict.
        blessing_checks: The blessing checks, each a JSON-ready dict.
        run_id: The pipeline run that registered it.
        pipeline: That run's pipeline.
        code_version: The register step's code version (git commit locally, image digest in the cluster).
        registered_at: When it was registered, UTC.
        stage_changed_at: When its stage last changed, UTC.
        previous_production: The version that was in production when this one was promoted, if any.
    """

    model: str
    version: str
    number: int
    artifact_id: int
    stage: Stage
    uri: str
    metrics: Mapping[str, Any]
    blessed: bool
    blessing_checks: tuple[Mapping[str, Any], ...]
    run_id: str
    pipeline: str
    code_version: str
    registered_at: datetime
    stage_changed_at: datetime
    previous_production: str | None

    @classmethod
    def from_artifact(cls, artifact: ArtifactRecord) -> ModelVersion:
        """Reads a registered version from its artifact.

        Raises:
            RegistryError: when the artifact is not a registered ``ModelVersion``.
        """
        p = artifact.properties
        if artifact.type != MODEL_VERSION_TYPE or not isinstance(p.get(VERSION), str):
            raise RegistryError(f"artifact {artifact.id} ({artifact.type}) is not a registered model version")
        return cls(
            model=str(p[MODEL]),
            version=str(p[VERSION]),
            number=int(p[NUMBER]),
            artifact_id=artifact.id,
            stage=Stage(str(p[STAGE])),
            uri=artifact.uri,
            metrics=_from_json(artifact.id, METRICS, p.get(METRICS, "{}")),
            blessed=p.get(BLESSED) is True,
            blessing_checks=tuple(_from_json(artifact.id, BLESSING_CHECKS, p.get(BLESSING_CHECKS, "[]"))),
            run_id=str(p.get(RUN_ID, "")),
            pipeline=str(p.get(PIPELINE, "")),
            code_version=str(p.get(CODE_VERSION, "")),
            registered_at=datetime.fromisoformat(str(p[REGISTERED_AT])),
            stage_changed_at=datetime.fromisoformat(str(p[STAGE_CHANGED_AT])),
            previous_production=str(p.get(PREVIOUS_PRODUCTION, "")) or None,
        )

    def to_dict(self) -> dict[str, Any]:
        """Returns a JSON-ready dict (times as ISO-8601 strings)."""
        return {
            "model": self.model,
            "version": self.version,
            "number": self.number,
            "artifact_id": self.artifact_id,
            "stage": self.stage.value,
            "uri": self.uri,
            "metrics": dict(self.metrics),
            "blessed": self.blessed,
            "blessing_checks": [dict(check) for check in self.blessing_checks],
            "run_id": self.run_id,
            "pipeline": self.pipeline,
            "code_version": self.code_version,
            "registered_at": self.registered_at.isoformat(),
            "stage_changed_at": self.stage_changed_at.isoformat(),
            "previous_production": self.previous_production,
        }


@dataclass(frozen=True)
class Transition:
    """One recorded stage change (registration included, as a change from no stage).

    Attributes:
        sequence: Its position among all transitions of the model, from 1, without gaps.
        model: The registered model's name.
        version: The version whose stage changed.
        from_stage: Its stage before; None for the registration.
        to_stage: Its stage after.
        reason: Why, in the actor's words.
        actor: Who asked (``pipeline``, ``cli:alice``...).
        trigger: Which operation: ``register``, ``transition``, ``promote``, ``replaced`` (archived by a
            promotion) or ``rollback``.
        time: When, UTC.
        execution_id: The ``StageTransition`` execution in ML Metadata.
    """

    sequence: int
    model: str
    version: str
    from_stage: Stage | None
    to_stage: Stage
    reason: str
    actor: str
    trigger: str
    time: datetime
    execution_id: int

    @classmethod
    def from_action(cls, action: ActionRecord) -> Transition:
        """Reads a transition from its ``StageTransition`` action."""
        p = action.properties
        return cls(
            sequence=int(p[SEQUENCE]),
            model=str(p[MODEL]),
            version=str(p[VERSION]),
            from_stage=Stage(str(p[FROM_STAGE])) if p.get(FROM_STAGE) else None,
            to_stage=Stage(str(p[TO_STAGE])),
            reason=str(p.get(REASON, "")),
            actor=str(p.get(ACTOR, "")),
            trigger=str(p.get(TRIGGER, "")),
            time=datetime.fromisoformat(str(p[TIME])),
            execution_id=action.id,
        )

    def to_dict(self) -> dict[str, Any]:
        """Returns a JSON-ready dict (the time as an ISO-8601 string)."""
        return {
            "sequence": self.sequence,
            "model": self.model,
            "version": self.version,
            "from_stage": None if self.from_stage is None else self.from_stage.value,
            "to_stage": self.to_stage.value,
            "reason": self.reason,
            "actor": self.actor,
            "trigger": self.trigger,
            "time": self.time.isoformat(),
            "execution_id": self.execution_id,
        }


def _to_json(what: str, value: object) -> str:
    try:
        return json.dumps(value, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise RegistryError(f"{what} must be JSON-ready (no NaN, no objects): {exc}") from exc


def _from_json(artifact_id: int, key: str, text: PropertyValue) -> Any:
    try:
        return json.loads(str(text))
    except json.JSONDecodeError as exc:
        raise RegistryError(f"artifact {artifact_id}: property {key!r} is not valid JSON: {exc}") from exc
