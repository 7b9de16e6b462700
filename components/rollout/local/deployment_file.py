"""The local stand-in for the API server: the SeldonDeployment as a JSON file with a resource version.

The local actuator and the ``mlops rollout`` commands read and write the deployment here the way the
Kubernetes actuator does through the API server: every write names the resource version it was based
on and is refused with ``DeploymentConflict`` when the file moved on (an ``abort`` written meanwhile
is therefore never overwritten). Writers on this machine take a ``flock`` around read-check-write, and
the file is replaced atomically, so a reader never sees half of it and a killed writer leaves no lock.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from components.registry.lock import WriterLock
from components.rollout.core.actuator import DeploymentConflict, Observed
from components.rollout.core.render import DeploymentPlan, render_seldon_deployment
from components.rollout.core.state import REQUEST_KEY, RolloutState, parse_request
from contracts.errors import RolloutError


class DeploymentFile:
    """One SeldonDeployment kept in ``path``.

    Args:
        path: The JSON file (created by the first ``apply``).
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    def observe(self) -> Observed:
        """Reads the deployment; ``exists`` is False before the first ``apply``."""
        deployment = self._read()
        if deployment is None:
            return Observed(exists=False, state=None, resource_version="", deployment={})
        metadata = deployment["metadata"]
        return Observed(
            exists=True,
            state=RolloutState.from_annotations(metadata.get("annotations", {})),
            resource_version=str(metadata["resourceVersion"]),
            deployment=deployment,
        )

    def apply(self, plan: DeploymentPlan, *, expected: str | None) -> str:
        """Renders the plan and stores it, if the file is still at ``expected`` (None: absent).

        Raises:
            DeploymentConflict: when the stored version is not ``expected``.
            RolloutError: when the plan does not render or the file cannot be written.
        """
        deployment = render_seldon_deployment(plan)
        with self._lock():
            current = self._read()
            version = None if current is None else str(current["metadata"]["resourceVersion"])
            if version != expected:
                raise DeploymentConflict(
                    f"{self.path} is at version {version}, not {expected}: it changed since it was read"
                )
            return self._write(deployment, int(version or 0) + 1)

    def request(self, action: str) -> RolloutState:
        """Asks a running rollout to ``abort`` or ``promote`` (the ``request`` annotation).

        Raises:
            RolloutError: for an unknown action, no deployment, or a rollout that is already over.
        """
        request = parse_request(action)
        with self._lock():
            deployment = self._read()
            state = (
                None
                if deployment is None
                else RolloutState.from_annotations(deployment["metadata"].get("annotations", {}))
            )
            if deployment is None or state is None:
                raise RolloutError(f"no rollout in {self.path}; start one with mlops rollout start")
            if state.phase.final:
                raise RolloutError(f"rollout {state.rollout_id} is already {state.phase.value}")
            deployment["metadata"].setdefault("annotations", {})[REQUEST_KEY] = request.value
            self._write(deployment, int(deployment["metadata"]["resourceVersion"]) + 1)
        return state.evolve(request=request)

    def _read(self) -> dict[str, Any] | None:
        try:
            return dict(json.loads(self.path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise RolloutError(f"cannot read the local deployment {self.path}: {exc}") from exc

    def _write(self, deployment: dict[str, Any], version: int) -> str:
        deployment["metadata"]["resourceVersion"] = str(version)
        temporary = self.path.with_suffix(".tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temporary.write_text(json.dumps(deployment, indent=1, sort_keys=False) + "\n", encoding="utf-8")
            temporary.replace(self.path)
        except OSError as exc:
            raise RolloutError(f"cannot write the local deployment {self.path}: {exc}") from exc
        return str(version)

    def _lock(self) -> WriterLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        return WriterLock(self.path.with_suffix(".lock"), timeout_seconds=30.0)
