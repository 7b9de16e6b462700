"""Serving benchmark: the model's floor in process, Seldon's echo ceiling, the served model, a rate sweep.

Run with the serving environment (``make bench-serving``); the servers run as separate process groups on
127.0.0.1 through ``components/serving/process.py`` and are loaded by ``components/serving/loadtest.py``
(open loop, latency from each request's due time) from this process, so the load generator shares the
machine's cores with the server, equally for every measurement. One run takes about two minutes:

1. Floor: one-row calls in process - the plain signature, both packed backends, validation, and the
   whole ``predict_raw`` with and without the request log (best of several rounds).
2. Per gunicorn configuration (workers x threads): the echo model's peak (the wrapper's ceiling) and the
   served model's peak, both saturated with 16 connections in flight, in the same run.
3. For the best configuration: p50/p99 at rising rates, as fractions of its echo ceiling, until p99
   breaks the budget.

Targets (from the serving issue): model peak >= 80% of the echo ceiling; p99 < 10 ms at half of it.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from components.ingest.contract import Kind
from components.serving.loadtest import PREDICTIONS_PATH, LoadResult, encode_payloads, run_load
from components.serving.process import ECHO_CLASS, ModelServer, ServerConfig, serve_model, start_server
from components.serving.schema import ServingSchema

EXAMPLE_SCHEMA = (
    Path(__file__).resolve().parents[1] / "components" / "serving" / "serving_schema.example.json"
)
P99_BUDGET_MS = 10.0
PEAK_SECONDS = 1.5
PEAK_ROUNDS = 2
STEP_SECONDS = 3.0
STEP_REQUESTS = 1500  # at least ~500 answers per step: a p99 over fewer is its third-worst sample
SWEEP_FRACTIONS = (0.1, 0.25, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


def synthetic_records(schema: ServingSchema, count: int, seed: int = 11) -> list[dict[str, Any]]:
    """Valid records drawn from the schema: categories, in-range numbers, ~10% nulls where allowed."""
    rng = random.Random(seed)
    records = []
    for _ in range(count):
        record: dict[str, Any] = {}
        for feature in schema.features:
            if feature.nullable and rng.random() < 0.1:
                record[feature.name] = None
            elif feature.kind is Kind.STRING:
                record[feature.name] = rng.choice(feature.allowed_values or ("",))
            else:
                low = feature.minimum if feature.minimum is not None else 0.0
                high = feature.maximum if feature.maximum is not None else low + 100.0
                value = rng.uniform(low, high)
                record[feature.name] = int(value) if feature.kind is Kind.INT else round(value, 2)
        records.append(record)
    return records


def best_microseconds(call: Callable[[], Any], *, rounds: int = 15, calls: int = 200) -> float:
    """Best per-call time over ``rounds`` rounds: the least disturbed by other load on the machine."""
    for _ in range(20):
        call()
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(calls):
            call()
        times.append((time.perf_counter() - start) / calls * 1e6)
    return min(times)


def measure_floor(model_dir: Path, records: list[dict[str, Any]]) -> dict[str, float]:
    """Per-call microseconds of each in-process step for a one-row request."""
    import numpy as np
    import tensorflow as tf

    from components.serving.inference import Backend, load_predictor
    from components.serving.model import FlightDelayModel
    from components.serving.validation import RequestValidator

    schema = ServingSchema.read(model_dir / "serving_schema.json")
    message = {"jsonData": records[0]}
    columns = RequestValidator(schema).parse(message).columns
    signature = tf.saved_model.load(str(model_dir / "saved_model")).signatures["serving_default"]
    eager_feeds = {
        name: np.asarray(column, dtype=np.float32 if column.dtype != object else object).reshape(-1, 1)
        for name, column in columns.items()
    }
    floor = {
        "signature, 22 eager feeds": best_microseconds(
            lambda: signature(**{k: tf.constant(v) for k, v in eager_feeds.items()})
        )
    }
    for backend in Backend:
        predictor = load_predictor(model_dir / "saved_model", backend=backend)
        floor[f"{backend} backend, 2 packed feeds"] = best_microseconds(partial(predictor.predict, columns))
    validator = RequestValidator(schema)
    floor["validation (jsonData, 22 features)"] = best_microseconds(lambda: validator.parse(message))
    with tempfile.TemporaryDirectory() as log_dir:
        for label, log in (("predict_raw, no request log", ""), ("predict_raw, request log", log_dir)):
            model = FlightDelayModel(model_uri=str(model_dir), model_version="bench", request_log=log)
            model.load()
            floor[label] = best_microseconds(partial(model.predict_raw, message))
            if model.request_log is not None:
                for rows in (100, 1000):
                    batch = {"jsonData": [records[i % len(records)] for i in range(rows)]}
                    whole = best_microseconds(partial(model.predict_raw, batch), rounds=5, calls=20)
                    floor[f"predict_raw, request log, {rows} rows, per row"] = whole / rows
                model.request_log.close()
    return floor


@dataclass(frozen=True)
class Config:
    """One server configuration; consecutive rows of the table change one thing."""

    label: str
    workers: int
    threads: int
    request_log: bool = True
    coalesce: bool = True


CONFIGS = (
    Config("baseline", 1, 4, coalesce=False),
    Config("+ coalescing", 1, 4),
    Config("+ 2nd worker", 2, 4),
    Config("+ 8 threads", 2, 8),
    Config("- request log", 2, 8, request_log=False),
)


def peak(server: ModelServer, payloads: list[bytes]) -> LoadResult:
    """Saturating throughput: far more offered than served, 16 in flight, sized to ~PEAK_SECONDS."""
    url = server.http_url + PREDICTIONS_PATH
    probe = run_load(url, payloads, rate=50_000, duration=1.0, max_requests=300, concurrency=16, timeout=30)
    count = max(200, int(probe.achieved_rate * PEAK_SECONDS))
    return run_load(url, payloads, rate=50_000, duration=10.0, max_requests=count, concurrency=16, timeout=30)


def start_all(
    model_dir: Path, scratch: Path
) -> tuple[dict[Config, ModelServer], dict[tuple[int, int], ModelServer]]:
    """Starts every model and echo server at once (start-up is mostly imports); they idle until measured."""
    shapes = sorted({(config.workers, config.threads) for config in CONFIGS})
    with ThreadPoolExecutor(len(CONFIGS) + len(shapes)) as pool:
        models = {
            config: pool.submit(
                serve_model,
                model_dir,
                model_version="bench",
                request_log=scratch / f"log-{index}" if config.request_log else None,
                coalesce=config.coalesce,
                workers=config.workers,
                threads=config.threads,
                grpc_workers=0,
                startup_timeout=240,
            )
            for index, config in enumerate(CONFIGS)
        }
        echoes = {
            shape: pool.submit(
                start_server,
                ServerConfig(
                    model_class=ECHO_CLASS,
                    workers=shape[0],
                    threads=shape[1],
                    grpc_workers=0,
                    startup_timeout=240,
                ),
            )
            for shape in shapes
        }
        return {k: f.result() for k, f in models.items()}, {k: f.result() for k, f in echoes.items()}


def stop_all(servers: list[ModelServer]) -> None:
    with ThreadPoolExecutor(len(servers)) as pool:
        list(pool.map(lambda server: server.stop(), servers))


def sweep(server: ModelServer, payloads: list[bytes], ceiling: float) -> list[LoadResult]:
    """Open-loop steps at rising fractions of the echo ceiling until p99 breaks the budget.

    The half-ceiling step always runs (the latency target is set there); the sweep also ends when the
    server falls behind the offered rate or answers with errors.
    """
    results = []
    for fraction in SWEEP_FRACTIONS:
        rate = max(10.0, fraction * ceiling)
        result = run_load(
            server.http_url + PREDICTIONS_PATH,
            payloads,
            rate=rate,
            duration=STEP_SECONDS,
            max_requests=STEP_REQUESTS,
            concurrency=64,
        )
        results.append(result)
        saturated = result.achieved_rate < 0.9 * rate or result.errors > 0
        if saturated or (result.latency_ms["p99"] > P99_BUDGET_MS and fraction >= 0.5):
            break
    return results


def main(argv: list[str] | None = None) -> int:
    """Runs the benchmark in a scratch folder that is removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="bench-serving-") as scratch:
        return run(argv, Path(scratch))


