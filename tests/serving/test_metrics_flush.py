"""Custom metrics handed to Seldon once per flush interval: exact totals, in process and served for real.

Seldon's own metric-table update loses counts when threads of one worker update at once; the model
installs an atomic one (``components/serving/metric_table.py``). These tests hold both halves to exact
totals: the accumulator under threads, the table update under threads, and a real
``seldon-core-microservice`` whose ``/prometheus`` totals must equal the requests sent, by outcome,
reason and score bin.
"""

from __future__ import annotations

import json
import os
import random
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from seldon_core import wrapper
from seldon_core.metrics import SeldonMetrics

from components.processes import ModelServer, ServerConfig, start_server
from components.serving.loadtest import PREDICTIONS_PATH, run_load
from components.serving.metric_table import atomic_update, stock_update
from components.serving.model import FlightDelayModel
from components.serving.telemetry import SCORE_BINS, Telemetry
from contracts.errors import ConfigError
from contracts.names import MODEL_CLASS

from .conftest import GOOD_RECORD, varied_records


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _totals(drained: list[list[dict[str, Any]]]) -> Counter[tuple[str, tuple[tuple[str, str], ...]]]:
    totals: Counter[tuple[str, tuple[tuple[str, str], ...]]] = Counter()
    for metrics in drained:
        for metric in metrics:
            assert metric["type"] == "COUNTER"
            totals[(metric["key"], tuple(sorted(metric["tags"].items())))] += metric["value"]
    return totals


def test_drain_due_hands_over_counts_once_per_interval() -> None:
    clock = FakeClock()
    telemetry = Telemetry(flush_seconds=0.5, clock=clock)
    telemetry.served([0.05])
    first = telemetry.drain_due()  # a process's first request publishes at once
    assert _totals([first])[("flight_delay_requests", (("outcome", "ok"), ("reason", "OK")))] == 1
    telemetry.served([0.95, 0.55])
    telemetry.refused("UNKNOWN_CATEGORY", status=400)
    clock.now += 0.49
    assert telemetry.drain_due() == [] and not telemetry.due()
    clock.now += 0.02
    totals = _totals([telemetry.drain_due()])
    assert totals[("flight_delay_requests", (("outcome", "ok"), ("reason", "OK")))] == 1
    assert totals[("flight_delay_requests", (("outcome", "rejected"), ("reason", "UNKNOWN_CATEGORY")))] == 1
    assert totals[("flight_delay_rows", ())] == 2
    assert totals[("flight_delay_score", (("bin", "1.0"),))] == 1
    assert totals[("flight_delay_score", (("bin", "0.6"),))] == 1
    assert telemetry.drain_due() == []  # the interval starts again at the drain


def test_a_zero_interval_hands_over_on_every_response() -> None:
    telemetry = Telemetry(flush_seconds=0.0, clock=FakeClock())
    for _ in range(3):
        telemetry.served([0.3])
        assert _totals([telemetry.drain_due()])[("flight_delay_rows", ())] == 1


@pytest.mark.parametrize("seconds", [-0.1, float("nan"), float("inf")])
def test_an_unusable_interval_is_refused(seconds: float) -> None:
    with pytest.raises(ConfigError, match="flush interval"):
        Telemetry(flush_seconds=seconds)


