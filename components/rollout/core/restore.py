"""Setting a deployment back to the registry's production version, outside any rollout (a rollback).

It goes through the same ``Actuator`` the rollout controller drives, with the same guarded write, so an
operator's change made between the read and the write is never overwritten.
"""

from __future__ import annotations

from components.registry import ModelVersion
from components.rollout.core.actuator import Actuator, DeploymentConflict
from components.rollout.core.controller import DeploymentTarget
from components.rollout.core.render import DeploymentPlan, ServedVersion
from components.rollout.core.state import Phase
from contracts.errors import RolloutError


def check_restorable(actuator: Actuator) -> str | None:
    """The resource version to write against, after checking no rollout is in progress.

    Returns:
        The deployment's resource version, or None when there is no deployment yet (it is created).

    Raises:
        RolloutError: while a rollout is in progress: abort it first, or the controller and the
            rollback would fight over the traffic.
    """
    observed = actuator.observe()
    state = observed.state
    if state is not None and state.phase is Phase.PROGRESSING:
        raise RolloutError(
            f"rollout {state.rollout_id} of {state.candidate_version} is in progress; abort it "
            "(mlops rollout abort) before rolling back"
        )
    return observed.resource_version if observed.exists else None


def restore(
    actuator: Actuator, version: ModelVersion, target: DeploymentTarget, *, expected: str | None
) -> str:
    """Makes the deployment serve ``version`` alone, keeping the record of the last rollout.

    Returns:
        The deployment's new resource version.

    Raises:
        RolloutError: when the deployment changed since ``expected`` was read, or cannot be written.
    """
    observed = actuator.observe()
    annotations = observed.state.to_annotations() if observed.state is not None else {}
    plan = DeploymentPlan(
        main=ServedVersion.of(version),
        name=target.name,
        namespace=target.namespace,
        image=target.image,
        annotations=annotations,
        feature_server_url=target.feature_server_url,
    )
    try:
        return actuator.apply(plan, expected=expected)
    except DeploymentConflict as exc:
        raise RolloutError(
            f"the deployment {target.namespace}/{target.name} changed while rolling back; nothing was "
            f"rolled back: run the rollback again ({exc})"
        ) from exc
