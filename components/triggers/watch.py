"""The watcher: on each tick, looks at every enabled trigger and starts at most one retraining run.

A tick, in order: notes the end of the run it started, if that run ended; records batches that landed in
the watched folder (and fires ``new-data`` when that trigger is on); fires ``schedule`` when its period
has passed; checks production (``components.monitoring``), records the check, writes the report and the
metrics, and fires ``degradation`` or ``drift`` when the policy lets the signal through. Every decision,
fired or suppressed, goes into the trigger ledger with its reason before anything is started.

``mlops watch`` calls ``tick`` in a loop; ``mlops monitor check`` calls it once (a cluster CronJob); the
demonstration drives it at each replayed month's end.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tensorflow_metadata.proto.v0 import schema_pb2

from components.lineage import LineageStore
from components.monitoring.config import MonitorConfig
from components.monitoring.feedback import read_feedback
from components.monitoring.monitor import MonitorResult, check_production
from components.monitoring.prometheus import combine, monitor_families, trigger_families, write_textfile
from components.monitoring.reference import ModelReference, load_reference
from components.monitoring.report import write_report
from components.monitoring.served import read_served
from components.registry import ModelRegistry
from components.triggers.escalation import (
    Escalation,
    escalate,
    unrecovered_degradation,
    write_escalation_report,
)
from components.triggers.inbox import LandedBatch, find_new_batches
from components.triggers.kinds import TriggerKind
from components.triggers.launch import Launcher, RetrainRequest, RunHandle, RunOutcome
from components.triggers.lease import TrainingLease
from components.triggers.ledger import (
    CHECK,
    FIRED,
    NEW_DATA,
    TRIGGER,
    LedgerEntry,
    LedgerState,
    as_json,
)
from components.triggers.policy import TriggerPolicy, judge
from components.triggers.window import DEFAULT_AS_OF, DataWindow, data_window, newest_landed_month
from components.validation.config import Thresholds
from contracts.errors import MonitoringError, TrainingBusyError


@dataclass(frozen=True)
class WatchPlan:
    """Which triggers the watcher looks at, and where.

    Attributes:
        model: The registered model.
        requests_dir: The model server's request log folder.
        feedback_dir: Stored feedback (``mlops monitor feedback``).
        monitor: Whether to check production (drift and degradation triggers).
        inbox: A folder batch files land in; None watches none.
        retrain_on_new_data: Whether a landed batch starts a run (else it is only recorded, and moves the
            newest month retraining windows end at).
        schedule_seconds: The schedule trigger's period; None for no schedule.
        reports_dir: Where each check's report goes (``latest/`` and one folder per check); None for none.
        metrics_file: A Prometheus textfile rewritten after each check; None for none.
        promotion: ``production`` or ``blessed`` (leave the candidate to a rollout).
        as_of: The newest month of data, when no batch has landed (default: July, the default loop's).
        params: Further pipeline arguments of every run (``epochs``, ...).
    """

    model: str
    requests_dir: Path
    feedback_dir: Path
    monitor: bool = True
    inbox: Path | None = None
    retrain_on_new_data: bool = False
    schedule_seconds: float | None = None
    reports_dir: Path | None = None
    metrics_file: Path | None = None
    promotion: str = "production"
    as_of: int | None = None
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Event:
    """Something the watcher saw or did, for its caller's timeline."""

    time: float
    kind: str  # check, trigger, run-started, run-ended, new-data
    message: str
    data: dict[str, Any] = field(default_factory=dict)


class Watcher:
    """Looks at the triggers of one model and starts its retraining runs.

    Args:
        store: The lineage store (registry and ledger).
        plan: Which triggers, where.
        policy: Debounce, rate limits, lease time and data window.
        launcher: Starts runs (a child process here, a cluster run there).
        lease: The model's training lease (its holder decides whether a run is in progress).
        monitor_config: Window and performance settings.
        thresholds: The pipeline's drift and skew thresholds.
        schema: The curated schema.
        clock: Current Unix time.
        on_event: Called with every event as it happens.
    """

    def __init__(
        self,
        store: LineageStore,
        plan: WatchPlan,
        *,
        policy: TriggerPolicy,
        launcher: Launcher,
        lease: TrainingLease,
        monitor_config: MonitorConfig,
        thresholds: Thresholds,
        schema: schema_pb2.Schema,
        clock: Callable[[], float] = time.time,
        on_event: Callable[[Event], None] = lambda event: None,
    ) -> None:
        self.store = store
        self.plan = plan
        self.policy = policy
        self.launcher = launcher
        self.lease = lease
        self.ledger = lease.ledger
        self.registry = ModelRegistry(store, model_name=plan.model)
        self.monitor_config = monitor_config
        self.thresholds = thresholds
        self.schema = schema
        self.clock = clock
        self.on_event = on_event
        self.running: RunHandle | None = None
        self.last_result: MonitorResult | None = None
        self.started_at = clock()
        self._references: dict[str, ModelReference] = {}

    # One tick --------------------------------------------------------------------------------------

    def tick(self) -> list[Event]:
        """Looks at every enabled trigger once; starts at most one run. Returns what happened."""
        events: list[Event] = []
        now = self.clock()
        self._finish_run(events)
        wanted: list[tuple[TriggerKind, str, DataWindow | None]] = []
        if self.plan.inbox is not None:
            wanted += self._new_data(now, events)
        if self.plan.schedule_seconds is not None and self._schedule_due(now):
            wanted.append((TriggerKind.SCHEDULE, "", None))
        if self.plan.monitor:
            wanted += self._check(now, events)
        for kind, version, window in wanted:
            if self._decide(kind, version, window, events):
                break
        return events

    def check_only(self) -> MonitorResult | None:
        """Checks production without recording or deciding anything (``mlops monitor check`` without --act)."""
        return self._monitor(self.clock())

    # Runs ------------------------------------------------------------------------------------------

    def poll_run(self) -> list[Event]:
        """Notes the end of the run this watcher started, if it has ended (between ticks)."""
        events: list[Event] = []
        self._finish_run(events)
        return events

    def _finish_run(self, events: list[Event]) -> None:
        if self.running is None:
            return
        outcome = self.running.poll()
        if outcome is None:
            return
        request = self.running.request
        self.running = None
        self._emit(
            events, "run-ended", _ended(request, outcome), request_id=request.request_id, **outcome.__dict__
        )

    def _busy_with(self) -> str | None:
        holder = self.lease.live_holder(self.ledger.state())
        if holder is not None:
            return holder.describe()
        if self.running is not None:
            # Started by this watcher a moment ago: the child may not have taken the lease yet.
            return f"run {self.running.request.request_id} started by this watcher"
        return None

    # Triggers --------------------------------------------------------------------------------------

    def _new_data(self, now: float, events: list[Event]) -> list[tuple[TriggerKind, str, DataWindow | None]]:
        assert self.plan.inbox is not None
        landed = find_new_batches(self.plan.inbox, self.ledger.state().seen_batches(), now=now)
        wanted: list[tuple[TriggerKind, str, DataWindow | None]] = []
        for batch in landed:
            recorded = self.ledger.write(functools.partial(_record_batch, batch=batch))
            if not recorded:
                continue  # another watcher recorded it first
            if batch.error:
                self._emit(events, "new-data", f"unreadable batch {batch.path.name}: {batch.error}")
                continue
            months = ",".join(map(str, batch.months))
            self._emit(
                events, "new-data", f"batch {batch.path.name} landed ({batch.rows} rows, months {months})"
            )
            if self.plan.retrain_on_new_data and batch.months:
                window = data_window(max(batch.months), self.policy.window_months, data_file=str(batch.path))
                wanted.append((TriggerKind.NEW_DATA, "", window))
        return wanted[-1:]  # the newest batch covers the others: one run learns from all of them

    def _schedule_due(self, now: float) -> bool:
        assert self.plan.schedule_seconds is not None
        fired = [e for e in self.ledger.state().fired() if e.text("kind") == TriggerKind.SCHEDULE.value]
        since = fired[-1].time if fired else self.started_at
        return now - since >= self.plan.schedule_seconds

    def _check(self, now: float, events: list[Event]) -> list[tuple[TriggerKind, str, DataWindow | None]]:
        result = self._monitor(now)
        if result is None:
            return []
        summary = result.to_dict()
        report = self.write_outputs(summary, now)
        self.ledger.write(lambda state: _record_check(state, summary, report))
        words = f"{result.version}: {result.status.value}"
        detail = "; ".join(result.reasons[:3]) or "; ".join(result.notes[:1])
        self._emit(
            events,
            "check",
            f"{words} ({detail})" if detail else words,
            **{"status": result.status.value, "signals": [s.value for s in result.signals]},
        )
        # Degradation first: what users feel outranks what the data looks like.
        order = [TriggerKind.DEGRADATION, TriggerKind.DRIFT]
        return [(kind, result.version, None) for kind in order if kind.value in summary["signals"]]

    def _monitor(self, now: float) -> MonitorResult | None:
        production = self.registry.production()
        if production is None:
            return None
        reference = self._references.get(production.version)
        if reference is None:
            reference = load_reference(self.store, self.registry, production.version)
            self._references[production.version] = reference
        try:
            served = read_served(
                self.plan.requests_dir, since=now - self.monitor_config.window.max_age_seconds
            )
            feedback = read_feedback(self.plan.feedback_dir)
        except MonitoringError:
            raise
        self.last_result = check_production(
            served,
            feedback,
            reference,
            config=self.monitor_config,
            thresholds=self.thresholds,
            schema=self.schema,
            now=now,
            model=self.plan.model,
        )
        return self.last_result

    def write_outputs(self, summary: dict[str, Any], now: float) -> str:
        """Writes a check's report (its own folder and ``latest/``) and the metrics file; returns the report."""
        report = ""
        if self.plan.reports_dir is not None:
            stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))
            folder = self.plan.reports_dir / f"{stamp}-{summary['version']}"
            report = str(write_report(summary, folder)["html"])
            write_report(summary, self.plan.reports_dir / "latest")
        if self.plan.metrics_file is not None:
            write_textfile(self.metrics_text(summary), self.plan.metrics_file)
        return report

    def metrics_text(self, summary: dict[str, Any] | None = None) -> str:
        """The Prometheus exposition text of the last check and of the ledger's trigger counts."""
        if summary is None and self.last_result is not None:
            summary = self.last_result.to_dict()
        state = self.ledger.state()
        counts: dict[tuple[str, str], int] = {}
        last_fired: dict[str, float] = {}
        for entry in state.of(TRIGGER):
            key = (entry.text("kind"), entry.text("outcome"))
            counts[key] = counts.get(key, 0) + 1
            if entry.text("outcome") == FIRED:
                last_fired[entry.text("kind")] = entry.time
        training = self.lease.live_holder(state) is not None
        parts = [trigger_families(self.plan.model, counts, last_fired, training)]
        if summary is not None:
            parts.insert(0, monitor_families(summary))
        return combine(parts)

    def _decide(
        self, kind: TriggerKind, version: str, window: DataWindow | None, events: list[Event]
    ) -> bool:
        """Judges one trigger on the ledger as it is, records the verdict, and starts the run if it fired."""
        now = self.clock()
        busy = self._busy_with()
        if window is None:
            window = data_window(self._as_of(), self.policy.window_months)
        request_id = _request_id(kind, now)
        escalation = self._major_change(kind, version, now)
        verdict_holder: dict[str, Any] = {}

        def plan(state: LedgerState) -> list[tuple[str, dict[str, Any]]]:
            verdict = judge(kind, state, self.policy, now=now, version=version, lease_holder=busy)
            verdict_holder["verdict"] = verdict
            record = {
                "kind": kind.value,
                "outcome": verdict.outcome,
                "reason": verdict.reason,
                "version": version,
                "request_id": request_id if verdict.fired else "",
                "window": window.describe(),
                "arguments": as_json(window.pipeline_arguments()),
                "time": now,
            }
            if escalation is not None:
                record.update(escalation=escalation.cause, experiment=escalation.experiment)
            return [(TRIGGER, record)]

        self.ledger.write(plan)
        verdict = verdict_holder["verdict"]
        if not verdict.fired:
            self._emit(
                events,
                "trigger",
                f"{kind.value} suppressed: {verdict.reason}",
                kind=kind.value,
                outcome=verdict.outcome,
            )
            return False
        self._emit(
            events,
            "trigger",
            f"{kind.value} fired: {verdict.reason}",
            kind=kind.value,
            outcome=verdict.outcome,
            request_id=request_id,
        )
        request = RetrainRequest(
            kind=kind,
            request_id=request_id,
            window=window,
            model=self.plan.model,
            promotion=self.plan.promotion,
            params=dict(self.plan.params),
            experiment=escalation.experiment if escalation else "",
            grid=escalation.grid if escalation else (),
        )
        if escalation is not None:
            report = self._report_major_change(escalation, window)
            self._emit(
                events,
                "escalated",
                f"major change: {escalation.cause}; experiment cycle {escalation.experiment} instead of a "
                f"retraining (nothing is promoted by it){f'; report {report}' if report else ''}",
                experiment=escalation.experiment,
                report=report,
            )
        try:
            self.running = self.launcher.start(request)
        except TrainingBusyError as exc:
            self._emit(events, "run-ended", f"{request_id} not started: {exc}", request_id=request_id)
            return True
        self._emit(events, "run-started", f"{request_id} started: {window.describe()}", request_id=request_id)
        return True

    def _major_change(self, kind: TriggerKind, version: str, now: float) -> Escalation | None:
        """The escalation of a degradation that the last retraining did not recover from, if it is one."""
        if kind is not TriggerKind.DEGRADATION:
            return None
        production = self.registry.production()
        if production is None or production.version != version:
            return None
        cause = unrecovered_degradation(self.store, production)
        return None if cause is None else escalate(cause, kind, now)

    def _report_major_change(self, escalation: Escalation, window: DataWindow) -> str:
        if self.plan.reports_dir is None:
            return ""
        evidence = "; ".join(self.last_result.reasons) if self.last_result else ""
        path = self.plan.reports_dir / "major-changes" / f"{escalation.experiment}.md"
        return str(
            write_escalation_report(path, escalation, model=self.plan.model, window=window, evidence=evidence)
        )

    def _as_of(self) -> int:
        landed = newest_landed_month(self.ledger.state())
        return landed or self.plan.as_of or DEFAULT_AS_OF

    def _emit(self, events: list[Event], event_kind: str, message: str, **data: Any) -> None:
        event = Event(time=self.clock(), kind=event_kind, message=message, data=data)
        events.append(event)
        self.on_event(event)


