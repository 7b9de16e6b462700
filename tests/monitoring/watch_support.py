"""Shared by the watcher tests: a watcher over a state folder, and a started run stopped once it holds its lease."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

from default_data import session_feature_store

from cli.monitor_commands import local_watcher
from components.lineage import LineageStore
from components.monitoring.config import MonitorConfig, load_monitor_config
from components.settings import ProjectSettings
from components.triggers.launch import LocalRun
from components.triggers.ledger import ACQUIRED, LEASE, TriggerLedger
from components.triggers.policy import TriggerPolicy
from components.triggers.watch import Watcher, WatchPlan

LEASE_WAIT_SECONDS = 240.0


def settings_for(state: Path) -> ProjectSettings:
    # Retraining runs read the session's feature store rather than building one per state folder.
    return ProjectSettings(
        state_dir=state,
        metadata_uri=f"sqlite:///{state}/metadata.sqlite",
        feature_repo_dir=session_feature_store().repo,
    )


def watcher_for(
    store: LineageStore,
    settings: ProjectSettings,
    plan: WatchPlan,
    *,
    policy: TriggerPolicy | None = None,
    config: MonitorConfig | None = None,
    clock: Callable[[], float] = time.time,
) -> Watcher:
    """A watcher as ``mlops watch`` builds one, launching real ``mlops retrain`` children."""
    return local_watcher(
        store,
        plan,
        settings,
        policy=policy or TriggerPolicy(),
        monitor_config=config or load_monitor_config(),
        lock_dir=settings.state_dir / "locks",
        clock=clock,
    )


def stop_once_leased(run: LocalRun, ledger: TriggerLedger) -> dict[str, str]:
    """Waits until the run's process holds the model's training lease, then kills it (and its steps).

    An experiment cycle's runs take the lease under ids that extend the request's (``ID-r1``, ...).

    Returns:
        The lease entry's facts (holder, trigger, request id).
    """
    deadline = time.monotonic() + LEASE_WAIT_SECONDS
    try:
        while time.monotonic() < deadline:
            for entry in ledger.state().of(LEASE):
                if entry.text("event") == ACQUIRED and entry.text("request_id").startswith(
                    run.request.request_id
                ):
                    return {key: entry.text(key) for key in ("holder", "trigger", "request_id")}
            if run.process.poll() is not None:
                raise AssertionError(
                    f"the run exited ({run.process.returncode}): {run.log_path.read_text()[-2000:]}"
                )
            time.sleep(0.2)
        raise AssertionError(f"the run never took its lease: {run.log_path.read_text()[-2000:]}")
    finally:
        if run.process.poll() is None:
            os.killpg(run.process.pid, signal.SIGKILL)
        run.process.wait(30)