def test_counts_from_many_threads_add_up_exactly() -> None:
    telemetry = Telemetry(flush_seconds=0.001)
    threads, per_thread = 8, 2_000
    drained: list[list[dict[str, Any]]] = []
    start = threading.Barrier(threads)

    def serve(seed: int) -> None:
        rng = random.Random(seed)
        mine = []
        start.wait()
        for index in range(per_thread):
            if index % 10 == 0:
                telemetry.refused("MISSING_FEATURE", status=400)
            else:
                telemetry.served([rng.random() for _ in range(1 + index % 3)])
            mine.append(telemetry.drain_due())
        drained.extend(mine)

    workers = [threading.Thread(target=serve, args=(seed,)) for seed in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    drained.append(telemetry.drain())
    totals = _totals(drained)
    served = threads * sum(1 for index in range(per_thread) if index % 10)
    rows = threads * sum(1 + index % 3 for index in range(per_thread) if index % 10)
    assert totals[("flight_delay_requests", (("outcome", "ok"), ("reason", "OK")))] == served
    assert totals[("flight_delay_requests", (("outcome", "rejected"), ("reason", "MISSING_FEATURE")))] == (
        threads * per_thread - served
    )
    assert totals[("flight_delay_rows", ())] == rows
    assert sum(value for (key, _), value in totals.items() if key == "flight_delay_score") == rows


def test_dropped_log_records_are_counted_from_a_running_total_once() -> None:
    telemetry = Telemetry(flush_seconds=0.0)
    for total in (0, 3, 3, 5):
        telemetry.log_records_dropped(total)
    assert _totals([telemetry.drain()])[("flight_delay_request_log_dropped", ())] == 5


@pytest.fixture()
def seldon_metrics() -> Iterator[SeldonMetrics]:
    metrics = SeldonMetrics()
    yield metrics
    metrics._manager.shutdown()


def _worker_table(metrics: SeldonMetrics) -> dict[Any, Any]:
    return dict(metrics.data.get(os.getpid(), {}))


def test_the_atomic_update_adds_what_seldons_own_adds() -> None:
    updates = [
        [{"type": "COUNTER", "key": "c", "value": 2, "tags": {"outcome": "ok"}}],
        [{"type": "GAUGE", "key": "g", "value": 7.5}, {"type": "COUNTER", "key": "c", "value": 3}],
        [{"type": "TIMER", "key": "t", "value": 12.0}, {"type": "COUNTER", "key": "c", "value": 1}],
        [{"type": "GAUGE", "key": "g", "value": 1.5}, {"type": "TIMER", "key": "t", "value": 250.0}],
    ]
    tables = []
    for update in (stock_update, atomic_update):
        metrics = SeldonMetrics()
        try:
            for batch in updates:
                update(metrics, json.loads(json.dumps(batch)), "predict")
            table = {str(key): value for key, value in _worker_table(metrics).items()}
            tables.append(json.loads(json.dumps(table, sort_keys=True)))
        finally:
            metrics._manager.shutdown()
    assert tables[0] == tables[1] and len(tables[0]) == 4


def test_an_empty_update_does_not_touch_the_table(seldon_metrics: SeldonMetrics) -> None:
    atomic_update(seldon_metrics, [], "predict")
    assert os.getpid() not in seldon_metrics.data


def test_the_atomic_update_loses_nothing_between_threads(seldon_metrics: SeldonMetrics) -> None:
    threads, per_thread = 8, 150
    start = threading.Barrier(threads)

    def update() -> None:
        start.wait()
        for index in range(per_thread):
            # Empty updates interleave as they do in a server: Seldon makes one after every response.
            atomic_update(seldon_metrics, [], "predict")
            atomic_update(
                seldon_metrics, [{"type": "COUNTER", "key": "n", "value": 1 + index % 2}], "predict"
            )

    workers = [threading.Thread(target=update) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    (entry,) = _worker_table(seldon_metrics).values()
    assert entry["value"] == threads * sum(1 + index % 2 for index in range(per_thread))


def test_in_process_responses_publish_once_per_interval_and_health_publishes_the_rest(
    model_dir: Path,
) -> None:
    model = FlightDelayModel(model_uri=str(model_dir), metrics_flush_seconds=60.0)
    model.load()
    metrics = SeldonMetrics()
    try:
        client = wrapper.get_rest_microservice(model, metrics).test_client()
        exposition = wrapper.get_metrics_microservice(metrics).test_client()

        def published(*labels: str) -> float:
            text = exposition.get(wrapper.METRICS_ENDPOINT).get_data(as_text=True)
            return _sum_series(text, "flight_delay_requests_total", *labels)

        assert client.post(PREDICTIONS_PATH, json={"jsonData": GOOD_RECORD}).status_code == 200
        assert published('outcome="ok"') == 1  # the first response of a process publishes at once
        for _ in range(4):
            assert client.post(PREDICTIONS_PATH, json={"jsonData": GOOD_RECORD}).status_code == 200
        assert client.post(PREDICTIONS_PATH, json={"jsonData": dict(GOOD_RECORD, day=0)}).status_code == 400
        assert published('outcome="ok"') == 1  # counted, waiting for the interval
        assert client.get("/health/status").status_code == 200
        assert published('outcome="ok"') == 5
        assert published('outcome="rejected"', 'reason="OUT_OF_RANGE"') == 1
    finally:
        metrics._manager.shutdown()


def _sum_series(text: str, name: str, *labels: str) -> float:
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith(name + "{") and all(label in line for label in labels)
    )


def _bin(probability: float) -> str:
    return f"{(min(int(probability * SCORE_BINS), SCORE_BINS - 1) + 1) / SCORE_BINS:.1f}"


SERVED_FLUSH_SECONDS = 0.05
COPIES = 4  # of each request: ~1,800 in all, 1-2 s of saturating load


@pytest.fixture(scope="module")
def server(model_dir: Path) -> Iterator[ModelServer]:
    # Two workers of eight threads, where Seldon's own update lost most counts (56-78% at saturation, with
    # and without a flush interval), and a short interval: dozens of hand-overs per worker under load.
    parameters: dict[str, str | float] = {
        "model_uri": str(model_dir),
        "metrics_flush_seconds": SERVED_FLUSH_SECONDS,
    }
    config = ServerConfig(MODEL_CLASS, parameters=parameters, workers=2, threads=8, grpc_workers=0)
    with start_server(config) as running:
        yield running


def test_prometheus_totals_equal_the_requests_sent(server: ModelServer, model_dir: Path) -> None:
    records = varied_records(300, seed=5)
    good: list[list[dict[str, Any]]] = [[record] for record in records]
    good += [records[index : index + 3] for index in range(0, 60, 3)]  # 3-row requests
    refused = {
        "UNKNOWN_CATEGORY": [dict(GOOD_RECORD, origin="BOS")] * 60,
        "MISSING_FEATURE": [{k: v for k, v in GOOD_RECORD.items() if k != "hour"}] * 40,
        "OUT_OF_RANGE": [dict(GOOD_RECORD, day=0)] * 20,
    }
    bodies = [{"jsonData": rows[0] if len(rows) == 1 else rows} for rows in good]
    bodies += [{"jsonData": record} for records_of in refused.values() for record in records_of]
    random.Random(3).shuffle(bodies)
    bodies *= COPIES

    result = run_load(
        server.http_url + PREDICTIONS_PATH,
        [json.dumps(body).encode() for body in bodies],
        rate=5_000,  # far above what 2 cores answer: 16 requests in flight all along
        duration=10.0,
        max_requests=len(bodies),
        concurrency=16,
        timeout=30,
    )
    good *= COPIES
    refused = {reason: records_of * COPIES for reason, records_of in refused.items()}
    refused_count = sum(len(v) for v in refused.values())
    assert dict(result.statuses) == {"200": len(good), "400": refused_count}

    # The same probabilities, from the same model in this process, give the expected score bins.
    local = FlightDelayModel(model_uri=str(model_dir), metrics_flush_seconds=0.0)
    local.load()
    expected_bins: Counter[str] = Counter()
    for rows in good:
        answer = local.predict_raw({"jsonData": rows})
        expected_bins.update(_bin(row[0]) for row in answer["data"]["ndarray"])
    expected = {
        ("flight_delay_requests_total", 'outcome="ok"'): len(good),
        ("flight_delay_rows_total", ""): sum(len(rows) for rows in good),
        **{
            ("flight_delay_requests_total", f'reason="{reason}"'): len(records_of)
            for reason, records_of in refused.items()
        },
        **{("flight_delay_score_total", f'bin="{label}"'): count for label, count in expected_bins.items()},
    }

    # Each worker publishes its last partial interval at its next request or /health/status call;
    # which worker answers a health call is the kernel's choice, so call until both have.
    deadline = time.monotonic() + 30
    while True:
        time.sleep(SERVED_FLUSH_SECONDS)
        with urllib.request.urlopen(server.http_url + "/health/status", timeout=10) as response:
            assert response.status == 200
        with urllib.request.urlopen(server.metrics_url, timeout=10) as response:
            text = response.read().decode()
        published = {key: _sum_series(text, *key) for key in expected}
        assert all(published[key] <= count for key, count in expected.items()), published  # never more
        if published == expected or time.monotonic() > deadline:
            break
    assert published == expected
    assert sum(expected_bins.values()) == expected[("flight_delay_rows_total", "")]
