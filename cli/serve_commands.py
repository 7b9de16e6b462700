"""``mlops serve`` and ``mlops loadtest``: the registered model behind Seldon Core, and load on it."""

from __future__ import annotations

import argparse
import json
import os
import signal
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cli.output import format_table, print_json
from components.processes import group_members, running_server_record, serve_model, stop_group
from components.serving.loadtest import PREDICTIONS_PATH, encode_payloads, run_load
from components.settings import ProjectSettings
from contracts.errors import ConfigError, ServerProcessError
from contracts.names import MODEL_NAME

if TYPE_CHECKING:
    from components.registry import ModelVersion


SERVER_FILE = "server.json"


def register_parsers(subparsers: Any) -> None:
    """Adds ``serve`` and ``loadtest`` to the ``mlops`` subcommands."""
    serve_parser = subparsers.add_parser(
        "serve",
        help="serve the production (or a given) model version on 127.0.0.1 with Seldon Core",
        description="Starts the Seldon microservice in the background, waits until it is healthy and prints "
        "its URL. `mlops serve --stop` stops it and every worker process.",
    )
    serve_parser.add_argument("version", nargs="?", help="version to serve (default: production)")
    serve_parser.add_argument(
        "--port", type=int, default=9000, help="REST port (gRPC and metrics: 0 = any free)"
    )
    serve_parser.add_argument("--grpc-port", type=int, default=0)
    serve_parser.add_argument("--metrics-port", type=int, default=0)
    # One worker peaked 35-50% below two or three on 2 cores (components/serving/README.md, Server shape).
    serve_parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    serve_parser.add_argument("--threads", type=int, default=4, help="threads per worker")
    serve_parser.add_argument(
        "--foreground", action="store_true", help="stay attached; Ctrl-C stops the server"
    )
    serve_parser.add_argument("--stop", action="store_true", help="stop the server started by `mlops serve`")
    serve_parser.add_argument("--model", default=MODEL_NAME, help="registered model name")
    serve_parser.add_argument("--json", action="store_true", help="print the server's address as JSON")
    serve_parser.add_argument(
        "--features",
        action="store_true",
        help="put the feature-store transformer in front: requests carry booking-time fields only",
    )
    serve_parser.set_defaults(handler=serve)

    load = subparsers.add_parser(
        "loadtest",
        help="open-loop constant-rate load on a prediction URL, with bodies drawn from real flights",
    )
    load.add_argument(
        "--url", default=f"http://127.0.0.1:9000{PREDICTIONS_PATH}", help="prediction URL (loopback)"
    )
    load.add_argument("--rate", type=float, required=True, help="requests per second")
    load.add_argument("--duration", type=float, required=True, help="seconds of load")
    load.add_argument("--concurrency", type=int, default=32, help="most requests in flight")
    load.add_argument("--max-requests", type=int, default=None, help="stop after this many requests")
    load.add_argument("--batch", type=int, default=1, help="rows per request")
    load.add_argument("--month", type=int, default=8, help="month of 2013 the request bodies come from")
    load.add_argument("--json-out", type=Path, help="also write the result as JSON to this file")
    load.add_argument("--json", action="store_true", help="print the result as JSON")
    load.set_defaults(handler=loadtest)


@dataclass(frozen=True)
class ServeOptions:
    """How ``mlops serve`` started a server, kept in its record so that a restart keeps the same shape.

    Attributes:
        follows_production: Started without a version: a rollback restarts it on the restored version.
    """

    model: str
    port: int
    grpc_port: int = 0
    metrics_port: int = 0
    workers: int = 2
    threads: int = 4
    features: bool = False
    follows_production: bool = True


def serve(args: argparse.Namespace, settings: ProjectSettings) -> int:
    from components.lineage import open_store
    from components.registry import ModelRegistry

    record_path = settings.state_dir / SERVER_FILE
    if args.stop:
        return _stop(record_path, args.json)
    running = running_server_record(record_path)
    if running:
        raise ConfigError(
            f"a model server already runs at {running['http_url']} (stop it: mlops serve --stop)"
        )
    with open_store(settings.metadata_uri) as store:
        registry = ModelRegistry(store, model_name=args.model)
        version = registry.get(args.version) if args.version else registry.production()
    if version is None:
        raise ConfigError(f"model {args.model!r} has no production version yet: run `mlops run` first")
    options = ServeOptions(
        model=args.model,
        port=args.port,
        grpc_port=args.grpc_port,
        metrics_port=args.metrics_port,
        workers=args.workers,
        threads=args.threads,
        features=args.features,
        follows_production=args.version is None,
    )
    address = start_serving(version, settings, options)
    if args.json:
        print_json(address)
    elif options.features:
        print(
            f"serving {args.model} {version.version} behind the feature store at "
            f"{address['predictions_url']} (booking-time fields only); stop it with: mlops serve --stop"
        )
    else:
        print(f"serving {args.model} {version.version} ({version.stage}) at {address['predictions_url']}")
        print(
            f"gRPC {address['grpc_target']}, metrics {address['metrics_url']}, request log {address['request_log']}"
        )
        print("stop it with: mlops serve --stop" if not args.foreground else "Ctrl-C stops it")
    if args.foreground:
        pid = int(address["pid"])
        try:
            while group_members(pid):
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            _stop_groups(address)
            # A rollback may have restarted the server meanwhile: its record is not this one's to remove.
            current = running_server_record(record_path)
            if current is None or int(current["pid"]) == pid:
                record_path.unlink(missing_ok=True)
    return 0


