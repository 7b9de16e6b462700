"""Starting a retraining run: what to run, and a launcher that runs it as its own process here.

A local run is a child process (``mlops retrain``), never a thread of the watcher: it takes the training
lease itself, so a crash of either process leaves the other's state clean, and the pipeline's step
output stays in the run's log instead of the watcher's terminal. A cluster's launcher (``kfp.Client``)
lives with the cluster commands in ``pipelines/``; both meet the ``Launcher`` protocol.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from components.settings import (
    FEATURE_REPO_VARIABLE,
    METADATA_URI_VARIABLE,
    PROJECT_ROOT,
    STATE_DIR_VARIABLE,
    ProjectSettings,
)
from components.triggers.kinds import TriggerKind
from components.triggers.window import DataWindow
from contracts.names import MODEL_NAME


@dataclass(frozen=True)
class RetrainRequest:
    """A retraining run to start.

    Attributes:
        kind: The trigger that fired.
        request_id: The run's id, recorded on its steps and in the trigger's ledger entry.
        window: The data it learns from and is judged on.
        model: The registered model.
        promotion: ``production`` promotes a blessed candidate at once; ``blessed`` leaves it to a rollout.
        params: Further pipeline arguments (``epochs``, ...).
        experiment: A major change's experiment cycle to run instead of a retraining ("" for none).
        grid: That cycle's sweep (``key=v1,v2`` assignments).
    """

    kind: TriggerKind
    request_id: str
    window: DataWindow
    model: str = MODEL_NAME
    promotion: str = "production"
    params: Mapping[str, Any] = field(default_factory=dict)
    experiment: str = ""
    grid: tuple[str, ...] = ()

    def command_arguments(self) -> list[str]:
        """The ``mlops retrain`` (or, for a major change, ``mlops experiment run``) arguments of this request."""
        if self.experiment:
            first, last = self.window.train_months[0], self.window.train_months[-1]
            sweep = [flag for assignment in self.grid for flag in ("--grid", assignment)]
            return [
                "experiment",
                "run",
                self.experiment,
                "--months",
                f"{first}-{last}",
                *sweep,
                "--model",
                self.model,
                "--request-id",
                self.request_id,
                "--json",
            ]
        arguments = [
            "retrain",
            "--trigger",
            self.kind.value,
            "--request-id",
            self.request_id,
            "--as-of",
            str(self.window.eval_month),
            "--window-months",
            str(len(self.window.train_months)),
            "--model",
            self.model,
            "--promotion",
            self.promotion,
            "--json",
        ]
        if self.window.data_file:
            arguments += ["--data", self.window.data_file]
        for key, value in sorted(self.params.items()):
            arguments += ["--param", f"{key}={json.dumps(value)}"]
        return arguments


@dataclass(frozen=True)
class RunOutcome:
    """How a retraining run ended.

    Attributes:
        succeeded: Whether the pipeline ran to its end (a rejected candidate is still a success).
        version: The version it registered ("" when none).
        stage: Its stage after registration.
        blessed: Whether evaluation and infra validation blessed it.
        detail: The run's summary, or why it failed.
    """

    succeeded: bool
    version: str = ""
    stage: str = ""
    blessed: bool = False
    detail: str = ""


class RunHandle(Protocol):
    request: RetrainRequest

    def poll(self) -> RunOutcome | None:
        """The outcome once the run has ended, else None."""
        ...


class Launcher(Protocol):
    def start(self, request: RetrainRequest) -> RunHandle:
        """Starts the run and returns at once."""
        ...


class LocalRun:
    """A ``mlops retrain`` child process and its log."""

    def __init__(self, request: RetrainRequest, process: subprocess.Popen[bytes], log_path: Path) -> None:
        self.request = request
        self.process = process
        self.log_path = log_path

    @property
    def pid(self) -> int:
        return self.process.pid

    def poll(self) -> RunOutcome | None:
        code = self.process.poll()
        if code is None:
            return None
        return parse_outcome(self.log_path.with_suffix(".json"), code, self.log_path)

    def wait(self, timeout: float | None = None) -> RunOutcome:
        self.process.wait(timeout)
        outcome = self.poll()
        assert outcome is not None
        return outcome


def parse_outcome(summary_path: Path, code: int, log_path: Path) -> RunOutcome:
    """Reads the JSON summary ``mlops retrain --json`` printed; a missing one means the run failed early."""
    try:
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return RunOutcome(succeeded=False, detail=f"exit code {code}; see {log_path}")
    if "runs" in summary:  # an experiment cycle: candidates only, never promoted
        runs = summary["runs"]
        return RunOutcome(
            succeeded=code == 0 and all(run.get("succeeded") for run in runs),
            detail=f"experiment {summary.get('experiment')}: {len(runs)} run(s); "
            f"compare them with mlops experiment compare {summary.get('experiment')}",
        )
    registered = summary.get("registered") or {}
    return RunOutcome(
        succeeded=bool(summary.get("succeeded")) and code == 0,
        version=str(registered.get("version", "")),
        stage=str(registered.get("stage", "")),
        blessed=bool(registered.get("blessed", False)),
        detail=str(summary.get("error") or summary.get("window", "")),
    )


class LocalLauncher:
    """Runs each request as ``mlops retrain`` in a child process against the same state folder.

    Args:
        settings: The state folder and lineage store the child uses.
        log_dir: Where each run's output goes (``<request_id>.log``, and its JSON summary beside it).
        python: The interpreter of the pipeline environment.
        extra_env: Environment added to the child's.
    """

    def __init__(
        self,
        settings: ProjectSettings,
        *,
        log_dir: Path | None = None,
        python: str = sys.executable,
        extra_env: Mapping[str, str] | None = None,
    ) -> None:
        self.settings = settings
        self.log_dir = log_dir or settings.state_dir / "logs" / "retrain"
        self.python = python
        self.extra_env = dict(extra_env or {})

    def command(self, request: RetrainRequest) -> Sequence[str]:
        return [self.python, "-m", "cli.main", *request.command_arguments()]

    def start(self, request: RetrainRequest) -> LocalRun:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.log_dir / f"{request.request_id}.log"
        env = {
            **os.environ,
            **self.extra_env,
            STATE_DIR_VARIABLE: str(self.settings.state_dir),
            METADATA_URI_VARIABLE: self.settings.metadata_uri,
            FEATURE_REPO_VARIABLE: str(self.settings.feature_repo),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")])),
        }
        with log_path.open("ab") as log, log_path.with_suffix(".json").open("wb") as summary:
            process = subprocess.Popen(
                list(self.command(request)),
                cwd=PROJECT_ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=summary,
                stderr=log,
                start_new_session=True,
            )
        return LocalRun(request, process, log_path)
