"""The bandit router: a Seldon Core ROUTER component choosing between model versions by reward.

Seldon's executor (or ``mlops rollout --local``'s proxy) calls ``route`` for each request and sends the
request to the child it returns; feedback posted to the deployment's feedback endpoint reaches
``send_feedback`` with the branch that answered (Seldon puts it in ``response.meta.routing``). Run it as

    seldon-core-microservice components.rollout.routing.router.BanditRouter --service-type ROUTER \\
        --parameters '[{"name": "state_path", "value": "/var/lib/bandit/state.sqlite", "type": "STRING"}]'

Feedback endpoint (REST, Seldon's ``Feedback`` message)::

    POST /api/v1.0/feedback
    {"request": {...the prediction request...},
     "response": {"meta": {"routing": {"bandit-router": 1}}, ...the answer...},
     "reward": 1.0}

``reward`` is within [0, 1] (e.g. 1 when the predicted delay matched what happened). Feedback without a
routing for this unit, or with a reward outside [0, 1], is answered with 400 and changes nothing.
"""

from __future__ import annotations

import logging
import random
from pathlib import Path
from typing import Any

from components.rollout.routing.bandit import POLICIES, BanditState, choose_arm
from contracts.errors import RolloutError

logger = logging.getLogger(__name__)


class BanditRouter:
    """Routes each request to the arm an epsilon-greedy or Thompson-sampling policy picks.

    Args:
        state_path: The shared SQLite state file (on a volume every replica mounts).
        branches: Number of children (arms).
        policy: ``thompson`` or ``epsilon-greedy``.
        epsilon: Exploration share of epsilon-greedy.
        arm_names: Comma-separated names of the arms (model versions), for metrics and health.
        seed: Seed of this replica's random source; negative draws one from the system.

    Raises:
        RolloutError: for an unknown policy, a bad epsilon, or a state file made for other arms.
    """

    def __init__(
        self,
        state_path: str,
        branches: int = 2,
        policy: str = "thompson",
        epsilon: float = 0.1,
        arm_names: str = "",
        seed: int = -1,
    ) -> None:
        if policy not in POLICIES:
            raise RolloutError(f"policy must be one of {POLICIES}, got {policy!r}")
        if not 0.0 <= epsilon <= 1.0:
            raise RolloutError(f"epsilon must be within [0, 1], got {epsilon}")
        self.policy = policy
        self.epsilon = epsilon
        self.state = BanditState(Path(state_path), branches)
        names = [name.strip() for name in arm_names.split(",") if name.strip()]
        self.arm_names = names if len(names) == branches else [f"arm-{i}" for i in range(branches)]
        self._rng = random.Random(None if seed < 0 else seed)

    def route(self, features: Any, feature_names: Any) -> int:
        """The branch (child index) for one request; the features do not matter to this policy."""
        return choose_arm(self.policy, self.state.snapshot(), self._rng, epsilon=self.epsilon)

    def send_feedback(
        self, features: Any, feature_names: Any, reward: float, truth: Any, routing: int | None = None
    ) -> list[Any]:
        """Adds one reward to the arm that answered.

        Raises:
            SeldonMicroserviceException: status 400 when the routing is missing or the reward is out of range.
        """
        from seldon_core.flask_utils import SeldonMicroserviceException

        if routing is None or routing < 0:
            raise SeldonMicroserviceException(
                "feedback carries no routing for this router in response.meta.routing, so no arm can be credited",
                status_code=400,
                reason="NO_ROUTING",
            )
        try:
            self.state.add(int(routing), float(reward))
        except RolloutError as exc:
            raise SeldonMicroserviceException(str(exc), status_code=400, reason="BAD_FEEDBACK") from exc
        return []

    def health_status(self) -> dict[str, Any]:
        """The arms' totals; reading them proves the state file is usable."""
        return {
            "policy": self.policy,
            "arms": [
                {"name": name, "pulls": stats.pulls, "mean_reward": stats.mean}
                for name, stats in zip(self.arm_names, self.state.snapshot(), strict=True)
            ],
        }
