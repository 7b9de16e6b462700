"""A rollout's state, kept as annotations on the deployment itself, never only in a process's memory.

``kubectl get sdep flight-delay -o yaml`` shows it; a controller that crashed reads it back and goes on
from the step it was at; ``kubectl annotate sdep flight-delay rollout.flights-mlops.io/request=abort``
asks the controller to stop (``promote`` to finish at once). The local actuator keeps the same
annotations on the SeldonDeployment document it writes to disk.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from components.rollout.core.strategy import Strategy, parse_strategy
from contracts.errors import RolloutError

PREFIX = "rollout.flights-mlops.io/"
REQUEST_KEY = PREFIX + "request"
_KEYS = (
    "id",
    "model",
    "strategy",
    "main-version",
    "candidate-version",
    "phase",
    "step",
    "weights",
    "step-started-at",
    "windows-waited",
    "message",
    "last-analysis",
)


class Phase(enum.StrEnum):
    """Where a rollout is: ``progressing`` until a decision, then one of the three final phases."""

    PROGRESSING = "progressing"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    ABORTED = "aborted"

    @property
    def final(self) -> bool:
        return self is not Phase.PROGRESSING


class Request(enum.StrEnum):
    """What an operator may ask of a running rollout through the ``request`` annotation."""

    NONE = ""
    ABORT = "abort"
    PROMOTE = "promote"


@dataclass(frozen=True)
class RolloutState:
    """One rollout of a candidate version against the main version.

    Attributes:
        rollout_id: Unique name of this rollout (``flight-delay-v4-20261127t081500``).
        model: The registered model.
        strategy: How the candidate meets traffic.
        main_version: The version in production when the rollout started.
        candidate_version: The version on trial.
        phase: Progressing, or the final decision.
        step: Index of the current step in ``weights``.
        weights: The candidate's traffic share at each step.
        step_started_at: When the current step's window opened (Unix seconds).
        windows_waited: Windows the current step has waited for enough candidate traffic.
        request: An operator's pending request (abort, promote), set by annotation.
        message: The last decision in words.
        last_analysis: The last step analysis, JSON-ready (checks with measured values).
        unknown_request: A request annotation the controller does not understand (a typo), to clear and
            report rather than to fail on.
    """

    rollout_id: str
    model: str
    strategy: Strategy
    main_version: str
    candidate_version: str
    phase: Phase
    step: int
    weights: tuple[int, ...]
    step_started_at: float
    windows_waited: int = 0
    request: Request = Request.NONE
    message: str = ""
    last_analysis: Mapping[str, Any] = field(default_factory=dict)
    unknown_request: str = ""

    @property
    def candidate_weight(self) -> int:
        """The candidate's traffic share now: the step's while progressing, 100 after success, else 0."""
        if self.phase is Phase.PROGRESSING:
            return self.weights[self.step]
        return 100 if self.phase is Phase.SUCCEEDED else 0

    @property
    def last_step(self) -> bool:
        return self.step == len(self.weights) - 1

    def evolve(self, **changes: Any) -> RolloutState:
        """A copy with some fields changed."""
        return replace(self, **changes)

    def to_annotations(self) -> dict[str, str]:
        """The state as string annotations under ``rollout.flights-mlops.io/``."""
        values = {
            "id": self.rollout_id,
            "model": self.model,
            "strategy": self.strategy.value,
            "main-version": self.main_version,
            "candidate-version": self.candidate_version,
            "phase": self.phase.value,
            "step": str(self.step),
            "weights": ",".join(str(w) for w in self.weights),
            "step-started-at": datetime.fromtimestamp(self.step_started_at, UTC).isoformat(),
            "windows-waited": str(self.windows_waited),
            "message": self.message,
            "last-analysis": json.dumps(dict(self.last_analysis), sort_keys=True, separators=(",", ":")),
        }
        return {PREFIX + key: values[key] for key in _KEYS} | {REQUEST_KEY: self.request.value}

    @classmethod
    def from_annotations(cls, annotations: Mapping[str, str]) -> RolloutState | None:
        """Reads the state back; None when the deployment carries no rollout.

        Raises:
            RolloutError: for annotations that are present but malformed (naming the key).
        """
        if PREFIX + "id" not in annotations:
            return None
        missing = [PREFIX + key for key in _KEYS if PREFIX + key not in annotations]
        if missing:
            raise RolloutError(f"the deployment's rollout annotations are incomplete: missing {missing}")
        value = {key: annotations[PREFIX + key] for key in _KEYS}
        request_text = annotations.get(REQUEST_KEY, "")
        request = Request(request_text) if request_text in set(Request) else Request.NONE
        try:
            return cls(
                rollout_id=value["id"],
                model=value["model"],
                strategy=parse_strategy(value["strategy"]),
                main_version=value["main-version"],
                candidate_version=value["candidate-version"],
                phase=Phase(value["phase"]),
                step=int(value["step"]),
                weights=tuple(int(w) for w in value["weights"].split(",")),
                step_started_at=datetime.fromisoformat(value["step-started-at"]).timestamp(),
                windows_waited=int(value["windows-waited"]),
                request=request,
                message=value["message"],
                last_analysis=json.loads(value["last-analysis"] or "{}"),
                unknown_request="" if request_text in set(Request) else request_text,
            )
        except (ValueError, KeyError) as exc:
            raise RolloutError(f"the deployment's rollout annotations are malformed: {exc}") from exc

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (``mlops rollout status --json``)."""
        return {
            "rollout_id": self.rollout_id,
            "model": self.model,
            "strategy": self.strategy.value,
            "main_version": self.main_version,
            "candidate_version": self.candidate_version,
            "phase": self.phase.value,
            "step": self.step,
            "steps": len(self.weights),
            "weights": list(self.weights),
            "candidate_weight": self.candidate_weight,
            "step_started_at": datetime.fromtimestamp(self.step_started_at, UTC).isoformat(),
            "windows_waited": self.windows_waited,
            "request": self.request.value or None,
            "message": self.message,
            "last_analysis": dict(self.last_analysis),
        }


def parse_request(text: str) -> Request:
    """The request an annotation value names (``abort``, ``promote`` or empty).

    Raises:
        RolloutError: for anything else.
    """
    try:
        return Request(text.strip().lower())
    except ValueError as exc:
        raise RolloutError(f"unknown rollout request {text!r}; annotate with 'abort' or 'promote'") from exc
