"""A registry writer in its own process, for the concurrency tests (run as a script, never imported).

Usage: ``python registry_worker.py URI LOCK_PATH|- GO_FILE ACTION [ARG]``. The worker opens the store, prints
``ready`` and waits for GO_FILE to appear, so that all workers start writing at the same moment.

Actions:
    register-promote RUN_ID: record a register step, register its version, promote it; print the version.
    promote VERSION: promote an already registered version; print it.
    hold-lock: take the writer lock, print ``locked``, then sleep until killed.
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from registry_support import record_register_step

from components.lineage import open_store
from components.registry import ModelRegistry, WriterLock


def slow_clock() -> datetime:
    """The registry reads its clock between reading the state and committing: sleeping here widens the
    window in which another writer can commit first, so races really happen instead of by luck."""
    time.sleep(0.05)
    return datetime.now(UTC)


def main(uri: str, lock: str, go_file: str, action: str, argument: str = "") -> None:
    lock_path = None if lock == "-" else Path(lock)
    if action == "hold-lock":
        assert lock_path is not None
        with WriterLock(lock_path):
            print("locked", flush=True)
            time.sleep(600)
        return
    with open_store(uri) as store:
        registry = ModelRegistry(store, lock_path=lock_path, actor=f"worker-{argument}", clock=slow_clock)
        print("ready", flush=True)
        while not Path(go_file).exists():
            time.sleep(0.005)
        if action == "register-promote":
            version = registry.register(record_register_step(store, argument)).version
            registry.promote(version, reason=f"promoted by {argument}")
        elif action == "promote":
            version = registry.promote(argument, reason="race").version
        else:
            raise SystemExit(f"unknown action {action!r}")
    print(version, flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
