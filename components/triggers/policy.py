"""Whether a trigger may start a training run now: debounce, rate limits and the training lease.

``judge`` is pure: it reads a ``LedgerState`` and returns a verdict with its reason; ``TriggerLedger``
commits the verdict on exactly the state it was judged on, so concurrent deciders cannot both fire.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from components.toml_config import load_toml, table_fields
from components.triggers.kinds import TriggerKind
from components.triggers.ledger import CHECK, FIRED, SUPPRESSED, TRIGGER, LedgerEntry, LedgerState
from contracts.errors import ConfigError

POLICY_PATH = Path(__file__).with_name("policy.toml")
DAY_SECONDS = 86_400.0


@dataclass(frozen=True)
class TriggerPolicy:
    """Everything ``policy.toml`` holds (see the file for what each value means).

    Attributes:
        debounce_checks: Consecutive checks a drift or degradation signal needs.
        debounce_seconds: The least time those checks must span.
        cooldown_seconds: The least time between two automatic runs.
        max_runs_per_day: Automatic runs in any 24 hours, at most.
        lease_ttl_seconds: How long a lease lasts unless released.
        window_months: Months a retraining run learns from.
    """

    debounce_checks: int = 2
    debounce_seconds: float = 0.0
    cooldown_seconds: float = 21_600.0
    max_runs_per_day: int = 3
    lease_ttl_seconds: float = 10_800.0
    window_months: int = 6

    def __post_init__(self) -> None:
        if self.debounce_checks < 1 or self.max_runs_per_day < 1 or not 1 <= self.window_months <= 11:
            raise ConfigError(
                "policy needs debounce.checks >= 1, rate_limit.max_runs_per_day >= 1 and window.months in 1-11"
            )
        if min(self.debounce_seconds, self.cooldown_seconds) < 0 or self.lease_ttl_seconds <= 0:
            raise ConfigError("policy times must be >= 0 (lease.ttl_seconds > 0)")


_KEYS = {
    "debounce": {"checks": "debounce_checks", "min_seconds": "debounce_seconds"},
    "rate_limit": {"cooldown_seconds": "cooldown_seconds", "max_runs_per_day": "max_runs_per_day"},
    "lease": {"ttl_seconds": "lease_ttl_seconds"},
    "window": {"months": "window_months"},
}


def _policy(document: dict[str, Any]) -> TriggerPolicy:
    values: dict[str, Any] = {}
    for table, keys in _KEYS.items():
        values |= table_fields(document, table, TriggerPolicy, keys=keys)
    return TriggerPolicy(**values)


def load_policy(path: Path = POLICY_PATH) -> TriggerPolicy:
    """Reads and checks the trigger policy.

    Raises:
        ConfigError: when the file is missing, not TOML, or a value is missing, unknown or of a wrong type.
    """
    return load_toml(path, _policy, what="the trigger policy", tables=_KEYS)


@dataclass(frozen=True)
class Verdict:
    """What a trigger may do now, and why."""

    outcome: str  # FIRED or SUPPRESSED
    reason: str

    @property
    def fired(self) -> bool:
        return self.outcome == FIRED


def signal_streak(state: LedgerState, kind: TriggerKind, version: str) -> list[LedgerEntry]:
    """The newest run of consecutive checks of ``version`` that raised ``kind``, oldest first.

    The run ends (going back in time) at a check that did not raise it, a check of another version, or a
    fired trigger: signals seen before a run started are that run's, not the next one's.
    """
    streak: list[LedgerEntry] = []
    for entry in reversed(state.entries):
        if entry.entry == TRIGGER and entry.text("outcome") == FIRED:
            break
        if entry.entry != CHECK:
            continue
        if entry.text("version") != version or kind.value not in entry.text("signals").split(","):
            break
        streak.append(entry)
    return list(reversed(streak))


def judge(
    kind: TriggerKind,
    state: LedgerState,
    policy: TriggerPolicy,
    *,
    now: float,
    version: str = "",
    lease_holder: str | None = None,
) -> Verdict:
    """Decides whether a trigger of ``kind`` starts a run now.

    Args:
        kind: The trigger.
        state: The model's ledger, the check that raised a debounced signal already in it.
        policy: Debounce and rate limits.
        now: Unix time of the decision.
        version: The production version the signal is about (debounced kinds).
        lease_holder: Who holds the model's training lease, when a live holder does.
    """
    if lease_holder is not None:
        return Verdict(SUPPRESSED, f"a training run of {state.model} is in progress ({lease_holder})")
    if kind.debounced:
        streak = signal_streak(state, kind, version)
        if len(streak) < policy.debounce_checks:
            return Verdict(
                SUPPRESSED,
                f"debounce: {kind.value} raised by {len(streak)} of {policy.debounce_checks} consecutive checks",
            )
        span = streak[-1].time - streak[0].time
        if span < policy.debounce_seconds:
            return Verdict(
                SUPPRESSED,
                f"debounce: {kind.value} persisted {span:.0f} s of {policy.debounce_seconds:.0f} s",
            )
    if kind.automatic:
        automatic = [e for e in state.fired() if e.text("kind") != TriggerKind.ON_DEMAND.value]
        if automatic and now - automatic[-1].time < policy.cooldown_seconds:
            last = automatic[-1]
            return Verdict(
                SUPPRESSED,
                f"rate limit: the last automatic run ({last.text('kind')}, {last.text('request_id')}) started "
                f"{now - last.time:.0f} s ago; cooldown {policy.cooldown_seconds:.0f} s",
            )
        today = [e for e in automatic if now - e.time < DAY_SECONDS]
        if len(today) >= policy.max_runs_per_day:
            return Verdict(
                SUPPRESSED,
                f"rate limit: {len(today)} automatic runs in the last 24 h (at most {policy.max_runs_per_day})",
            )
    return Verdict(FIRED, _fired_reason(kind, state, version))


def _fired_reason(kind: TriggerKind, state: LedgerState, version: str) -> str:
    if kind.debounced:
        streak = signal_streak(state, kind, version)
        reasons = streak[-1].loaded("reasons") or []
        return f"{kind.value} of {version} in {len(streak)} consecutive checks: " + "; ".join(reasons[:4])
    return {
        TriggerKind.ON_DEMAND: "asked for",
        TriggerKind.SCHEDULE: "scheduled",
        TriggerKind.NEW_DATA: "a new batch landed",
    }[kind]
