"""The local actuator: the rollout's SeldonDeployment executed on this machine.

``apply`` stores the rendered deployment (``deployment_file.py``), makes sure a Seldon microservice
runs for every graph unit in it (``server_pool.py``), writes the proxy's ``routes.json`` and waits until
the proxy (``proxy.py``, its own process) routes by the new generation: when ``apply`` returns, the
traffic split the controller asked for is in force. ``ProxyMetrics`` reads the proxy's windows over HTTP.

Everything lives in one folder (``.mlops/rollout`` for ``mlops rollout``): ``deployment.json``,
``routes.json``, ``servers.json``, ``proxy.json``, the traffic log and the servers' logs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlencode, urlparse

from components.processes import free_ports, group_members, stop_group
from components.rollout.core.actuator import Observed
from components.rollout.core.http_json import get_json
from components.rollout.core.render import DeploymentPlan
from components.rollout.core.state import RolloutState
from components.rollout.core.traffic import TrafficWindow
from components.rollout.local.deployment_file import DeploymentFile
from components.rollout.local.routes import write_routes
from components.rollout.local.server_pool import ServerPool, ServerSpec
from components.settings import PROJECT_ROOT
from contracts.errors import RolloutError, ServerProcessError

PROXY_RECORD = "proxy.json"
TRAFFIC_LOG = "traffic.jsonl"
_PROXY_START_SECONDS = 20.0


class LocalActuator:
    """Drives local servers and the local proxy from the rollout's SeldonDeployment.

    Args:
        folder: The rollout's folder.
        pool: The servers; the actuator stops them in ``close`` only when it made the pool itself.
        port: The proxy's port on 127.0.0.1 (0: any free one).
        extra_env: Environment for servers the actuator's own pool starts.
        request_log: Request-log folder of the servers its own pool starts (``mlops serve``'s, so
            monitoring sees rollout traffic too); None keeps none.
    """

    def __init__(
        self,
        folder: Path,
        *,
        pool: ServerPool | None = None,
        port: int = 0,
        extra_env: Mapping[str, str] | None = None,
        request_log: Path | None = None,
    ) -> None:
        self.folder = folder
        self.file = DeploymentFile(folder / "deployment.json")
        self._owns_pool = pool is None
        self.pool = pool or ServerPool(folder, extra_env=extra_env, request_log=request_log)
        self.port = port
        self._proxy: subprocess.Popen[bytes] | None = None
        self.proxy_url = ""
        self._adopt_proxy()

    @property
    def predictions_url(self) -> str:
        return f"{self.proxy_url}/api/v1.0/predictions"

    def observe(self) -> Observed:
        return self.file.observe()

    def apply(self, plan: DeploymentPlan, *, expected: str | None) -> str:
        """Stores the deployment, starts what it needs and waits until the proxy routes by it."""
        version = self.file.apply(plan, expected=expected)
        self.sync()
        return version

    def request(self, action: str) -> RolloutState:
        return self.file.request(action)

    def sync(self) -> None:
        """Makes the servers and the proxy match the stored deployment (also after a crash)."""
        observed = self.file.observe()
        if not observed.exists:
            raise RolloutError(f"no local deployment in {self.file.path}")
        endpoints = self.pool.ensure(_server_specs(observed.deployment))
        generation = int(observed.resource_version)
        write_routes(
            self.folder / "routes.json",
            generation=generation,
            deployment=observed.deployment,
            endpoints=endpoints,
        )
        if not self.proxy_url:
            self._start_proxy()
        self._wait_for_generation(generation)

    def window(self, since: float, until: float) -> TrafficWindow:
        """The proxy's window (the local actuator is its own metrics source)."""
        return self.metrics().window(since, until)

    def metrics(self) -> ProxyMetrics:
        """The proxy's windows, for the controller."""
        if not self.proxy_url:
            raise RolloutError("the local proxy is not running; apply a deployment first")
        return ProxyMetrics(self.proxy_url)

    def close(self) -> None:
        """Stops the proxy, and the servers when the pool is the actuator's own."""
        problems = []
        if self.proxy_url:
            group = (
                self._proxy.pid
                if self._proxy
                else int(json.loads((self.folder / PROXY_RECORD).read_text())["pid"])
            )
            try:
                stop_group(group, grace=5.0, reap=self._proxy.poll if self._proxy else lambda: None)
            except ServerProcessError as exc:
                problems.append(str(exc))
            (self.folder / PROXY_RECORD).unlink(missing_ok=True)
            self.proxy_url = ""
        if self._owns_pool:
            try:
                self.pool.close()
            except ServerProcessError as exc:
                problems.append(str(exc))
        if problems:
            raise ServerProcessError("; ".join(problems))

    def _start_proxy(self) -> None:
        port = self.port or free_ports("127.0.0.1", [0])[0]
        command = [
            sys.executable,
            "-m",
            "components.rollout.local.proxy",
            "--routes",
            str(self.folder / "routes.json"),
            "--port",
            str(port),
            "--traffic-log",
            str(self.folder / TRAFFIC_LOG),
        ]
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")])),
        }
        with open(self.folder / "proxy.log", "ab") as log:
            self._proxy = subprocess.Popen(
                command,
                cwd=PROJECT_ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.proxy_url = f"http://127.0.0.1:{port}"
        (self.folder / PROXY_RECORD).write_text(
            json.dumps({"pid": self._proxy.pid, "url": self.proxy_url}), encoding="utf-8"
        )

    def _adopt_proxy(self) -> None:
        record = self.folder / PROXY_RECORD
        if not record.is_file():
            return
        try:
            data = json.loads(record.read_text(encoding="utf-8"))
            if (
                group_members(int(data["pid"]))
                and get_json(f"{data['url']}/rollout/health", timeout=2)[0] == 200
            ):
                self.proxy_url = str(data["url"])
                return
        except (OSError, ValueError, KeyError, RolloutError):
            pass
        record.unlink(missing_ok=True)

    def _wait_for_generation(self, generation: int) -> None:
        deadline = time.monotonic() + _PROXY_START_SECONDS
        problem = "no answer yet"
        while time.monotonic() < deadline:
            if self._proxy is not None and self._proxy.poll() is not None:
                raise ServerProcessError(f"the local proxy exited; see {self.folder / 'proxy.log'}")
            try:
                status, health = get_json(f"{self.proxy_url}/rollout/health", timeout=2)
                if status == 200 and int(health["generation"]) >= generation:
                    return
                problem = f"routing by generation {health.get('generation')}"
            except RolloutError as exc:
                problem = str(exc)
            time.sleep(0.02)
        raise ServerProcessError(f"the local proxy did not take routes generation {generation}: {problem}")


class ProxyMetrics:
    """Step windows from the local proxy's ``/rollout/window``."""

    def __init__(self, proxy_url: str) -> None:
        self.proxy_url = proxy_url

    def window(self, since: float, until: float) -> TrafficWindow:
        status, body = get_json(
            f"{self.proxy_url}/rollout/window?{urlencode({'since': since, 'until': until})}"
        )
        if status != 200:
            raise RolloutError(f"the local proxy refused a window ({status}): {body}")
        return TrafficWindow.from_dict(body)


def _server_specs(deployment: Mapping[str, Any]) -> list[ServerSpec]:
    specs = []
    for predictor in deployment["spec"]["predictors"]:
        specs += _unit_specs(predictor["graph"])
    return specs


def _unit_specs(unit: Mapping[str, Any]) -> list[ServerSpec]:
    parameters = {p["name"]: p["value"] for p in unit.get("parameters", [])}
    children = [spec for child in unit.get("children", []) for spec in _unit_specs(child)]
    if unit.get("type") == "MODEL":
        uri = urlparse(unit["modelUri"])
        folder = Path(unquote(uri.path)) if uri.scheme == "file" else Path(unit["modelUri"])
        return [ServerSpec(unit["name"], "model", folder, parameters.get("model_version", ""))]
    if unit.get("implementation") == "RANDOM_ABTEST":
        return children
    router = {
        key: parameters[key] for key in ("policy", "epsilon", "arm_names", "branches") if key in parameters
    }
    return [ServerSpec(unit["name"], "router", router=router), *children]
