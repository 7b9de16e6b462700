"""The one interface the rollout controller drives a deployment through, and where metrics come from.

Two actuators implement it: ``kubernetes_actuator.KubernetesActuator`` (a SeldonDeployment through the
API server) and ``local.LocalActuator`` (Seldon microservices behind a local proxy). Both keep the
rollout state on the deployment object itself as annotations, and both guard writes with the version
of the object they read, so an operator's ``abort`` written in between is never overwritten.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from components.rollout.core.render import DeploymentPlan
from components.rollout.core.state import RolloutState
from components.rollout.core.traffic import TrafficWindow
from contracts.errors import RolloutError


class DeploymentConflict(RolloutError):
    """The deployment changed between reading and writing it; read it again and decide again."""


@dataclass(frozen=True)
class Observed:
    """The deployment as read.

    Attributes:
        exists: Whether there is a deployment at all.
        state: The rollout state its annotations hold, if any.
        resource_version: The version of the object read, for a guarded write.
        deployment: The object itself.
    """

    exists: bool
    state: RolloutState | None
    resource_version: str
    deployment: Mapping[str, Any]


class Actuator(Protocol):
    """Reads and changes the deployment a rollout acts on."""

    def observe(self) -> Observed:
        """Reads the deployment and the rollout state it carries."""
        ...

    def apply(self, plan: DeploymentPlan, *, expected: str | None) -> str:
        """Makes the deployment match the plan (traffic and annotations included).

        Args:
            plan: The rendered deployment's plan.
            expected: The ``resource_version`` the decision was based on; None creates the deployment.

        Returns:
            The new resource version.

        Raises:
            DeploymentConflict: when the deployment changed since ``expected``.
        """
        ...

    def request(self, action: str) -> RolloutState:
        """Sets the ``request`` annotation (``abort`` or ``promote``) for the controller to act on."""
        ...


class MetricsSource(Protocol):
    """Where the traffic a step is judged on comes from."""

    def window(self, since: float, until: float) -> TrafficWindow:
        """Every version's traffic between two Unix times."""
        ...
