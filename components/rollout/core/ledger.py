"""Every rollout decision, recorded in ML Metadata with the values that drove it.

A decision is an action of type ``RolloutDecision`` on the candidate and main version artifacts, in a
``Rollout`` context named after the rollout; its name (``<rollout>#<step>:<kind>``) is unique, so
recording the same decision twice - a controller resuming after a crash, two controllers racing -
leaves one record. Stage changes the decisions cause go through the model registry, which records
them as its own transitions (``mlops models show VERSION`` lists them).
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from components.lineage import ActionRecord, ActionSpec, LineageStore
from components.registry import ModelRegistry
from components.rollout.core.state import RolloutState

ROLLOUT_CONTEXT_TYPE = "Rollout"
DECISION_TYPE = "RolloutDecision"


class DecisionKind(enum.StrEnum):
    """What the controller decided."""

    START = "start"
    ADVANCE = "advance"
    EXTEND = "extend"
    PROMOTE = "promote"
    REJECT = "reject"
    ABORT = "abort"


@dataclass(frozen=True)
class Decision:
    """One decision of a rollout.

    Attributes:
        kind: What was decided.
        step: The step it was decided at.
        candidate_weight: The candidate's traffic share once the decision is applied.
        reason: Why, in words, with the measured values.
        analysis: The step analysis behind it (JSON-ready), if any.
        time: When (Unix seconds).
        attempt: Distinguishes repeated decisions of one kind at one step (a step extended twice).
    """

    kind: DecisionKind
    step: int
    candidate_weight: int
    reason: str
    time: float
    analysis: Mapping[str, Any] = field(default_factory=dict)
    attempt: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "step": self.step,
            "candidate_weight": self.candidate_weight,
            "reason": self.reason,
            "time": datetime.fromtimestamp(self.time, UTC).isoformat(),
            "analysis": dict(self.analysis),
        }


class RolloutLedger:
    """Records rollout decisions in the lineage store beside the registry.

    Args:
        store: An open lineage store.
        registry: The model's registry (to find the versions' artifacts).
    """

    def __init__(self, store: LineageStore, registry: ModelRegistry) -> None:
        self._store = store
        self.registry = registry

    def record(self, state: RolloutState, decision: Decision) -> bool:
        """Records a decision once; returns False when it was already recorded."""
        candidate = self.registry.get(state.candidate_version)
        main = self.registry.get(state.main_version)
        context = self._store.ensure_context(ROLLOUT_CONTEXT_TYPE, state.rollout_id)
        suffix = f"-{decision.attempt}" if decision.attempt else ""
        spec = ActionSpec(
            type=DECISION_TYPE,
            name=f"{state.rollout_id}#{decision.step}:{decision.kind.value}{suffix}",
            properties={
                "rollout_id": state.rollout_id,
                "model": state.model,
                "strategy": state.strategy.value,
                "main_version": state.main_version,
                "candidate_version": state.candidate_version,
                "decision": decision.kind.value,
                "step": decision.step,
                "candidate_weight": decision.candidate_weight,
                "reason": decision.reason,
                "analysis": json.dumps(dict(decision.analysis), sort_keys=True),
                "time": datetime.fromtimestamp(decision.time, UTC).isoformat(),
            },
            inputs={"candidate": candidate.artifact_id, "main": main.artifact_id},
        )
        return self._store.commit_actions(context.id, [spec]) is not None

    def decisions(self, rollout_id: str) -> list[ActionRecord]:
        """A rollout's recorded decisions, oldest first."""
        context = self._store.find_context(ROLLOUT_CONTEXT_TYPE, rollout_id)
        if context is None:
            return []
        return self._store.actions_of_context(context.id, DECISION_TYPE)
