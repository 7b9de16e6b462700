"""The Seldon microservices a local rollout needs, started once each and found again after a crash.

Each model version (a model folder served under a version name) and each bandit router gets one server
on 127.0.0.1. Servers are recorded in ``servers.json`` (process group and URL), so a controller
started again after a crash adopts the servers that still answer instead of starting new ones; new
servers start in parallel. Standard library only: servers run in the serving environment.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from components.processes import ModelServer, group_members, serve_model, stop_group
from components.rollout.routing.server import start_router
from contracts.errors import RolloutError, ServerProcessError

RECORD_FILE = "servers.json"


@dataclass(frozen=True)
class ServerSpec:
    """A server the deployment needs.

    Attributes:
        unit: The graph unit it serves (a model or a router).
        kind: ``model`` or ``router``.
        model_dir: The model folder (models).
        version: The version name the model reports (models).
        router: Router parameters (``policy``, ``epsilon``, ``arm_names``, ``branches``).
    """

    unit: str
    kind: str
    model_dir: Path | None = None
    version: str = ""
    router: Mapping[str, str] = field(default_factory=dict)

    @property
    def key(self) -> str:
        if self.kind == "model":
            return f"model:{self.version}:{self.model_dir}"
        return f"router:{self.unit}:{','.join(f'{k}={v}' for k, v in sorted(self.router.items()))}"


class ServerPool:
    """Starts, adopts and stops the local servers of a rollout.

    Args:
        folder: Where ``servers.json``, server logs, request logs and router state live.
        extra_env: Environment for the servers (tests set chaos mode here).
        workers: Gunicorn workers per model server.
        threads: Threads per worker.
        request_log: Folder for the model servers' request logs; None keeps none.
    """

    def __init__(
        self,
        folder: Path,
        *,
        extra_env: Mapping[str, str] | None = None,
        workers: int = 1,
        threads: int = 8,
        request_log: Path | None = None,
    ) -> None:
        self.folder = folder
        self.request_log = request_log
        self.extra_env = dict(extra_env or {})
        self.workers = workers
        self.threads = threads
        self._started: dict[str, ModelServer] = {}
        self._urls: dict[str, str] = {}
        self._adopted: dict[str, int] = {}
        self._adopt()

    def ensure(self, specs: Sequence[ServerSpec]) -> dict[str, str]:
        """Returns every spec's unit mapped to its server's URL, starting those not running yet.

        Raises:
            ServerProcessError: when a server does not start; servers started meanwhile keep running.
        """
        missing = list({spec.key: spec for spec in specs if spec.key not in self._urls}.values())
        if missing:
            with ThreadPoolExecutor(max_workers=len(missing)) as pool:
                started = list(pool.map(self._start, missing))
            for spec, server in zip(missing, started, strict=True):
                self._started[spec.key] = server
                self._urls[spec.key] = server.http_url
            self._save()
        return {spec.unit: self._urls[spec.key] for spec in specs}

    def close(self) -> None:
        """Stops every server this pool started or adopted."""
        stops = [server.stop for server in self._started.values()]
        stops += [functools.partial(stop_group, group) for group in self._adopted.values()]
        problems = []
        if stops:
            with ThreadPoolExecutor(max_workers=len(stops)) as pool:
                for outcome in [pool.submit(stop) for stop in stops]:
                    try:
                        outcome.result()
                    except ServerProcessError as exc:
                        problems.append(str(exc))
        self._started.clear()
        self._adopted.clear()
        self._urls.clear()
        (self.folder / RECORD_FILE).unlink(missing_ok=True)
        if problems:
            raise ServerProcessError("; ".join(problems))

    def _start(self, spec: ServerSpec) -> ModelServer:
        options: dict[str, Any] = {
            "workers": self.workers,
            "threads": self.threads,
            "grpc_workers": 0,
            "extra_env": self.extra_env,
            "log_dir": self.folder / "servers" / spec.unit,
        }
        if spec.kind == "model":
            if spec.model_dir is None:
                raise RolloutError(f"unit {spec.unit} has no model folder")
            return serve_model(
                spec.model_dir, model_version=spec.version, request_log=self.request_log, **options
            )
        router = dict(spec.router)
        # One state file per pair of arms: a new rollout of the same two versions goes on learning.
        arms = router.get("arm_names", "").replace(",", "-") or "arms"
        return start_router(
            self.folder / f"{spec.unit}-{arms}.sqlite",
            branches=int(router.get("branches", "2")),
            policy=router.get("policy", "thompson"),
            epsilon=float(router.get("epsilon", "0.1")),
            arm_names=router.get("arm_names", ""),
            unit_name=spec.unit,
            **options,
        )

    def _adopt(self) -> None:
        path = self.folder / RECORD_FILE
        if not path.is_file():
            return
        try:
            records = dict(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            return
        for key, record in records.items():
            group = int(record["pid"])
            if group_members(group):
                self._urls[key] = str(record["url"])
                self._adopted[key] = group

    def _save(self) -> None:
        records = {key: {"pid": server.pid, "url": server.http_url} for key, server in self._started.items()}
        records |= {key: {"pid": group, "url": self._urls[key]} for key, group in self._adopted.items()}
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / RECORD_FILE).write_text(json.dumps(records, indent=1), encoding="utf-8")
