"""End to end through a real Seldon Core microservice: flights replayed over HTTP at a steady rate, their
outcomes fed back by request id, the watcher ticking. An undrifted replay triggers nothing; an injected
drift (all traffic from one airport) is caught by the first check whose window it fills, and starts a
run once the debounce agrees. (The seasonal drift of July-December is what ``make demo`` replays.)"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from doubles.fixture_model import build_model_folder
from monitor_support import EXAMPLE_SCHEMA, register_production, sample
from watch_support import settings_for, stop_once_leased, watcher_for

from components.evaluate.slices import binary_metrics
from components.ingest.records import feature_records
from components.lineage import open_store
from components.monitoring.feedback import read_feedback, store_feedback
from components.monitoring.replay import replay_of
from components.processes import ModelServer, serve_model
from components.serving.loadtest import PREDICTIONS_PATH, run_load
from components.triggers.launch import LocalRun
from components.triggers.ledger import FIRED, TRIGGER
from components.triggers.watch import WatchPlan
from contracts.data_contract import LABEL
from contracts.serving_schema import ServingSchema

WINDOW = 1_500
RATE = 250.0
JUNE = (6,)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ModelServer, Path]]:
    root = tmp_path_factory.mktemp("served")
    model_dir = build_model_folder(root / "model", ServingSchema.read(EXAMPLE_SCHEMA), version="v1")
    server = serve_model(
        model_dir,
        model_version="v1",
        request_log=root / "state" / "requests",
        threads=8,
        log_dir=root / "server",
    )
    try:
        yield server, root / "state"
    finally:
        server.stop()


def evaluate_on_held_out_rows(url: str) -> dict[str, Any]:
    """The served model's metrics on held-out June flights, asked in one request as an evaluation would."""
    flights = sample(JUNE, 800, seed=77)
    body = json.dumps({"jsonData": feature_records(flights)}).encode()
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        scores = np.array(json.loads(response.read())["data"]["ndarray"], dtype=np.float64).ravel()
    metrics = binary_metrics(flights[LABEL].to_numpy(), scores, 0.5)
    return {"auc": metrics.auc, "accuracy": metrics.accuracy, "log_loss": metrics.log_loss}


def replay(url: str, state: Path, *, rerouted: bool, seed: int, prefix: str) -> None:
    """A window of June flights; rerouted: from one airport only (a drift of ``origin``)."""
    flights = sample(JUNE, WINDOW * 4, seed=seed)
    flights = (
        (flights[flights["origin"] == "EWR"] if rerouted else flights).head(WINDOW).reset_index(drop=True)
    )
    played = replay_of(flights, prefix=prefix)
    result = run_load(url, played.bodies, rate=RATE, duration=WINDOW / RATE, concurrency=16, timeout=30)
    assert result.sent == WINDOW and result.ok == WINDOW, result.statuses
    store_feedback(state / "feedback", played.outcomes)


def test_undrifted_replay_triggers_nothing_and_injected_drift_starts_a_run(
    served: tuple[ModelServer, Path],
) -> None:
    server, state = served
    url = server.http_url + PREDICTIONS_PATH
    settings = settings_for(state)
    with open_store(settings.metadata_uri) as store:
        register_production(
            store,
            state / "runs",
            training=sample(JUNE, 20_000, seed=1),
            metrics=evaluate_on_held_out_rows(url),
            threshold=0.5,
            months="6",
        )
        plan = WatchPlan(
            model="flight-delay", requests_dir=state / "requests", feedback_dir=state / "feedback"
        )
        watcher = watcher_for(store, settings, plan)

        replay(url, state, rerouted=False, seed=2, prefix="june")
        assert len(read_feedback(state / "feedback")) == WINDOW
        for _ in range(3):
            events = watcher.tick()
            assert [e.kind for e in events] == ["check"]
            assert events[0].data["status"] == "healthy", events[0].message
        assert watcher.last_result is not None
        assert (
            watcher.last_result.window.size == WINDOW and len(watcher.last_result.window.labelled) == WINDOW
        )
        assert watcher.ledger.state().of(TRIGGER) == []  # nothing was even considered

        replay(url, state, rerouted=True, seed=3, prefix="rerouted")
        first = watcher.tick()
        # Caught at the first check after the window filled. The served model (random weights) also
        # loses calibration on the rerouted traffic, so degradation may come up beside drift.
        assert "drift" in first[0].data["signals"], first[0].message
        assert "drift of origin" in first[0].message
        suppressed = [e.message for e in first if e.kind == "trigger"]
        assert "drift suppressed: debounce: drift raised by 1 of 2 consecutive checks" in suppressed
        second = watcher.tick()
        assert [e.kind for e in second] == ["check", "trigger", "run-started"]
        fired_kind = second[1].data["kind"]
        assert fired_kind in second[0].data["signals"]
        run = watcher.running
        assert isinstance(run, LocalRun)
        lease = stop_once_leased(run, watcher.ledger)
        assert lease["trigger"] == fired_kind
        fired = [e for e in watcher.ledger.state().of(TRIGGER) if e.text("outcome") == FIRED]
        assert [e.text("kind") for e in fired] == [fired_kind]
