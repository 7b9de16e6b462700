"""Every trigger kind through the watcher, each starting a real ``mlops retrain`` process that takes the
model's training lease under the trigger's name; the runs are stopped once they hold it (a whole
training run is what ``make demo`` shows)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np
from monitor_support import TRAIN_MONTHS, delay_model, register_production, sample, write_served
from watch_support import settings_for, stop_once_leased, watcher_for

from components.ingest.batch_io import write_batch
from components.lineage import open_store
from components.monitoring.feedback import Feedback, store_feedback
from components.triggers.kinds import TriggerKind
from components.triggers.launch import LocalLauncher, LocalRun, RetrainRequest
from components.triggers.ledger import FIRED, NEW_DATA, TRIGGER, TriggerLedger
from components.triggers.policy import TriggerPolicy
from components.triggers.watch import WatchPlan
from components.triggers.window import data_window
from contracts.data_contract import LABEL


def plan_for(state: Path, **changes: object) -> WatchPlan:
    return WatchPlan(
        model="flight-delay",
        requests_dir=state / "requests",
        feedback_dir=state / "feedback",
        reports_dir=state / "reports",
        metrics_file=state / "metrics.prom",
        **changes,  # type: ignore[arg-type]
    )


def serve_window(state: Path, *, drifted: bool, seed: int, shuffle_labels: bool = False) -> None:
    """1,500 flights answered by the production model (v1) and their outcomes fed back. Drifted: flights
    from one airport only, a shift the model (hour and carrier) does not feel in its accuracy."""
    flights = sample(TRAIN_MONTHS, 6_000, seed=seed)
    flights = flights[flights["origin"] == "EWR"] if drifted else flights
    flights = flights.head(1_500).reset_index(drop=True)
    ids = write_served(
        state / "requests", flights, delay_model().predict(flights), version="v1", prefix=f"s{seed}"
    )
    labels = flights[LABEL].to_numpy()
    if shuffle_labels:
        labels = np.random.default_rng(seed).permutation(labels)
    store_feedback(state / "feedback", [Feedback(i, 0, int(y)) for i, y in zip(ids, labels, strict=True)])


def test_every_trigger_kind_starts_a_guarded_run_that_records_why(tmp_path: Path) -> None:
    started: dict[str, tuple[LocalRun, Path]] = {}
    for kind in TriggerKind:
        state = tmp_path / kind.value
        settings = settings_for(state)
        with open_store(settings.metadata_uri) as store:
            if kind in (TriggerKind.DRIFT, TriggerKind.DEGRADATION):
                register_production(
                    store,
                    state,
                    training=sample(TRAIN_MONTHS, 20_000, seed=1),
                    metrics=delay_model().metrics(sample(TRAIN_MONTHS, 3_000, seed=99)),
                )
            if kind is TriggerKind.ON_DEMAND:
                # A person's `mlops retrain`: the process records its own trigger.
                request = RetrainRequest(TriggerKind.ON_DEMAND, "on-demand-test", data_window(7, 1))
                started[kind.value] = (LocalLauncher(settings).start(request), state)
                continue
            if kind is TriggerKind.SCHEDULE:
                watcher = watcher_for(store, settings, plan_for(state, monitor=False, schedule_seconds=0.2))
                time.sleep(0.3)
                events = watcher.tick()
            elif kind is TriggerKind.NEW_DATA:
                inbox = state / "inbox"
                batch = write_batch(sample((8,), 500, seed=3), inbox / "2013-08.parquet")
                os.utime(batch, (time.time() - 60, time.time() - 60))  # landed a minute ago: settled
                watcher = watcher_for(
                    store, settings, plan_for(state, monitor=False, inbox=inbox, retrain_on_new_data=True)
                )
                events = watcher.tick()
                assert watcher.tick() == []  # the same batch is never new twice
            else:
                drift = kind is TriggerKind.DRIFT
                serve_window(state, drifted=drift, seed=4, shuffle_labels=not drift)
                watcher = watcher_for(store, settings, plan_for(state))
                first = watcher.tick()
                assert [e.message for e in first if e.kind == "trigger"] == [
                    f"{kind.value} suppressed: debounce: {kind.value} raised by 1 of 2 consecutive checks"
                ]
                events = watcher.tick()
            assert any(e.kind == "run-started" for e in events), [e.message for e in events]
            assert watcher.running is not None
            started[kind.value] = (watcher.running, state)  # type: ignore[assignment]

    for kind, (run, state) in started.items():
        with open_store(settings_for(state).metadata_uri) as store:
            ledger = TriggerLedger(store, "flight-delay")
            lease = stop_once_leased(run, ledger)
            assert lease["trigger"] == kind
            assert lease["request_id"] == run.request.request_id
            assert json.loads(lease["holder"])["pid"] == run.pid
            fired = [e for e in ledger.state().of(TRIGGER) if e.text("outcome") == FIRED]
            assert [(e.text("kind"), e.text("request_id")) for e in fired] == [(kind, run.request.request_id)]
            if kind == TriggerKind.NEW_DATA.value:
                [landed] = ledger.state().of(NEW_DATA)
                assert landed.loaded("months") == [8] and landed.number("rows") == 500
                arguments = json.loads(fired[0].text("arguments"))
                assert arguments["data_file"].endswith("2013-08.parquet") and arguments["eval_month"] == 8
                assert arguments["train_months"] == [2, 3, 4, 5, 6, 7]
            if kind in (TriggerKind.DRIFT.value, TriggerKind.DEGRADATION.value):
                assert f"{kind} of v1 in 2 consecutive checks" in fired[0].text("reason")
                assert (state / "reports" / "latest" / "report.html").is_file()
                assert "flight_delay_monitor_signal" in (state / "metrics.prom").read_text()


def test_a_run_in_progress_suppresses_the_next_trigger_and_its_end_is_noted(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    with open_store(settings.metadata_uri) as store:
        policy = TriggerPolicy(cooldown_seconds=0.0, max_runs_per_day=100)
        watcher = watcher_for(
            store, settings, plan_for(tmp_path, monitor=False, schedule_seconds=0.05), policy=policy
        )
        time.sleep(0.1)
        assert any(e.kind == "run-started" for e in watcher.tick())
        run = watcher.running
        assert isinstance(run, LocalRun)
        time.sleep(0.1)
        suppressed = [e.message for e in watcher.tick() if e.kind == "trigger"]
        assert suppressed and "is in progress" in suppressed[0]
        stop_once_leased(run, watcher.ledger)
        ended = watcher.poll_run()
        assert [e.kind for e in ended] == ["run-ended"] and "failed" in ended[0].message
        assert watcher.running is None
