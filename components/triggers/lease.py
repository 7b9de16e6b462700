"""One training run per model at a time: a file lock on this machine plus a lease in the trigger ledger.

The two halves cover each other's blind spots:

- The file lock (``flock`` on ``<lock_dir>/training-<model>.lock``) is released by the kernel the moment
  its holder dies, even by SIGKILL, so a crashed run never blocks the next one here; but it reaches only
  processes of this machine.
- The lease (``lease`` entries of the ledger) is visible wherever the lineage store is, so a watcher, a
  cluster's monitor and ``mlops models`` all see that a run is in progress and who runs it; but a crashed
  holder cannot release it.

A run holds both. Whoever finds a lease ``acquired`` and not ``released`` asks whether its holder is
still alive: a holder on this machine is alive while its file lock is held; a holder elsewhere (a run in a
cluster) while its lease has not lapsed, or as a supplied probe says. A dead holder's lease is recorded
``expired`` with the reason, in the same commit that grants the lease to the next run.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from components.triggers.ledger import (
    ACQUIRED,
    EXPIRED,
    LEASE,
    RELEASED,
    LedgerEntry,
    LedgerState,
    TriggerLedger,
)
from contracts.errors import TrainingBusyError, TriggerError

BOOT_ID_PATH = Path("/proc/sys/kernel/random/boot_id")


@dataclass(frozen=True)
class Holder:
    """Who runs a training run.

    Attributes:
        host: Host name.
        boot: The kernel's boot id: a pid is meaningful only within one boot of one host.
        pid: The holding process (0 for a run elsewhere, such as a cluster run).
        run: A cluster run's id, when the run is not a local process.
    """

    host: str
    boot: str
    pid: int
    run: str = ""

    @classmethod
    def this_process(cls) -> Holder:
        try:
            boot = BOOT_ID_PATH.read_text(encoding="ascii").strip()
        except OSError:
            boot = ""
        return cls(host=socket.gethostname(), boot=boot, pid=os.getpid())

    @classmethod
    def cluster_run(cls, run_id: str) -> Holder:
        return cls(host="", boot="", pid=0, run=run_id)

    def same_machine(self, other: Holder) -> bool:
        return bool(self.pid and other.pid) and (self.host, self.boot) == (other.host, other.boot)

    def describe(self) -> str:
        return f"cluster run {self.run}" if self.run else f"pid {self.pid} on {self.host}"

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Holder:
        try:
            data: dict[str, Any] = json.loads(text)
            return cls(
                host=str(data["host"]),
                boot=str(data["boot"]),
                pid=int(data["pid"]),
                run=str(data.get("run", "")),
            )
        except (ValueError, KeyError, TypeError):
            return cls(host="?", boot="?", pid=0, run="unknown holder")


@dataclass(frozen=True)
class LeaseGrant:
    """A lease held: its id, the run it is for and when it lapses."""

    lease_id: str
    request_id: str
    trigger: str
    expires_at: float


class TrainingLease:
    """The training lease of one model.

    Args:
        ledger: The model's trigger ledger.
        lock_dir: Folder of the file locks on this machine; None where there is no shared file system (a
            cluster's monitor, whose runs are pods elsewhere): the lease alone then.
        ttl_seconds: How long a grant lasts unless released.
        run_finished: For a holder that is a cluster run: returns whether that run has finished (its
            lease is then over). None trusts the lease's lapse time alone.
    """

    def __init__(
        self,
        ledger: TriggerLedger,
        *,
        lock_dir: Path | None,
        ttl_seconds: float,
        run_finished: Callable[[str], bool] | None = None,
    ) -> None:
        self.ledger = ledger
        self.lock_dir = lock_dir
        self.ttl_seconds = ttl_seconds
        self.run_finished = run_finished

    @property
    def lock_path(self) -> Path | None:
        return None if self.lock_dir is None else self.lock_dir / f"training-{self.ledger.model}.lock"

    def live_holder(self, state: LedgerState) -> Holder | None:
        """The holder of the model's lease when it is alive, else None (no lease, released, or dead)."""
        lease = state.open_lease()
        if lease is None:
            return None
        dead = self._death(lease, Holder.this_process(), have_file_lock=False)
        return None if dead else Holder.from_json(lease.text("holder"))

    def _death(self, lease: LedgerEntry, me: Holder, *, have_file_lock: bool) -> str:
        """Why the holder of an open lease is no longer running, or "" while it is.

        ``have_file_lock``: the asker holds this machine's file lock, so no other local holder can be alive.
        """
        holder = Holder.from_json(lease.text("holder"))
        if holder.same_machine(me) and self.lock_path is not None:
            if have_file_lock or not _locked_by_other(self.lock_path):
                return f"{holder.describe()} ended without releasing it"
            return ""
        if holder.run and self.run_finished is not None and self.run_finished(holder.run):
            return f"{holder.describe()} finished"
        if self.ledger.clock() >= lease.number("expires_at"):
            return f"lapsed {self.ledger.clock() - lease.number('expires_at'):.0f} s ago"
        return ""

    @contextlib.contextmanager
    def hold(self, *, request_id: str, trigger: str) -> Iterator[LeaseGrant]:
        """Holds the lease (and the file lock) for the ``with`` block; released however the block ends.

        Raises:
            TrainingBusyError: naming the holder, when another run holds the lease.
        """
        me = Holder.this_process()
        with self._file_lock(me):
            grant = self._grant(
                me, request_id=request_id, trigger=trigger, have_file_lock=self.lock_path is not None
            )
            outcome = "completed"
            try:
                yield grant
            except BaseException as exc:
                outcome = f"failed: {type(exc).__name__}"
                raise
            finally:
                self.release(grant, note=outcome)

    def acquire_for(self, holder: Holder, *, request_id: str, trigger: str) -> LeaseGrant:
        """Grants the lease to a run that is not this process (a cluster run, once it is started).

        Raises:
            TrainingBusyError: when a live holder has it.
        """
        return self._grant(holder, request_id=request_id, trigger=trigger, have_file_lock=False)

    def release(self, grant: LeaseGrant, *, note: str) -> bool:
        """Records the end of a grant, unless it already ended (expired by another). Returns whether it did."""

        def plan(state: LedgerState) -> list[tuple[str, dict[str, Any]]]:
            lease = state.open_lease()
            if lease is None or lease.text("lease_id") != grant.lease_id:
                return []
            return [(LEASE, _lease(RELEASED, grant, lease.text("holder"), note))]

        return bool(self.ledger.write(plan))

    def _grant(self, holder: Holder, *, request_id: str, trigger: str, have_file_lock: bool) -> LeaseGrant:
        grant = LeaseGrant(
            lease_id=uuid.uuid4().hex,
            request_id=request_id,
            trigger=trigger,
            expires_at=self.ledger.clock() + self.ttl_seconds,
        )

        def plan(state: LedgerState) -> list[tuple[str, dict[str, Any]]]:
            entries: list[tuple[str, dict[str, Any]]] = []
            lease = state.open_lease()
            if lease is not None:
                death = self._death(lease, holder, have_file_lock=have_file_lock)
                if not death:
                    owner = Holder.from_json(lease.text("holder"))
                    raise TrainingBusyError(
                        f"a training run of {state.model} is in progress: {owner.describe()}, request "
                        f"{lease.text('request_id')} ({lease.text('trigger')}); try again when it has finished"
                    )
                previous = LeaseGrant(
                    lease.text("lease_id"),
                    lease.text("request_id"),
                    lease.text("trigger"),
                    lease.number("expires_at"),
                )
                entries.append((LEASE, _lease(EXPIRED, previous, lease.text("holder"), death)))
            entries.append((LEASE, _lease(ACQUIRED, grant, holder.to_json(), "")))
            return entries

        self.ledger.write(plan)
        return grant

    @contextlib.contextmanager
    def _file_lock(self, me: Holder) -> Iterator[None]:
        path = self.lock_path
        if path is None:
            yield
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise TriggerError(f"cannot open the training lock {path}: {exc}") from exc
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise TrainingBusyError(
                    f"a training run of {self.ledger.model} is in progress on this machine ({_read_holder(fd)}); "
                    "try again when it has finished"
                ) from None
            os.ftruncate(fd, 0)
            os.pwrite(fd, me.describe().encode(), 0)  # for the message above, in the next one who waits
            yield
        finally:
            os.close(fd)  # closing releases the lock; the kernel does the same for a process that dies


def release_finished_run(lease: TrainingLease, run_finished: Callable[[str], bool]) -> None:
    """Ends the lease of a cluster run that has finished since the last look.

    A cluster run's end is never seen by the process that started it (a CronJob tick exits after starting
    it), so the next tick asks the run's state through ``run_finished`` and releases its lease here.
    """
    open_lease = lease.ledger.state().open_lease()
    if open_lease is None:
        return
    holder = Holder.from_json(open_lease.text("holder"))
    if holder.run and run_finished(holder.run):
        grant = LeaseGrant(
            open_lease.text("lease_id"),
            open_lease.text("request_id"),
            open_lease.text("trigger"),
            open_lease.number("expires_at"),
        )
        lease.release(grant, note=f"cluster run {holder.run} finished")


def _lease(event: str, grant: LeaseGrant, holder: str, note: str) -> dict[str, Any]:
    return {
        "event": event,
        "lease_id": grant.lease_id,
        "request_id": grant.request_id,
        "trigger": grant.trigger,
        "expires_at": grant.expires_at,
        "holder": holder,
        "note": note,
    }


def _locked_by_other(path: Path) -> bool:
    """Whether another process holds the file lock (probed without waiting, and let go at once)."""
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def _read_holder(fd: int) -> str:
    try:
        return os.pread(fd, 200, 0).decode(errors="replace").strip() or "holder unknown"
    except OSError:
        return "holder unknown"
