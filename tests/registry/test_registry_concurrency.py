"""Concurrent writers in real processes: unique versions, one production, a consistent history."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from registry_support import record_register_step

from components.lineage import LineageStore, open_store
from components.registry import ModelRegistry, Stage
from contracts.errors import RegistryError

WORKER = Path(__file__).with_name("registry_worker.py")


def _run_together(tmp_path: Path, lock: str, jobs: list[tuple[str, str]]) -> list[str]:
    """Starts one worker per job, releases them at once, and returns what each printed."""
    uri = f"sqlite:///{tmp_path}/metadata.sqlite"
    go_file = tmp_path / "go"
    workers = [
        subprocess.Popen(
            [sys.executable, str(WORKER), uri, lock, str(go_file), action, argument],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for action, argument in jobs
    ]
    # Every worker says when it has imported and opened the store; then all are released together.
    for worker in workers:
        assert worker.stdout is not None and worker.stdout.readline().strip() == "ready"
    go_file.touch()
    outputs = [worker.communicate(timeout=120) for worker in workers]
    failures = [err for worker, (_, err) in zip(workers, outputs, strict=True) if worker.returncode != 0]
    assert failures == []
    return [out.strip() for out, _ in outputs]


def _assert_consistent(registry: ModelRegistry) -> None:
    """Checks the invariants any interleaving of writers must keep."""
    versions = registry.list_versions()
    transitions = registry.transitions()
    assert [v.number for v in versions] == list(range(1, len(versions) + 1))
    assert [t.sequence for t in transitions] == list(range(1, len(transitions) + 1))
    assert len([v for v in versions if v.stage is Stage.PRODUCTION]) <= 1
    # Replaying the transitions in sequence order must reproduce every version's stage...
    stages: dict[str, Stage] = {}
    production: str | None = None
    for t in transitions:
        assert stages.get(t.version) == t.from_stage, f"transition {t.sequence} starts from a stale stage"
        stages[t.version] = t.to_stage
        if t.to_stage is Stage.PRODUCTION and t.trigger == "promote":
            # ...and every promotion must point back at the production it replaced.
            assert registry.get(t.version).previous_production == production
        if t.to_stage is Stage.PRODUCTION:
            production = t.version
    assert stages == {v.version: v.stage for v in versions}
    assert all(len(registry.history(v.version)) >= 1 for v in versions)


@pytest.mark.parametrize("lock", ["file-lock", "store-only"])
def test_processes_registering_and_promoting_at_once_stay_consistent(tmp_path: Path, lock: str) -> None:
    lock_arg = str(tmp_path / "registry.lock") if lock == "file-lock" else "-"
    open_store(f"sqlite:///{tmp_path}/metadata.sqlite").close()
    count = 6
    printed = _run_together(tmp_path, lock_arg, [("register-promote", f"run-{i}") for i in range(count)])

    assert sorted(printed) == sorted(f"v{i}" for i in range(1, count + 1))
    with open_store(f"sqlite:///{tmp_path}/metadata.sqlite") as store:
        registry = ModelRegistry(store)
        _assert_consistent(registry)
        stages = sorted(v.stage for v in registry.list_versions())
        assert stages == sorted([Stage.PRODUCTION] + [Stage.ARCHIVED] * (count - 1))
        # count registrations, count promotions, and every promotion but the first replaced a production.
        assert len(registry.transitions()) == 3 * count - 1


def test_two_simultaneous_promotions_leave_one_production_pointing_at_the_other(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path}/metadata.sqlite"
    with open_store(uri) as store:
        registry = ModelRegistry(store)
        for run_id in ("run-1", "run-2"):
            registry.register(record_register_step(store, run_id))

    printed = _run_together(tmp_path, str(tmp_path / "registry.lock"), [("promote", "v1"), ("promote", "v2")])

    assert sorted(printed) == ["v1", "v2"]
    with open_store(uri) as store:
        registry = ModelRegistry(store)
        _assert_consistent(registry)
        winner = registry.production()
        assert winner is not None
        loser = registry.get("v1" if winner.version == "v2" else "v2")
        assert loser.stage is Stage.ARCHIVED
        assert winner.previous_production == loser.version
        assert [t.trigger for t in registry.history(loser.version)] == ["register", "promote", "replaced"]


def _holder(tmp_path: Path, lock_path: Path) -> subprocess.Popen[str]:
    holder = subprocess.Popen(
        [sys.executable, str(WORKER), "-", str(lock_path), str(tmp_path / "go"), "hold-lock"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    return holder


def test_a_held_lock_times_out_and_a_killed_holder_releases_it(tmp_path: Path, store: LineageStore) -> None:
    lock_path = tmp_path / "registry.lock"
    holder = _holder(tmp_path, lock_path)
    registry = ModelRegistry(store, lock_path=lock_path, lock_timeout_seconds=0.3)
    artifact_id = record_register_step(store, "run-1")
    try:
        with pytest.raises(
            RegistryError, match=r"another registry writer has held .*registry.lock for over 0.3 s"
        ):
            registry.register(artifact_id)
        assert registry.list_versions() == []
    finally:
        # SIGKILL: the holder gets no chance to clean up; the kernel drops its flock with its descriptors.
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(timeout=10)
    started = time.monotonic()
    assert registry.register(artifact_id).version == "v1"
    assert time.monotonic() - started < 0.3
