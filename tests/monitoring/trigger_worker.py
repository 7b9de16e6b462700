"""A trigger-ledger or lease user in its own process, for the crash and concurrency tests (run as a script,
never imported).

Usage: ``python trigger_worker.py URI LOCK_DIR GO_FILE ACTION [ARG]``. The worker opens the store,
prints ``ready`` and waits for GO_FILE to appear, so that all workers act at the same moment.

Actions:
    hold: take the model's training lease, print ``held``, then sleep until killed.
    fire: judge a drift trigger on the ledger (two signalling checks are already there) and record the
        verdict; print the outcome.
    train VERSION_RUN: take the lease; when granted, record a register step, register and promote its
        version (what a run's last step does) and print the version; when refused print ``busy``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from components.lineage import open_store
from components.registry import MODEL_VERSION_TYPE, ModelRegistry, version_properties
from components.triggers.kinds import TriggerKind
from components.triggers.lease import TrainingLease
from components.triggers.ledger import TRIGGER, LedgerState, TriggerLedger
from components.triggers.policy import TriggerPolicy, judge
from contracts.errors import TrainingBusyError

MODEL = "flight-delay"


def main(uri: str, lock_dir: str, go_file: str, action: str, argument: str = "") -> None:
    with open_store(uri) as store:
        ledger = TriggerLedger(store, MODEL)
        lease = TrainingLease(ledger, lock_dir=Path(lock_dir), ttl_seconds=3_600.0)
        print("ready", flush=True)
        while not Path(go_file).exists():
            time.sleep(0.005)
        if action == "hold":
            with lease.hold(request_id=f"hold-{argument}", trigger="on-demand"):
                print("held", flush=True)
                time.sleep(600)
        elif action == "fire":
            outcome: list[str] = []

            def plan(state: LedgerState) -> list[tuple[str, dict[str, Any]]]:
                holder = lease.live_holder(state)
                verdict = judge(
                    TriggerKind.DRIFT,
                    state,
                    TriggerPolicy(),
                    now=time.time(),
                    version="v1",
                    lease_holder=holder.describe() if holder else None,
                )
                outcome.append(verdict.outcome)
                return [
                    (
                        TRIGGER,
                        {
                            "kind": "drift",
                            "outcome": verdict.outcome,
                            "reason": verdict.reason,
                            "request_id": argument if verdict.fired else "",
                        },
                    )
                ]

            ledger.write(plan)
            print(outcome[-1], flush=True)
        elif action == "train":
            try:
                with lease.hold(request_id=argument, trigger="drift"):
                    time.sleep(0.3)  # others arrive while this one trains
                    with store.execution(
                        run_id=argument, pipeline="p", component="register", version="x"
                    ) as step:
                        properties = version_properties(metrics={"auc": 0.7}, blessed=True, checks=[])
                        step.add_output(
                            "model_version", MODEL_VERSION_TYPE, uri=f"/m/{argument}", properties=properties
                        )
                    registry = ModelRegistry(
                        store, lock_path=Path(lock_dir) / "registry.lock", actor=argument
                    )
                    version = registry.register(step.record.outputs[0].id).version
                    registry.promote(version, reason=f"trained by {argument}")
                    print(version, flush=True)
            except TrainingBusyError:
                print("busy", flush=True)
        else:
            raise SystemExit(f"unknown action {action!r}")


if __name__ == "__main__":
    main(*sys.argv[1:])