def run(argv: list[str] | None, scratch: Path) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", type=Path, default=None, help="model folder (default: a fixture model)")
    parser.add_argument("--json-out", type=Path, default=None)
    args = parser.parse_args(argv)
    started = time.monotonic()
    schema = ServingSchema.read(EXAMPLE_SCHEMA)
    model_dir = args.model
    if model_dir is None:
        from components.serving.fixture_model import build_model_folder

        model_dir = build_model_folder(scratch / "model", schema)
    records = synthetic_records(ServingSchema.read(model_dir / "serving_schema.json"), 256)
    payloads = encode_payloads(records)

    floor = measure_floor(model_dir, records)
    print("\n1. In-process floor, one-row request (best of 15 rounds of 200 calls)")
    print(f"   {'step':<48}{'us/call':>10}")
    for label, micros in floor.items():
        print(f"   {label:<48}{micros:>10.1f}")

    started_servers = time.monotonic()
    models, echoes = start_all(model_dir, scratch)
    servers = [*models.values(), *echoes.values()]
    try:
        print(f"\n   {len(servers)} servers started in {time.monotonic() - started_servers:.0f} s")
        # Two alternating rounds, best of each: other load on a shared machine only ever slows a run down.
        echo_rates: dict[tuple[int, int], float] = {}
        peaks: dict[Config, LoadResult] = {}
        for _ in range(PEAK_ROUNDS):
            for shape, server in echoes.items():
                echo_rates[shape] = max(echo_rates.get(shape, 0.0), peak(server, payloads).achieved_rate)
            for config, server in models.items():
                result = peak(server, payloads)
                if config not in peaks or result.achieved_rate > peaks[config].achieved_rate:
                    peaks[config] = result
        best = max((c for c in CONFIGS if c.request_log), key=lambda c: peaks[c].achieved_rate)
        ceiling = echo_rates[(best.workers, best.threads)]
        steps = sweep(models[best], payloads, ceiling)
    finally:
        stop_all(servers)

    print(
        f"\n2. Peak throughput, saturated (16 in flight), REST, one row per request, best of {PEAK_ROUNDS} rounds"
    )
    print(
        f"   {'config':<15} {'workers':>7} {'threads':>7} {'log':>4} {'coalesce':>8} {'echo /s':>8} "
        f"{'model /s':>8} {'model/echo':>10} {'change':>7}"
    )
    previous = None
    for config in CONFIGS:
        echo_rate = echo_rates[(config.workers, config.threads)]
        rate = peaks[config].achieved_rate
        change = "" if previous is None else f"{rate / previous - 1:+.0%}"
        previous = rate
        print(
            f"   {config.label:<15} {config.workers:>7} {config.threads:>7} "
            f"{'on' if config.request_log else 'off':>4} {'on' if config.coalesce else 'off':>8} "
            f"{echo_rate:>8.0f} {rate:>8.0f} {rate / echo_rate:>10.0%} {change:>7}"
        )

    print(
        f"\n3. Open-loop rate sweep: model server '{best.label}' ({best.workers} workers x {best.threads} threads)"
    )
    print(f"   echo ceiling {ceiling:.0f}/s; latency from each request's due time")
    print(
        f"   {'offered /s':>10} {'of echo':>7} {'achieved':>9} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} {'errors':>6}"
    )
    for step in steps:
        lat = step.latency_ms
        print(
            f"   {step.offered_rate:>10.0f} {step.offered_rate / ceiling:>7.0%} {step.achieved_rate:>9.0f} "
            f"{lat['p50']:>7.2f} {lat['p99']:>7.2f} {lat['max']:>7.1f} {step.errors:>6}"
        )

    best_ratio = peaks[best].achieved_rate / ceiling
    half = min(steps, key=lambda step: abs(step.offered_rate / ceiling - 0.5))
    print("\n4. Targets")
    print(f"   model peak / echo ceiling (best config)  {best_ratio:.0%}  (target >= 80%)")
    print(
        f"   p99 at {half.offered_rate / ceiling:.0%} of the ceiling        "
        f"{half.latency_ms['p99']:.2f} ms  (target < {P99_BUDGET_MS:.0f} ms)"
    )
    print(
        f"\n   total {time.monotonic() - started:.0f} s; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    if args.json_out is not None:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(
            json.dumps(
                {
                    "floor_us": floor,
                    "peaks": [
                        {
                            **vars(config),
                            "echo": echo_rates[(config.workers, config.threads)],
                            "model": peaks[config].to_dict(),
                        }
                        for config in CONFIGS
                    ],
                    "sweep": [step.to_dict() for step in steps],
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
