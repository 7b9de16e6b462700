"""One training run per model at a time: the lease is refused while its holder lives, and taken over at
once when the holder is killed (SIGKILL of a real process), with the takeover recorded."""

from __future__ import annotations

import os
import signal
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from trigger_processes import start_workers

from components.lineage import open_store
from components.triggers.lease import Holder, TrainingLease
from components.triggers.ledger import ACQUIRED, EXPIRED, LEASE, RELEASED, TriggerLedger
from contracts.errors import TrainingBusyError


class Clock:
    def __init__(self) -> None:
        self.now = 2_000_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def lease(tmp_path: Path) -> Iterator[TrainingLease]:
    with open_store(f"sqlite:///{tmp_path}/metadata.sqlite") as store:
        yield TrainingLease(
            TriggerLedger(store, "flight-delay"), lock_dir=tmp_path / "locks", ttl_seconds=3_600.0
        )


def events(lease: TrainingLease) -> list[tuple[str, str, str]]:
    return [(e.text("event"), e.text("request_id"), e.text("note")) for e in lease.ledger.state().of(LEASE)]


def test_a_live_holder_keeps_the_lease_and_a_killed_one_loses_it_at_once(
    lease: TrainingLease, tmp_path: Path
) -> None:
    [worker] = start_workers(tmp_path, [("hold", "w1")])
    (tmp_path / "go").touch()
    assert worker.stdout is not None and worker.stdout.readline().strip() == "held"

    busy = pytest.raises(TrainingBusyError, match=f"in progress on this machine \\(pid {worker.pid} on")
    with busy, lease.hold(request_id="mine", trigger="drift"):
        pass
    holder = lease.live_holder(lease.ledger.state())
    assert holder is not None and holder.pid == worker.pid

    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(10)
    assert lease.live_holder(lease.ledger.state()) is None  # its file lock died with it

    with lease.hold(request_id="mine", trigger="drift") as grant:
        assert grant.request_id == "mine"
        assert lease.live_holder(lease.ledger.state()) == Holder.this_process()

    assert events(lease) == [
        (ACQUIRED, "hold-w1", ""),
        (EXPIRED, "hold-w1", f"pid {worker.pid} on {socket.gethostname()} ended without releasing it"),
        (ACQUIRED, "mine", ""),
        (RELEASED, "mine", "completed"),
    ]


def test_a_run_that_fails_releases_its_lease(lease: TrainingLease) -> None:
    with pytest.raises(RuntimeError), lease.hold(request_id="doomed", trigger="schedule"):
        raise RuntimeError("the pipeline failed")
    assert events(lease)[-1] == (RELEASED, "doomed", "failed: RuntimeError")
    with lease.hold(request_id="next", trigger="schedule"):
        pass


def test_a_cluster_run_holds_the_lease_until_it_finishes_or_lapses(tmp_path: Path) -> None:
    clock = Clock()
    finished: set[str] = set()
    with open_store(f"sqlite:///{tmp_path}/metadata.sqlite") as store:
        ledger = TriggerLedger(store, "flight-delay", clock=clock)
        lease = TrainingLease(
            ledger, lock_dir=None, ttl_seconds=600.0, run_finished=lambda run: run in finished
        )
        lease.acquire_for(Holder.cluster_run("run-a"), request_id="drift-1", trigger="drift")
        with pytest.raises(TrainingBusyError, match="cluster run run-a, request drift-1 \\(drift\\)"):
            lease.acquire_for(Holder.cluster_run("run-b"), request_id="drift-2", trigger="drift")

        finished.add("run-a")
        lease.acquire_for(Holder.cluster_run("run-b"), request_id="drift-2", trigger="drift")
        clock.now += 601  # run-b never reports back: its lease lapses
        lease.acquire_for(Holder.cluster_run("run-c"), request_id="schedule-1", trigger="schedule")

        notes = [(e.text("event"), e.text("note")) for e in ledger.state().of(LEASE)]
    assert notes == [
        (ACQUIRED, ""),
        (EXPIRED, "cluster run run-a finished"),
        (ACQUIRED, ""),
        (EXPIRED, "lapsed 1 s ago"),
        (ACQUIRED, ""),
    ]
