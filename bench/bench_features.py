"""Feature-store benchmark: build and materialisation times, online lookups, prediction with and without
the transformer — in one run, printed as tables.

Run with the pipeline environment (``make bench-features``): the feature store's work runs in the
features environment and the servers in their own environments, as separate process groups on
127.0.0.1, all started from here. One run takes about four minutes on two cores:

1. ``apply`` (offline Parquet rows of the whole year + registration), then materialisation of the year
   month by month (incremental: each call loads what came since the last) and once more from scratch
   over the whole year; times as the worker measured them, without the interpreter's start.
2. Online lookups through Feast's feature server (one kept-alive connection, sequential requests): every
   catalog feature for 1 entity row and for 100 entity rows.
3. End to end, sequential single-row predictions: the model server given full rows (the client looked
   everything up itself) against the transformer given booking-time rows (it looks features up, then
   asks the model).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# The test doubles: a stand-in model folder.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from doubles.fixture_model import build_model_folder

from cli.output import format_table
from components.features.booking import complete_row, entity_row
from components.features.client import FeatureClient
from components.features.environment import FeatureEnvironment
from components.features.raw_tables import read_raw_tables
from components.features.server import start_feature_server
from components.processes import ServerConfig, serve_model, start_server
from components.serving.loadtest import PREDICTIONS_PATH, percentiles
from contracts.feature_catalog import ENTITIES
from contracts.names import TRANSFORMER_CLASS
from contracts.serving_schema import ServingSchema

EXAMPLE_SCHEMA = Path(__file__).resolve().parents[1] / "contracts" / "serving_schema.example.json"
BOOKING_FIELDS = (
    "day",
    "hour",
    "minute",
    "sched_dep_time",
    "sched_arr_time",
    "carrier",
    "origin",
    "dest",
    "distance",
)


def month_ends() -> list[datetime]:
    return [datetime(2013 + month // 12, month % 12 + 1, 1, tzinfo=UTC) for month in range(1, 13)]


def bookings(count: int, seed: int = 5) -> list[dict[str, Any]]:
    """Booking-time rows of real December flights (what a client knows before departure)."""
    flights = read_raw_tables().flights
    december = flights[flights["month"] == 12].sample(count, random_state=seed)
    rows = []
    for flight in december.to_dict("records"):
        row = {name: flight[name] for name in BOOKING_FIELDS}
        row["tailnum"] = flight["tailnum"] if isinstance(flight["tailnum"], str) else None
        rows.append(
            {k: (int(v) if isinstance(v, int | float) and k != "tailnum" else v) for k, v in row.items()}
        )
    return rows


def timed(call: Callable[[], object], repeats: int) -> dict[str, float]:
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return percentiles(samples)


class JsonPoster:
    """Sequential POSTs over one kept-alive connection, opened again when the server closed it."""

    def __init__(self, url: str) -> None:
        host, port = url.removeprefix("http://").split(":")
        self.address = (host, int(port))
        self.connection = http.client.HTTPConnection(*self.address, timeout=30)

    def __call__(self, path: str, body: Any) -> dict[str, Any]:
        payload = json.dumps(body)
        try:
            response = self._send(path, payload)
        except (http.client.HTTPException, ConnectionError):
            self.connection.close()  # an idle keep-alive connection the server dropped
            self.connection = http.client.HTTPConnection(*self.address, timeout=30)
            response = self._send(path, payload)
        answer = json.loads(response.read())
        if response.status != 200:
            raise RuntimeError(f"{path} answered {response.status}: {answer}")
        return dict(answer)

    def _send(self, path: str, payload: str) -> http.client.HTTPResponse:
        self.connection.request("POST", path, body=payload, headers={"Content-Type": "application/json"})
        return self.connection.getresponse()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=400, help="requests per latency measurement")
    parser.add_argument("--json-out", type=Path, help="also write the results as JSON")
    args = parser.parse_args(argv)
    results: dict[str, Any] = {}

    with tempfile.TemporaryDirectory(prefix="bench-features-") as scratch:
        env = FeatureEnvironment(repo=Path(scratch) / "features")
        applied = env.apply()
        months = [env.materialize(end)["seconds"] for end in month_ends()]
        full = env.materialize(month_ends()[-1], start=datetime(2012, 12, 1, tzinfo=UTC))["seconds"]
        results["store"] = {
            "build_s": applied["build_seconds"],
            "apply_s": applied["apply_seconds"],
            "incremental_month_s": {"min": min(months), "max": max(months), "sum": round(sum(months), 3)},
            "full_year_s": full,
            "offline_rows": applied["rows"],
        }
        step = "feature store (features environment)"
        print(
            format_table(
                [
                    {step: "offline rows (4 views)", "time": f"{sum(applied['rows'].values()):,}"},
                    {step: "build offline Parquet (year)", "time": f"{applied['build_seconds']:.2f} s"},
                    {step: "apply (register)", "time": f"{applied['apply_seconds']:.2f} s"},
                    {
                        step: "materialise, incremental month",
                        "time": f"{min(months):.2f}-{max(months):.2f} s (year: {sum(months):.2f} s)",
                    },
                    {step: "materialise full year at once", "time": f"{full:.2f} s"},
                ],
                [step, "time"],
            ),
            flush=True,
        )

        rows = bookings(args.repeats)
        entity_rows = [entity_row(row) for row in rows]
        model_dir = build_model_folder(Path(scratch) / "model", ServingSchema.read(EXAMPLE_SCHEMA))
        model_inputs = ServingSchema.read(EXAMPLE_SCHEMA).names
        with start_feature_server(env.repo, log_dir=Path(scratch) / "fs-log") as features:
            client = FeatureClient(features.url)
            client.lookup(entity_rows[:100])  # warm-up: the server loads the registry on first use
            random.seed(3)
            one = timed(lambda: client.lookup([random.choice(entity_rows)]), args.repeats)
            hundred = timed(
                lambda: client.lookup(random.sample(entity_rows, 100)), max(50, args.repeats // 4)
            )
            full_rows = [
                complete_row(row, online.values, online.not_found, model_inputs).row
                for row, online in zip(rows, client.lookup(entity_rows), strict=True)
            ]
            with serve_model(model_dir, grpc_workers=0, log_dir=Path(scratch) / "model-log") as model:
                config = ServerConfig(
                    model_class=TRANSFORMER_CLASS,
                    parameters={
                        "feature_server_url": features.url,
                        "model_uri": str(model_dir),
                        "model_url": model.http_url,
                    },
                    grpc_workers=0,
                    log_dir=Path(scratch) / "transformer-log",
                )
                with start_server(config) as transformer:
                    direct, chained = JsonPoster(model.http_url), JsonPoster(transformer.http_url)
                    for index in range(20):  # warm-up both paths
                        direct(PREDICTIONS_PATH, {"jsonData": full_rows[index]})
                        chained(PREDICTIONS_PATH, {"jsonData": rows[index]})
                    cycle = iter(range(10**9))
                    without = timed(
                        lambda: direct(PREDICTIONS_PATH, {"jsonData": full_rows[next(cycle) % len(rows)]}),
                        args.repeats,
                    )
                    with_ = timed(
                        lambda: chained(PREDICTIONS_PATH, {"jsonData": rows[next(cycle) % len(rows)]}),
                        args.repeats,
                    )
    results["latency_ms"] = {
        "lookup_1": one,
        "lookup_100": hundred,
        "predict_full_rows": without,
        "predict_via_transformer": with_,
    }
    print()
    requests = "sequential requests on 127.0.0.1"
    print(
        format_table(
            [
                {requests: name} | {f"{stat} ms": f"{values[stat]:.2f}" for stat in ("p50", "p99", "mean")}
                for name, values in (
                    ("online lookup, 1 entity row (feature server)", one),
                    ("online lookup, 100 entity rows (feature server)", hundred),
                    ("predict, full row sent to the model", without),
                    ("predict, booking-time row via the transformer", with_),
                )
            ],
            [requests, "p50 ms", "p99 ms", "mean ms"],
        )
    )
    print(
        f"\nentities: {', '.join(ENTITIES)}; {args.repeats} requests per row (100-row lookups: {max(50, args.repeats // 4)})"
    )
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
