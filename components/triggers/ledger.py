"""The trigger ledger: monitor checks, trigger decisions, training leases and landed batches of a model,
kept in the lineage store as one numbered sequence of entries.

Every entry is an action of type ``TriggerLedgerEntry`` in the model's ``TriggerLog`` context, named
``<model>#<sequence>``. ML Metadata keeps names unique per type, so of two writers that read the same
ledger and decide something, only the first commits; the other's commit is refused whole and it reads
again and decides again (the model registry's technique). Decisions are therefore taken on the whole
history as it is, across processes and machines, on SQLite, MySQL or an MLMD server alike: two watchers
seeing the same drift cannot both start a run, and a lease is never granted twice.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from components.lineage import ActionSpec, LineageStore, PropertyValue
from contracts.errors import LineageError

CONTEXT_TYPE = "TriggerLog"
ENTRY_TYPE = "TriggerLedgerEntry"

CHECK = "check"
TRIGGER = "trigger"
LEASE = "lease"
NEW_DATA = "new-data"

FIRED = "fired"
SUPPRESSED = "suppressed"

ACQUIRED = "acquired"
RELEASED = "released"
EXPIRED = "expired"

_MAX_ATTEMPTS = 50
_RETRY_SECONDS = 0.01


@dataclass(frozen=True)
class LedgerEntry:
    """One entry as stored.

    Attributes:
        sequence: Its place in the model's ledger, from 1.
        entry: ``check``, ``trigger``, ``lease`` or ``new-data``.
        time: Unix seconds when it was decided.
        properties: Its facts (see the writers for each kind's keys).
    """

    sequence: int
    entry: str
    time: float
    properties: Mapping[str, PropertyValue]

    def text(self, key: str) -> str:
        return str(self.properties.get(key, ""))

    def number(self, key: str) -> float:
        value = self.properties.get(key, 0.0)
        return float(value) if isinstance(value, int | float) else 0.0

    def loaded(self, key: str) -> Any:
        """A property stored as JSON, decoded (None when absent)."""
        raw = self.properties.get(key)
        return json.loads(raw) if isinstance(raw, str) and raw else None

    def to_dict(self) -> dict[str, Any]:
        return {"sequence": self.sequence, "entry": self.entry, "time": self.time, **self.properties}


@dataclass(frozen=True)
class LedgerState:
    """A model's ledger as one reader saw it, oldest entry first."""

    model: str
    entries: tuple[LedgerEntry, ...]

    @property
    def sequence(self) -> int:
        return self.entries[-1].sequence if self.entries else 0

    def of(self, entry: str) -> list[LedgerEntry]:
        return [e for e in self.entries if e.entry == entry]

    def last(self, entry: str) -> LedgerEntry | None:
        found = self.of(entry)
        return found[-1] if found else None

    def open_lease(self) -> LedgerEntry | None:
        """The last lease entry when it grants the lease (``acquired``), else None."""
        lease = self.last(LEASE)
        return lease if lease is not None and lease.text("event") == ACQUIRED else None

    def fired(self) -> list[LedgerEntry]:
        return [e for e in self.of(TRIGGER) if e.text("outcome") == FIRED]

    def seen_batches(self) -> set[str]:
        """Content hashes of every batch file already recorded as landed."""
        return {e.text("sha256") for e in self.of(NEW_DATA)}


class TriggerLedger:
    """Reads and appends a model's ledger entries in the lineage store.

    Args:
        store: An open lineage store.
        model: The registered model.
        clock: Current Unix time; tests may pass their own.
    """

    def __init__(self, store: LineageStore, model: str, *, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.model = model
        self.clock = clock

    def state(self) -> LedgerState:
        """Every entry of the model's ledger, oldest first."""
        context = self.store.find_context(CONTEXT_TYPE, self.model)
        if context is None:
            return LedgerState(self.model, ())
        actions = self.store.actions_of_context(context.id, ENTRY_TYPE)
        entries = sorted((_entry(a.properties) for a in actions), key=lambda e: e.sequence)
        return LedgerState(self.model, tuple(entries))

    def write(
        self, plan: Callable[[LedgerState], Sequence[tuple[str, Mapping[str, PropertyValue]]]]
    ) -> list[LedgerEntry]:
        """Reads the ledger, asks ``plan`` what to append, and commits it; again if another writer won.

        Args:
            plan: Given the ledger as it is, returns the entries to append as ``(entry, properties)``;
                it may raise to refuse (nothing is written), or return nothing.

        Returns:
            The entries appended (empty when the plan appended nothing).

        Raises:
            LineageError: when other writers kept committing first for every attempt.
        """
        context = self.store.ensure_context(CONTEXT_TYPE, self.model)
        for attempt in range(_MAX_ATTEMPTS):
            state = self.state()
            planned = list(plan(state))
            if not planned:
                return []
            now = self.clock()
            specs = [
                ActionSpec(
                    type=ENTRY_TYPE,
                    # The name is the concurrency token: a second commit of this number fails whole.
                    name=f"{self.model}#{state.sequence + offset}",
                    properties={
                        **properties,
                        "entry": entry,
                        "sequence": state.sequence + offset,
                        "time": float(properties.get("time", now)),
                        "model": self.model,
                    },
                )
                for offset, (entry, properties) in enumerate(planned, start=1)
            ]
            if self.store.commit_actions(context.id, specs) is not None:
                return [_entry(spec.properties) for spec in specs]
            time.sleep(_RETRY_SECONDS * (1 + attempt) * random.random())
        raise LineageError(
            f"gave up after {_MAX_ATTEMPTS} attempts: other writers of the trigger ledger of {self.model!r} "
            "kept committing first"
        )


def _entry(properties: Mapping[str, PropertyValue]) -> LedgerEntry:
    own = ("sequence", "entry", "time")
    return LedgerEntry(
        sequence=int(properties["sequence"]),
        entry=str(properties["entry"]),
        time=float(properties["time"]),
        properties={k: v for k, v in properties.items() if k not in own},
    )


def as_json(value: Any) -> str:
    """A value stored in a ledger property as compact JSON."""
    return json.dumps(value, separators=(",", ":"), sort_keys=True, default=str)