def _request_id(kind: TriggerKind, now: float) -> str:
    import uuid

    return f"{kind.value}-{time.strftime('%Y%m%d-%H%M%S', time.gmtime(now))}-{uuid.uuid4().hex[:6]}"


def _ended(request: RetrainRequest, outcome: RunOutcome) -> str:
    if not outcome.succeeded:
        return f"{request.request_id} failed: {outcome.detail}"
    blessing = "blessed" if outcome.blessed else "not blessed"
    return f"{request.request_id} registered {outcome.version} as {outcome.stage} ({blessing})"


def _record_batch(state: LedgerState, *, batch: LandedBatch) -> list[tuple[str, dict[str, Any]]]:
    if batch.sha256 in state.seen_batches():
        return []
    return [
        (
            NEW_DATA,
            {
                "path": str(batch.path),
                "sha256": batch.sha256,
                "months": as_json(list(batch.months)),
                "rows": batch.rows,
                "error": batch.error,
            },
        )
    ]


def _record_check(
    state: LedgerState, summary: dict[str, Any], report: str
) -> list[tuple[str, dict[str, Any]]]:
    """A check is recorded when it raises a signal, or when it ends a run of signalling checks (which the
    debounce must see); steady healthy checks are counted in the metrics, not stored one by one."""
    previous: LedgerEntry | None = state.last(CHECK)
    signalled_before = previous is not None and bool(previous.text("signals"))
    if not summary["signals"] and not signalled_before:
        return []
    return [
        (
            CHECK,
            {
                "version": summary["version"],
                "status": summary["status"],
                "signals": ",".join(summary["signals"]),
                "reasons": as_json(summary["reasons"]),
                "window_rows": summary["window"]["rows"],
                "labelled_rows": summary["window"]["labelled_rows"],
                "report": report,
                "time": summary["checked_at"],
            },
        )
    ]
