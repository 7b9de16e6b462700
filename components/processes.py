"""Starts and stops local servers as whole process groups, and the Seldon Core model server; standard
library only.

``mlops serve`` and the pipeline's infra-validation step run in the pipeline environment, which cannot
import seldon-core or hold its dependencies. They start the serving environment's interpreter on
``components.serving.launcher`` (Seldon's ``seldon-core-microservice`` with every listener on one
address, 127.0.0.1 by default), wait until ``/health/ping`` and ``/health/status`` answer (the latter
runs the model), and stop it with every process it forked.

``ManagedProcess`` holds the lifecycle every such server shares (the model server here, Feast's feature
server in ``components/features/server.py``): the child starts in a new session, so it and everything it
forks (gunicorn master and workers, a metrics server, gRPC workers, a multiprocessing manager) share one
process group; its stdout and stderr go to a log file; ``launch`` waits until a readiness check passes and
otherwise stops the group and raises an error that names the log's exception lines and ends with its
tail; ``stop`` signals the whole group, escalates to SIGKILL and checks that no member is left. A server
class adds only its own part: the command line, the readiness check and the addresses it reports.
Membership is read from ``/proc``; the module is therefore Linux-only, like the images it runs in.

Example:
    >>> with serve_model(Path("model"), model_version="3") as server:  # doctest: +SKIP
    ...     urllib.request.urlopen(server.http_url + "/health/status").read()
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from components.settings import PROJECT_ROOT
from contracts.errors import MlopsError, ServerProcessError
from contracts.names import MODEL_CLASS

DEFAULT_SERVING_VENV = PROJECT_ROOT / ".venv-serving"
# What the Seldon operator configures in a cluster; Seldon's own default is /metrics.
METRICS_PATH = "/prometheus"
LOG_TAIL_LINES = 40
_READY_POLL_SECONDS = 0.2
_EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit)\b.*")


class ManagedProcess:
    """A server process group with a log: ``launch`` it, read its ``log_tail``, ``stop`` it.

    Server classes subclass it and call ``launch`` from their own ``start`` with their command line and
    readiness check. Every error it raises is of the ``error`` type the server names, so callers catch the
    family they already know (``ServerProcessError`` for model servers, ``FeatureStoreError`` for Feast's).

    Args:
        label: What the server is called in messages (``"model server"``); also the temporary log
            folder's prefix.
        error: The exception type of every error raised, built from its message alone.
        log_name: File name of the log (the server's stdout and stderr) in the log folder.
        log_dir: Folder of the log; None makes a temporary one at ``launch``, removed by a clean ``stop``
            and kept when the server fails to start (its error names it).
    """

    def __init__(
        self, *, label: str, error: type[MlopsError], log_name: str, log_dir: Path | None = None
    ) -> None:
        self.label = label
        self.error = error
        self.log_name = log_name
        self._owns_log_dir = log_dir is None
        self.log_dir = log_dir or Path(tempfile.gettempdir()) / f"{self._slug}-not-started"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def log_path(self) -> Path:
        """The server's stdout and stderr."""
        return self.log_dir / self.log_name

    @property
    def pid(self) -> int:
        """The process id of the server (and id of its process group)."""
        if self._process is None:
            raise self.error(f"the {self.label} has not been started")
        return self._process.pid

    def launch(
        self,
        command: Sequence[str],
        *,
        ready: Callable[[], str | None],
        startup_timeout: float,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        """Starts ``command`` in a new process group and waits until ``ready`` passes.

        Args:
            command: The command line; its output goes to ``log_path``.
            ready: Returns None once the server answers, else what is still failing (for the timeout's
                message); called every 0.2 s.
            startup_timeout: Seconds to wait for ``ready``.
            env: Variables set over this process's environment for the server.
            cwd: The server's working folder; None runs it in the log folder.

        Raises:
            MlopsError: of the ``error`` type, when the server exits or is not ready in time; the message
                names the exception lines of the log and ends with its tail. The group is stopped first.
        """
        if self._owns_log_dir:
            self.log_dir = Path(tempfile.mkdtemp(prefix=f"{self._slug}-"))
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self._process = subprocess.Popen(
                list(command),
                cwd=cwd or self.log_dir,
                env={**os.environ, **(env or {})},
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            self._wait_ready(ready, startup_timeout)
        except BaseException:
            self._owns_log_dir = False  # the error message points at the log: keep it
            self.stop()
            raise

    def stop(self, grace: float = 10.0) -> None:
        """Stops the server and every process of its group (see ``stop_group``); removes an owned log.

        Raises:
            MlopsError: of the ``error`` type, when a member of the group is still alive afterwards.
        """
        if self._process is None:
            return
        try:
            stop_group(self._process.pid, grace, reap=self._process.poll)  # reaps the leader, our child
        except ServerProcessError as exc:
            raise self.error(f"the {self.label} did not stop: {exc}") from exc
        self._process.wait(timeout=5)
        if self._owns_log_dir:
            shutil.rmtree(self.log_dir, ignore_errors=True)

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        """The last ``lines`` lines of the server's output."""
        try:
            with open(self.log_path, "rb") as log:
                log.seek(0, os.SEEK_END)
                log.seek(max(0, log.tell() - 64 * 1024))
                text = log.read().decode("utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def _slug(self) -> str:
        return self.label.replace(" ", "-")

    def _wait_ready(self, ready: Callable[[], str | None], startup_timeout: float) -> None:
        assert self._process is not None
        deadline = time.monotonic() + startup_timeout
        last_problem = "no answer yet"
        while time.monotonic() < deadline:
            code = self._process.poll()
            if code is not None:
                raise self.error(
                    f"the {self.label} exited with status {code} while starting{self._causes()}; "
                    f"its log ({self.log_path}) ends with:\n{self.log_tail()}"
                )
            problem = ready()
            if problem is None:
                return
            last_problem = problem
            time.sleep(_READY_POLL_SECONDS)
        raise self.error(
            f"the {self.label} was not healthy after {startup_timeout:.0f} s ({last_problem})"
            f"{self._causes()}; its log ({self.log_path}) ends with:\n{self.log_tail()}"
        )

    def _causes(self) -> str:
        # A server of several processes prints a traceback from each, and the last one is often the
        # shutdown's own noise; the exception lines of all of them name the cause far more readably.
        lines = self.log_tail(lines=2_000).splitlines()
        causes = list(dict.fromkeys(line for line in lines if _EXCEPTION_LINE.match(line)))
        return f" ({'; '.join(causes[-3:])})" if causes else ""


def _source_checkout() -> str | None:
    """The project folder when this code runs from a checkout, so the serving interpreter imports the same
    code; None when it is an installed package (an image), whose site-packages must not shadow the
    serving environment's own (protobuf 4 there would break seldon-core)."""
    return str(PROJECT_ROOT) if (PROJECT_ROOT / "pyproject.toml").is_file() else None


@dataclass(frozen=True)
class ServerConfig:
    """How to run one model server.

    Attributes:
        model_class: The Seldon model class as ``module.Class``.
        parameters: Constructor keyword arguments of the class (str, int, float or bool values).
        host: The address every listener binds to.
        http_port: REST port; 0 picks a free one.
        grpc_port: gRPC port; 0 picks a free one.
        metrics_port: Prometheus port; 0 picks a free one.
        workers: Gunicorn worker processes for REST.
        threads: Threads per gunicorn worker (more than one: a single thread stalls behind idle
            keep-alive connections).
        grpc_workers: gRPC worker processes; 0 serves REST only.
        grpc_threads: Threads per gRPC worker.
        serving_venv: The serving environment whose interpreter runs the server.
        log_dir: Folder for ``server.log`` (the server's stdout and stderr); None makes a temporary one,
            removed by a clean ``stop`` and kept when the server fails to start (its error names it).
        startup_timeout: Seconds to wait for the server to become healthy.
        extra_env: Additional environment variables for the server.
        python_path: Folders put first on the server's import path, for model classes outside the
            project's packages (the test doubles under tests/).
    """

    model_class: str
    parameters: Mapping[str, str | int | float | bool] = field(default_factory=dict)
    host: str = "127.0.0.1"
    http_port: int = 0
    grpc_port: int = 0
    metrics_port: int = 0
    workers: int = 1
    threads: int = 4
    grpc_workers: int = 1
    grpc_threads: int = 4
    serving_venv: Path = DEFAULT_SERVING_VENV
    log_dir: Path | None = None
    startup_timeout: float = 120.0
    extra_env: Mapping[str, str] = field(default_factory=dict)
    python_path: tuple[Path, ...] = ()


class ModelServer(ManagedProcess):
    """A running model server: its URLs, its log, and ``stop``. Use ``start_server`` to make one."""

    def __init__(self, config: ServerConfig) -> None:
        super().__init__(
            label="model server", error=ServerProcessError, log_name="server.log", log_dir=config.log_dir
        )
        self.config = config
        self.http_port, self.grpc_port, self.metrics_port = free_ports(
            config.host, (config.http_port, config.grpc_port, config.metrics_port)
        )

    @property
    def http_url(self) -> str:
        return f"http://{self.config.host}:{self.http_port}"

    @property
    def grpc_target(self) -> str:
        return f"{self.config.host}:{self.grpc_port}"

    @property
    def metrics_url(self) -> str:
        return f"http://{self.config.host}:{self.metrics_port}{METRICS_PATH}"

    def command(self) -> list[str]:
        """The command line that starts the server."""
        config = self.config
        python = config.serving_venv / "bin" / "python"
        return [
            str(python),
            "-m",
            "components.serving.launcher",
            "--bind-host",
            config.host,
            "--",
            config.model_class,
            "--service-type",
            "MODEL",
            "--http-port",
            str(self.http_port),
            "--grpc-port",
            str(self.grpc_port),
            "--metrics-port",
            str(self.metrics_port),
            "--workers",
            str(config.workers),
            "--threads",
            str(config.threads),
            "--grpc-workers",
            str(config.grpc_workers),
            "--grpc-threads",
            str(config.grpc_threads),
            "--parameters",
            json.dumps(seldon_parameters(config.parameters)),
        ]

    def start(self) -> Self:
        """Starts the server and waits until it is healthy.

        Raises:
            ServerProcessError: when the interpreter is missing, the server exits, or it is not healthy
                within the timeout; the message ends with the tail of the server's log. The process
                group is stopped before raising.
        """
        python = self.config.serving_venv / "bin" / "python"
        if not python.exists():
            raise ServerProcessError(f"no serving interpreter at {python}: run `make env`")
        checkout = _source_checkout()
        self.launch(
            self.command(),
            ready=self._health_problem,
            startup_timeout=self.config.startup_timeout,
            env={
                "PYTHONPATH": os.pathsep.join(
                    filter(None, [*map(str, self.config.python_path), checkout, os.environ.get("PYTHONPATH")])
                ),
                "PREDICTIVE_UNIT_METRICS_ENDPOINT": METRICS_PATH,
                # Metrics go to Prometheus; copying them into every response body only slows answers down.
                "INCLUDE_METRICS_IN_CLIENT_RESPONSE": "false",
                "TF_CPP_MIN_LOG_LEVEL": "2",
                **self.config.extra_env,
            },
            # `python -m` puts the working folder first on sys.path: never an installed site-packages.
            cwd=Path(checkout) if checkout else None,
        )
        return self

    def _health_problem(self) -> str | None:
        # /health/status runs the model; the gRPC port opens last, and only when gRPC workers serve.
        checks = [f"{self.http_url}/health/ping", f"{self.http_url}/health/status", self.metrics_url]
        return first_failing_url(checks) or (
            None if self.config.grpc_workers == 0 else _port_closed(self.config.host, self.grpc_port)
        )


def start_server(config: ServerConfig) -> ModelServer:
    """Starts a model server and waits until it is healthy (see ``ModelServer.start``)."""
    return ModelServer(config).start()


def serve_model(
    model_dir: Path,
    *,
    model_version: str = "",
    request_log: Path | None = None,
    max_rows: int | None = None,
    backend: str | None = None,
    coalesce: bool | None = None,
    **options: Any,
) -> ModelServer:
    """Starts ``FlightDelayModel`` on a model folder and waits until it is healthy.

    Args:
        model_dir: The model folder (``saved_model/``, ``model.json``, ``serving_schema.json``).
        model_version: Reported in every response; empty means the version in ``model.json``.
        request_log: Folder for the request log; None disables it.
        max_rows: Largest batch per request; None keeps the model's default.
        backend: ``session`` or ``function``; None keeps the model's default.
        coalesce: Whether concurrent requests share model calls; None keeps the model's default (on).
        **options: Further ``ServerConfig`` fields (ports, workers, threads, ...).
    """
    parameters: dict[str, str | int | float | bool] = {"model_uri": str(Path(model_dir).resolve())}
    if model_version:
        parameters["model_version"] = model_version
    if request_log is not None:
        parameters["request_log"] = str(Path(request_log).resolve())
    if max_rows is not None:
        parameters["max_rows"] = max_rows
    if backend is not None:
        parameters["backend"] = backend
    if coalesce is not None:
        parameters["coalesce"] = coalesce
    return start_server(ServerConfig(model_class=MODEL_CLASS, parameters=parameters, **options))


def seldon_parameters(parameters: Mapping[str, str | int | float | bool]) -> list[dict[str, str]]:
    """Constructor arguments in the form ``seldon-core-microservice --parameters`` takes."""
    typed = []
    for name, value in parameters.items():
        if isinstance(value, bool):
            kind, text = "BOOL", "true" if value else "false"
        elif isinstance(value, int):
            kind, text = "INT", str(value)
        elif isinstance(value, float):
            kind, text = "FLOAT", repr(value)
        else:
            kind, text = "STRING", str(value)
        typed.append({"name": name, "value": text, "type": kind})
    return typed


def free_ports(host: str, wanted: Sequence[int]) -> list[int]:
    """``wanted`` with every 0 replaced by a distinct free port on ``host``.

    Binding to port 0 lets the kernel choose; the sockets close before the server binds, a window another
    program could use, which then shows as a clear start failure rather than a wrong server.
    """
    chosen = []
    holders = []
    try:
        for port in wanted:
            if port:
                chosen.append(port)
                continue
            holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            holders.append(holder)
            holder.bind((host, 0))
            chosen.append(int(holder.getsockname()[1]))
    finally:
        for holder in holders:
            holder.close()
    return chosen


def first_failing_url(urls: Sequence[str]) -> str | None:
    """The first of ``urls`` that does not answer without an HTTP error, with the reason; None if all do."""
    for url in urls:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                response.read()
        except (urllib.error.URLError, OSError) as exc:
            return f"{url}: {exc}"
    return None


def stop_group(group: int, grace: float = 10.0, reap: Callable[[], object] = lambda: None) -> None:
    """Stops every process of a server's process group: SIGTERM, ``grace`` seconds, then SIGKILL.

    SIGTERM lets workers finish their requests and flush their logs; once only the group leader (a
    gunicorn master, which holds no data) is left, or ``grace`` seconds have passed, the group gets
    SIGKILL: the leader would otherwise spend seconds tearing down its imports for nothing. Works for a
    server started by another process too (``mlops serve --stop``), which is why it takes the group id
    rather than a child process.

    Raises:
        ServerProcessError: when a member of the group is still alive afterwards.
    """
    _signal_group(group, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and set(group_members(group)) - {group}:
        time.sleep(0.05)
    _signal_group(group, signal.SIGKILL)
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline and group_members(group):
        reap()  # a leader that is our child would otherwise linger as a zombie
        time.sleep(0.02)
    left = group_members(group)
    if left:
        raise ServerProcessError(f"processes {left} of server group {group} survived SIGKILL")


def group_members(group: int) -> list[int]:
    """Live (non-zombie) processes of a process group, read from ``/proc``."""
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue  # exited while we looked
        state, pgrp = fields[0], int(fields[2])
        if pgrp == group and state != b"Z":
            members.append(int(entry))
    return sorted(members)


def _signal_group(group: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):  # the group is already gone
        os.killpg(group, sig)


def _port_closed(host: str, port: int) -> str | None:
    try:
        with socket.create_connection((host, port), timeout=1):
            return None
    except OSError as exc:
        return f"gRPC {host}:{port}: {exc}"


def resident_memory_mb(group: int) -> float:
    """Resident memory of every process in a process group, from ``/proc``."""
    total_kb = 0
    for pid in group_members(group):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue  # exited meanwhile
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total_kb += int(line.split()[1])
    return total_kb / 1024


def running_server_record(record_path: Path) -> dict[str, Any] | None:
    """The record a background server left at ``record_path``, if its process group still runs."""
    if not record_path.is_file():
        return None
    record = dict(json.loads(record_path.read_text(encoding="utf-8")))
    if group_members(int(record["pid"])):
        return record
    record_path.unlink()  # a server that died on its own leaves its record behind
    return None
