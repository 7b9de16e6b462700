"""Concurrent triggers in real processes: one run starts, the registry and the lineage store stay whole."""

from __future__ import annotations

from pathlib import Path

from trigger_processes import release_and_collect, start_workers

from components.lineage import open_store
from components.registry import ModelRegistry, Stage
from components.triggers.ledger import ACQUIRED, CHECK, LEASE, RELEASED, TRIGGER, TriggerLedger


def test_processes_seeing_the_same_drift_start_exactly_one_run(tmp_path: Path) -> None:
    with open_store(f"sqlite:///{tmp_path}/metadata.sqlite") as store:
        ledger = TriggerLedger(store, "flight-delay")
        for _ in range(2):
            ledger.write(lambda state: [(CHECK, {"version": "v1", "signals": "drift", "reasons": "[]"})])

    outcomes = release_and_collect(tmp_path, start_workers(tmp_path, [("fire", f"w{i}") for i in range(6)]))

    assert sorted(outcomes) == ["fired"] + ["suppressed"] * 5
    with open_store(f"sqlite:///{tmp_path}/metadata.sqlite") as store:
        entries = TriggerLedger(store, "flight-delay").state().entries
    assert [e.sequence for e in entries] == list(range(1, 9))
    decisions = [e for e in entries if e.entry == TRIGGER]
    assert decisions[0].text("outcome") == "fired"
    # The others judged a ledger where the run had already started: its signals were spent.
    assert all(d.text("reason").startswith("debounce: drift raised by 0") for d in decisions[1:])


def test_training_processes_racing_for_the_lease_never_overlap_or_corrupt_the_registry(
    tmp_path: Path,
) -> None:
    first = release_and_collect(
        tmp_path, start_workers(tmp_path, [("train", f"a{i}") for i in range(4)], "go-1"), "go-1"
    )
    second = release_and_collect(
        tmp_path, start_workers(tmp_path, [("train", f"b{i}") for i in range(4)], "go-2"), "go-2"
    )

    assert sorted(first) == ["busy"] * 3 + ["v1"]
    assert sorted(second) == ["busy"] * 3 + ["v2"]
    with open_store(f"sqlite:///{tmp_path}/metadata.sqlite") as store:
        registry = ModelRegistry(store)
        assert [(v.version, v.stage) for v in registry.list_versions()] == [
            ("v1", Stage.ARCHIVED),
            ("v2", Stage.PRODUCTION),
        ]
        assert [t.sequence for t in registry.transitions()] == list(range(1, len(registry.transitions()) + 1))
        leases = [
            (e.text("event"), e.text("request_id"))
            for e in TriggerLedger(store, "flight-delay").state().of(LEASE)
        ]
    # Grants and releases alternate: no lease was ever granted while another was open.
    assert [event for event, _ in leases] == [ACQUIRED, RELEASED, ACQUIRED, RELEASED]
    assert leases[0][1] == leases[1][1] and leases[2][1] == leases[3][1]
