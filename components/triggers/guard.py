"""Runs started by a person: recorded in the trigger ledger as fired triggers, and never two at once.

``mlops run``, ``mlops retrain`` and ``mlops experiment run`` start training outside any watcher; these
helpers give such a run the same record and the same one-at-a-time lease a watcher's run gets.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from components.lineage import open_store
from components.settings import ProjectSettings
from components.triggers.kinds import TriggerKind, parse_kind
from components.triggers.lease import TrainingLease
from components.triggers.ledger import TRIGGER, TriggerLedger, as_json
from components.triggers.policy import load_policy
from contracts.errors import TriggerError

# Under the state folder: the file locks of the training lease.
LOCKS_DIR = "locks"


def record_request(
    ledger: TriggerLedger, kind: TriggerKind, request_id: str, window: str, arguments: str
) -> None:
    """Records a person's request as a fired trigger; a watcher's was recorded when it fired."""

    def plan(state: Any) -> list[tuple[str, dict[str, Any]]]:
        if any(e.text("request_id") == request_id for e in state.of(TRIGGER)):
            return []
        return [
            (
                TRIGGER,
                {
                    "kind": kind.value,
                    "outcome": "fired",
                    "reason": "asked for on the command line",
                    "version": "",
                    "request_id": request_id,
                    "window": window,
                    "arguments": arguments,
                },
            )
        ]

    ledger.write(plan)


@contextlib.contextmanager
def training_guard(settings: ProjectSettings, *, model: str, trigger: str, request_id: str) -> Iterator[None]:
    """Records a run started from the command line as a fired trigger and holds the model's training lease.

    ``mlops run`` wraps its run in this, so an on-demand run is recorded as the reason its run started and
    never overlaps another training run of the model.

    Raises:
        TrainingBusyError: when another training run of the model is in progress.
    """
    try:
        kind = parse_kind(trigger)
    except TriggerError:
        kind = TriggerKind.ON_DEMAND  # a label of the caller's own ("deploy", ...): a person's request
    policy = load_policy()
    with open_store(settings.metadata_uri) as store:
        ledger = TriggerLedger(store, model)
        record_request(ledger, kind, request_id, f"the command line's data ({trigger})", as_json({}))
        lease = TrainingLease(
            ledger, lock_dir=settings.state_dir / LOCKS_DIR, ttl_seconds=policy.lease_ttl_seconds
        )
        with lease.hold(request_id=request_id, trigger=trigger):
            yield
