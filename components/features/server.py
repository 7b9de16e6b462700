"""Starts and stops Feast's feature server (``feast serve``) from the features environment.

The server answers ``POST /get-online-features`` from the online store of a rendered repository; it
binds to 127.0.0.1 by default. Like the model server it is a ``ManagedProcess``
(``components/processes.py``): it runs in its own process group, so stopping it stops its gunicorn
workers too, and its errors end with its log's tail.

Example:
    >>> with start_feature_server(Path(".mlops/features")) as server:  # doctest: +SKIP
    ...     FeatureClient(server.url).lookup([{"origin": "EWR", ...}])
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

from components.features.environment import features_venv
from components.processes import ManagedProcess, first_failing_url, free_ports, running_server_record
from components.settings import ProjectSettings
from contracts.errors import FeatureStoreError
from contracts.feature_catalog import CONFIG_FILE

# Under the state folder: the record of the feature server `mlops features serve` left running.
SERVER_RECORD_FILE = "feature-server.json"
HEALTH_PATH = "/health"


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
        log_dir: Folder for ``feature-server.log``; None makes a temporary one, removed by a clean
            ``stop`` and kept when the server fails to start (its error names it).
    """

    repo: Path
    host: str = "127.0.0.1"
    port: int = 0
    workers: int = 1
    venv: Path | None = None
    startup_timeout: float = 120.0
    log_dir: Path | None = None


class FeatureServer(ManagedProcess):
    """A running feature server: its URL, its log and ``stop``; every error is a ``FeatureStoreError``."""

    def __init__(self, config: FeatureServerConfig) -> None:
        super().__init__(
            label="feature server",
            error=FeatureStoreError,
            log_name="feature-server.log",
            log_dir=config.log_dir,
        )
        self.config = config
        self.port = free_ports(config.host, [config.port])[0]

    @property
    def url(self) -> str:
        return f"http://{self.config.host}:{self.port}"

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

    def start(self) -> Self:
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
        self.launch(
            command,
            ready=lambda: first_failing_url([self.url + HEALTH_PATH]),
            startup_timeout=self.config.startup_timeout,
            env={"PYTHONWARNINGS": "ignore"},
            cwd=self.config.repo,
        )
        return self


def start_feature_server(repo: Path, **options: object) -> FeatureServer:
    """Starts a feature server on a rendered repository (see ``FeatureServer.start``)."""
    return FeatureServer(FeatureServerConfig(repo=repo, **options)).start()  # type: ignore[arg-type]


def running_feature_server(settings: ProjectSettings) -> dict[str, Any] | None:
    """The record of the feature server ``mlops features serve`` started, if it still runs."""
    return running_server_record(settings.state_dir / SERVER_RECORD_FILE)
