"""Starts the bandit router as a Seldon ROUTER microservice on 127.0.0.1; standard library only.

The model servers' process manager (``components/processes.py``) runs ``--service-type MODEL``;
a router is the same Seldon microservice with ``--service-type ROUTER``, and Seldon finds the router's
own entry in a feedback's ``response.meta.routing`` by the ``PREDICTIVE_UNIT_ID`` the operator sets in
a cluster, so it is set here too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from components.processes import ModelServer, ServerConfig
from contracts.names import ROUTER_CLASS

DEFAULT_UNIT_NAME = "bandit-router"


class RouterServer(ModelServer):
    """A Seldon microservice running a ROUTER component."""

    def command(self) -> list[str]:
        """The model server's command with the service type a router needs."""
        command = super().command()
        command[command.index("--service-type") + 1] = "ROUTER"
        return command


def start_router(
    state_path: Path,
    *,
    branches: int = 2,
    policy: str = "thompson",
    epsilon: float = 0.1,
    arm_names: str = "",
    seed: int = -1,
    unit_name: str = DEFAULT_UNIT_NAME,
    **options: Any,
) -> RouterServer:
    """Starts ``BanditRouter`` and waits until it is healthy.

    Args:
        state_path: The shared SQLite state file.
        branches: Number of arms.
        policy: ``thompson`` or ``epsilon-greedy``.
        epsilon: Exploration share of epsilon-greedy.
        arm_names: Comma-separated arm names.
        seed: Random seed; negative draws one.
        unit_name: The router's graph unit name, the key of its entry in ``meta.routing``.
        **options: Further ``ServerConfig`` fields (ports, workers, serving_venv, ...).

    Raises:
        ServerProcessError: when the router does not start or become healthy.
    """
    parameters: dict[str, str | int | float | bool] = {
        "state_path": str(Path(state_path).resolve()),
        "branches": branches,
        "policy": policy,
        "epsilon": float(epsilon),
        "arm_names": arm_names,
        "seed": seed,
    }
    extra_env = {"PREDICTIVE_UNIT_ID": unit_name, **options.pop("extra_env", {})}
    config = ServerConfig(model_class=ROUTER_CLASS, parameters=parameters, extra_env=extra_env, **options)
    server = RouterServer(config)
    server.start()
    return server
