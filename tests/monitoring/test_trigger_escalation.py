"""A degradation the last retraining did not recover from starts an experiment cycle, not a third
retraining: the watcher launches a real `mlops experiment run` process (stopped once it holds the training
lease), records the cause in the trigger ledger and writes a report for people."""

from __future__ import annotations

import json
from pathlib import Path

from monitor_support import TRAIN_MONTHS, delay_model, register_production, sample
from test_trigger_watch import plan_for, serve_window
from watch_support import settings_for, stop_once_leased, watcher_for

from components.lineage import open_store
from components.triggers.escalation import WIDE_SWEEP
from components.triggers.ledger import FIRED, TRIGGER, TriggerLedger


def degraded_production(state: Path, *, started_by: str) -> None:
    settings = settings_for(state)
    with open_store(settings.metadata_uri) as store:
        register_production(
            store,
            state,
            training=sample(TRAIN_MONTHS, 20_000, seed=1),
            metrics=delay_model().metrics(sample(TRAIN_MONTHS, 3_000, seed=99)),
            trigger=started_by,
        )
    serve_window(state, drifted=False, seed=4, shuffle_labels=True)


def test_an_unrecovered_degradation_starts_an_experiment_cycle(tmp_path: Path) -> None:
    state = tmp_path / "state"
    degraded_production(state, started_by="degradation")
    settings = settings_for(state)
    with open_store(settings.metadata_uri) as store:
        watcher = watcher_for(store, settings, plan_for(state))
        watcher.tick()  # debounce: the first degraded check only counts
        events = watcher.tick()
        [escalated] = [event for event in events if event.kind == "escalated"]
        run = watcher.running
        assert run is not None and run.request.experiment == escalated.data["experiment"]
        experiment = run.request.experiment
        assert experiment.startswith("major-degradation-")
        assert run.request.command_arguments()[:3] == ["experiment", "run", experiment]
        assert [flag for flag in run.request.command_arguments() if "=" in flag] == list(WIDE_SWEEP)

        ledger = TriggerLedger(store, "flight-delay")
        lease = stop_once_leased(run, ledger)
        # The cycle's first run holds the lease under the experiment's name: it is not a retraining.
        assert lease["trigger"] == f"experiment:{experiment}"
        fired = [entry for entry in ledger.state().of(TRIGGER) if entry.text("outcome") == FIRED]
        # The watcher's decision, then the cycle's first run recording why it started.
        assert [entry.text("kind") for entry in fired] == ["degradation", "on-demand"]
        fired_by_watcher = fired[0]
        assert fired_by_watcher.text("experiment") == experiment
        assert "the last retraining did not recover" in fired_by_watcher.text("escalation")
        arguments = json.loads(fired_by_watcher.text("arguments"))
        assert arguments["eval_month"] == 7

    report = Path(escalated.data["report"]).read_text(encoding="utf-8")
    assert "the last retraining did not recover" in report
    assert f"mlops experiment compare {experiment}" in report
    assert "nothing is promoted" in report


def test_a_first_degradation_still_retrains(tmp_path: Path) -> None:
    state = tmp_path / "state"
    degraded_production(state, started_by="on-demand")
    settings = settings_for(state)
    with open_store(settings.metadata_uri) as store:
        watcher = watcher_for(store, settings, plan_for(state))
        watcher.tick()
        events = watcher.tick()
        assert not [event for event in events if event.kind == "escalated"]
        run = watcher.running
        assert run is not None and run.request.experiment == ""
        assert run.request.command_arguments()[0] == "retrain"
        lease = stop_once_leased(run, TriggerLedger(store, "flight-delay"))
        assert lease["trigger"] == "degradation"
