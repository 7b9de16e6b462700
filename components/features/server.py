"""Starts and stops Feast's feature server (``feast serve``) from the features environment.

The server answers ``POST /get-online-features`` from the online store of a rendered repository; it
binds to 127.0.0.1 by default. Like the model server it runs in its own process group, so stopping it
stops its gunicorn workers too.

Example:
    >>> with start_feature_server(Path(".mlops/features")) as server:  # doctest: +SKIP
    ...     FeatureClient(server.url).lookup([{"origin": "EWR", ...}])
"""

from __future__ import annotations

import os
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from components.errors import FeatureStoreError, ServerProcessError
from components.features.catalog import CONFIG_FILE
from components.features.environment import features_venv
from components.serving.process import stop_group

HEALTH_PATH = "/health"
LOG_TAIL_LINES = 30


@dataclass(frozen=True)
class FeatureServerConfig:
    """How to run one feature server.

    Attributes:
        repo: The rendered Feast repository (after ``mlops features apply``).
        host: Listening address.
        port: Listening port; 0 picks a free one.
        workers: Gunicorn worker processes.
        venv: The features environment; None means ``features_venv()``.
        startup_timeout: Seconds to wait for ``/health``.
        log_dir: Folder for ``feature-server.log``; None makes a temporary one.
    """

    repo: Path
    host: str = "127.0.0.1"
    port: int = 0
    workers: int = 1
    venv: Path | None = None
    startup_timeout: float = 120.0
    log_dir: Path | None = None


class FeatureServer:
    """A running feature server: its URL, its log and ``stop``."""

    def __init__(self, config: FeatureServerConfig) -> None:
        self.config = config
        self.port = config.port or _free_port(config.host)
        self.log_dir = config.log_dir or Path(tempfile.mkdtemp(prefix="feature-server-"))
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.config.host}:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.log_dir / "feature-server.log"

    @property
    def pid(self) -> int:
        if self._process is None:
            raise FeatureStoreError("the feature server has not been started")
        return self._process.pid

    def command(self) -> list[str]:
        """The command line of the server."""
        feast = features_venv(self.config.venv) / "bin" / "feast"
        return [
            str(feast),
            "--chdir",
            str(self.config.repo.resolve()),
            "serve",
            "--host",
            self.config.host,
            "--port",
            str(self.port),
            "--workers",
            str(self.config.workers),
            "--no-access-log",
        ]

    def start(self) -> FeatureServer:
        """Starts the server and waits until ``/health`` answers.

        Raises:
            FeatureStoreError: when the repository or the ``feast`` command is missing, the server exits,
                or it is not healthy in time (the message ends with its log's tail).
        """
        if not (self.config.repo / CONFIG_FILE).is_file():
            raise FeatureStoreError(f"{self.config.repo} holds no feature store: run `mlops features apply`")
        command = self.command()
        if not Path(command[0]).exists():
            raise FeatureStoreError(f"no feast command at {command[0]}: run `make env`")
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self._process = subprocess.Popen(
                command,
                cwd=self.config.repo,
                env={**os.environ, "PYTHONWARNINGS": "ignore"},
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            self._wait_healthy()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stops the server and every worker it forked."""
        if self._process is None:
            return
        try:
            stop_group(self._process.pid, grace=10.0, reap=self._process.poll)
        except ServerProcessError as exc:  # a serving error by type; a feature-store one here
            raise FeatureStoreError(f"the feature server did not stop: {exc}") from exc
        self._process.wait(timeout=5)

    def log_tail(self) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-LOG_TAIL_LINES:])
        except OSError:
            return ""

    def __enter__(self) -> FeatureServer:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    def _wait_healthy(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + self.config.startup_timeout
        while time.monotonic() < deadline:
            code = self._process.poll()
            if code is not None:
                raise FeatureStoreError(
                    f"the feature server exited with status {code} while starting; "
                    f"its log ({self.log_path}) ends with:\n{self.log_tail()}"
                )
            try:
                with urllib.request.urlopen(self.url + HEALTH_PATH, timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.25)
        raise FeatureStoreError(
            f"the feature server was not healthy after {self.config.startup_timeout:.0f} s; "
            f"its log ({self.log_path}) ends with:\n{self.log_tail()}"
        )


def start_feature_server(repo: Path, **options: object) -> FeatureServer:
    """Starts a feature server on a rendered repository (see ``FeatureServer.start``)."""
    return FeatureServer(FeatureServerConfig(repo=repo, **options)).start()  # type: ignore[arg-type]


def _free_port(host: str) -> int:
    # The port is free when chosen; a program taking it before the server binds shows as a start failure.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind((host, 0))
        return int(holder.getsockname()[1])
