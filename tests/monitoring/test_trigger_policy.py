"""Debounce, rate limits and the lease, decided on a real trigger ledger (ML Metadata on SQLite)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from components.lineage import open_store
from components.triggers.kinds import TriggerKind, parse_kind
from components.triggers.ledger import CHECK, FIRED, SUPPRESSED, TRIGGER, LedgerState, TriggerLedger
from components.triggers.policy import POLICY_PATH, TriggerPolicy, Verdict, judge, load_policy
from contracts.errors import ConfigError

POLICY = TriggerPolicy(debounce_checks=2, cooldown_seconds=3_600.0, max_runs_per_day=3)


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def ledger(tmp_path: Path, clock: Clock) -> Iterator[TriggerLedger]:
    with open_store(f"sqlite:///{tmp_path}/metadata.sqlite") as store:
        yield TriggerLedger(store, "flight-delay", clock=clock)


def check(ledger: TriggerLedger, signals: str, version: str = "v1") -> None:
    ledger.write(
        lambda state: [
            (CHECK, {"version": version, "signals": signals, "reasons": '["drift of temp: 0.6 > 0.45"]'})
        ]
    )


def decide(
    ledger: TriggerLedger,
    kind: TriggerKind,
    *,
    policy: TriggerPolicy = POLICY,
    holder: str | None = None,
    version: str = "v1",
) -> Verdict:
    """Judges and records a decision in one commit, as the watcher does."""
    verdicts: list[Verdict] = []

    def plan(state: LedgerState) -> list[tuple[str, dict[str, Any]]]:
        verdict = judge(kind, state, policy, now=ledger.clock(), version=version, lease_holder=holder)
        verdicts.append(verdict)
        return [
            (
                TRIGGER,
                {"kind": kind.value, "outcome": verdict.outcome, "reason": verdict.reason, "request_id": "r"},
            )
        ]

    ledger.write(plan)
    return verdicts[-1]


def test_a_drift_signal_fires_only_after_consecutive_checks(ledger: TriggerLedger, clock: Clock) -> None:
    check(ledger, "drift")
    first = decide(ledger, TriggerKind.DRIFT)
    clock.now += 60
    check(ledger, "drift")
    second = decide(ledger, TriggerKind.DRIFT)

    assert (
        first.outcome == SUPPRESSED and first.reason == "debounce: drift raised by 1 of 2 consecutive checks"
    )
    assert second.fired and "drift of v1 in 2 consecutive checks: drift of temp" in second.reason


def test_a_healthy_check_or_another_version_starts_the_count_again(ledger: TriggerLedger) -> None:
    check(ledger, "drift")
    check(ledger, "")
    check(ledger, "drift")
    assert not decide(ledger, TriggerKind.DRIFT).fired
    check(ledger, "drift", version="v2")
    assert "1 of 2" in decide(ledger, TriggerKind.DRIFT, version="v2").reason  # v1's checks do not count
    check(ledger, "degradation")
    assert not decide(ledger, TriggerKind.DRIFT).fired  # a check without drift ends drift's run


def test_debounce_can_also_require_time(ledger: TriggerLedger, clock: Clock) -> None:
    policy = TriggerPolicy(debounce_checks=2, debounce_seconds=600.0)
    check(ledger, "drift")
    clock.now += 60
    check(ledger, "drift")
    assert (
        decide(ledger, TriggerKind.DRIFT, policy=policy).reason == "debounce: drift persisted 60 s of 600 s"
    )


def test_automatic_runs_wait_out_the_cooldown_and_the_daily_cap(ledger: TriggerLedger, clock: Clock) -> None:
    assert decide(ledger, TriggerKind.SCHEDULE).fired
    clock.now += 600
    refused = decide(ledger, TriggerKind.NEW_DATA)
    assert refused.outcome == SUPPRESSED and refused.reason.startswith(
        "rate limit: the last automatic run (schedule"
    )
    clock.now += 3_600
    assert decide(ledger, TriggerKind.NEW_DATA).fired
    clock.now += 3_600
    assert decide(ledger, TriggerKind.SCHEDULE).fired
    clock.now += 3_600
    capped = decide(ledger, TriggerKind.SCHEDULE)
    assert capped.reason == "rate limit: 3 automatic runs in the last 24 h (at most 3)"
    clock.now += 86_400
    assert decide(ledger, TriggerKind.SCHEDULE).fired


def test_a_person_is_not_rate_limited_but_nobody_passes_a_running_training(ledger: TriggerLedger) -> None:
    assert decide(ledger, TriggerKind.SCHEDULE).fired
    assert decide(ledger, TriggerKind.ON_DEMAND).fired
    busy = decide(ledger, TriggerKind.ON_DEMAND, holder="pid 42 on host")
    assert (
        busy.outcome == SUPPRESSED
        and busy.reason == "a training run of flight-delay is in progress (pid 42 on host)"
    )


def test_a_flapping_signal_never_storms(ledger: TriggerLedger, clock: Clock) -> None:
    # A day of checks every 15 minutes with drift on every other check, then a day of steady drift.
    fired: list[tuple[int, float]] = []
    for index in range(192):
        clock.now += 900
        flapping = index < 96
        check(ledger, "drift" if not flapping or index % 2 == 0 else "")
        if decide(ledger, TriggerKind.DRIFT).fired:
            fired.append((index, clock.now))
    assert [i for i, _ in fired if i < 96] == []  # while it flaps, no two checks agree
    assert 1 <= len(fired) <= POLICY.max_runs_per_day  # a steady day: the daily cap holds
    gaps = [later - earlier for (_, earlier), (_, later) in itertools.pairwise(fired)]
    assert all(gap >= POLICY.cooldown_seconds for gap in gaps)


def test_the_policy_file_is_checked(tmp_path: Path) -> None:
    assert load_policy() == load_policy(POLICY_PATH)
    broken = tmp_path / "policy.toml"
    broken.write_text(POLICY_PATH.read_text().replace("checks = 2", "checks = true"))
    with pytest.raises(ConfigError, match=r"\[debounce\] checks must be an integer"):
        load_policy(broken)
    broken.write_text(POLICY_PATH.read_text().replace("[window]", "[windows]"))
    with pytest.raises(ConfigError, match="expected tables"):
        load_policy(broken)
    broken.write_text(POLICY_PATH.read_text().replace("ttl_seconds = 10800.0", "ttl_seconds = nan"))
    with pytest.raises(ConfigError, match=r"\[lease\] ttl_seconds must be a finite number") as raised:
        load_policy(broken)
    assert str(raised.value).startswith(f"{broken}: ")
    broken.write_text(POLICY_PATH.read_text().replace("months = 6", "month = 6"))
    with pytest.raises(ConfigError, match=r"\[window\]: unknown keys \['month'\], missing keys \['months'\]"):
        load_policy(broken)
    with pytest.raises(ConfigError):
        TriggerPolicy(debounce_checks=0)


def test_trigger_names_are_the_five_kinds() -> None:
    assert [k.value for k in TriggerKind] == ["on-demand", "schedule", "new-data", "degradation", "drift"]
    assert parse_kind("drift") is TriggerKind.DRIFT
    with pytest.raises(Exception, match="the triggers are on-demand, schedule"):
        parse_kind("whim")


def test_ledger_entries_are_numbered_without_gaps(ledger: TriggerLedger) -> None:
    check(ledger, "drift")
    decide(ledger, TriggerKind.DRIFT)
    entries = ledger.state().entries
    assert [e.sequence for e in entries] == [1, 2]
    assert [e.entry for e in entries] == [CHECK, TRIGGER]
    assert entries[1].text("outcome") in (FIRED, SUPPRESSED)