def start_serving(version: ModelVersion, settings: ProjectSettings, options: ServeOptions) -> dict[str, Any]:
    """Starts the model server (behind the feature store when asked) and writes its record."""
    request_log = settings.state_dir / "requests"
    if options.features:
        from components.features.booking_service import serve_booking_time

        address = serve_booking_time(
            Path(version.uri),
            version.version,
            settings,
            port=options.port,
            workers=options.workers,
            threads=options.threads,
        )
    else:
        server = serve_model(
            Path(version.uri),
            model_version=version.version,
            request_log=request_log,
            http_port=options.port,
            grpc_port=options.grpc_port,
            metrics_port=options.metrics_port,
            workers=options.workers,
            threads=options.threads,
            log_dir=settings.state_dir / "server",
        )
        address = {
            "pid": server.pid,
            "http_url": server.http_url,
            "predictions_url": server.http_url + PREDICTIONS_PATH,
            "grpc_target": server.grpc_target,
            "metrics_url": server.metrics_url,
            "server_log": str(server.log_path),
        }
    address.update(
        version=version.version,
        stage=str(version.stage),
        request_log=str(request_log),
        options=asdict(options),
    )
    (settings.state_dir / SERVER_FILE).write_text(json.dumps(address, indent=2), encoding="utf-8")
    return address


def restart_on(version: ModelVersion, model: str, settings: ProjectSettings) -> dict[str, Any] | None:
    """Restarts a running ``mlops serve`` of ``model`` that follows production on ``version``.

    Returns:
        The new server's record, or None when no such server runs or it already serves ``version``.
    """
    record_path = settings.state_dir / SERVER_FILE
    record = running_server_record(record_path)
    if record is None or "options" not in record:
        return None
    options = ServeOptions(**record["options"])
    if options.model != model or not options.follows_production or record["version"] == version.version:
        return None
    _stop_groups(record)
    record_path.unlink(missing_ok=True)
    return start_serving(version, settings, options)


def _stop(record_path: Path, as_json: bool) -> int:
    record = running_server_record(record_path)
    if record is None:
        print("no model server is running")
        return 0
    _stop_groups(record)
    record_path.unlink(missing_ok=True)
    if as_json:
        print_json({"stopped": record})
    else:
        print(f"stopped the model server at {record['http_url']} and its {record['version']} workers")
    return 0


def _stop_groups(record: dict[str, Any]) -> None:
    """Stops every process group a server record names (the server and what was started with it)."""
    for group in [int(record["pid"]), *record.get("also_started", [])]:
        try:
            stop_group(group)
        except ServerProcessError:
            os.killpg(group, signal.SIGKILL)
            raise


def loadtest(args: argparse.Namespace, settings: ProjectSettings) -> int:
    from components.features.offline import OfflineFeatures
    from components.ingest.logic import load_months
    from components.ingest.records import feature_records

    records = feature_records(load_months([args.month], OfflineFeatures(settings.feature_repo)), limit=5_000)
    result = run_load(
        args.url,
        encode_payloads(records, batch=args.batch),
        rate=args.rate,
        duration=args.duration,
        max_requests=args.max_requests,
        concurrency=args.concurrency,
    )
    if args.json_out:
        result.write_json(args.json_out)
    if args.json:
        print_json(result.to_dict())
        return 0 if result.errors == 0 else 1
    rows = [
        {"measure": "offered rate (req/s)", "value": f"{result.offered_rate:.1f}"},
        {"measure": "achieved rate (req/s)", "value": f"{result.achieved_rate:.1f}"},
        {"measure": "sent / ok / errors", "value": f"{result.sent} / {result.ok} / {result.errors}"},
    ]
    rows += [
        {"measure": f"latency {name} (ms)", "value": f"{value:.2f}"}
        for name, value in result.latency_ms.items()
    ]
    rows += [
        {"measure": f"status {status}", "value": str(count)}
        for status, count in sorted(result.statuses.items())
    ]
    print(format_table(rows, ["measure", "value"]))
    return 0 if result.errors == 0 else 1
