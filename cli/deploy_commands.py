"""``mlops deploy``: the compiled pipeline in a Kubeflow Pipelines cluster (used by ``make deploy``).

``upload-and-run`` stores the compiled spec as a pipeline version and starts a run of it;
``start-run`` starts a run of the newest stored version (the scheduled run's CronJob calls it).
Both take the lineage store from ``MLOPS_METADATA_URI``.
"""

from __future__ import annotations

import argparse
import dataclasses
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cli.output import print_json
from components.settings import ProjectSettings

if TYPE_CHECKING:
    from pipelines import cluster_runs


# Importing pipelines.training costs seconds; the name is read from it only when a command runs.
DEFAULT_PIPELINE = "continuous-training"
DEFAULT_RUNNER = "flights-mlops-pipeline-runner"


def register_parsers(subparsers: Any) -> None:
    """Adds ``deploy upload-and-run`` and ``deploy start-run`` to the ``mlops`` subcommands."""
    deploy = subparsers.add_parser(
        "deploy", help="the compiled pipeline in a Kubeflow Pipelines cluster (upload, start runs)"
    ).add_subparsers(dest="deploy_command", required=True)

    upload = deploy.add_parser(
        "upload-and-run",
        help="store the compiled spec as a pipeline version and start a run of it",
        description="Uploads the compiled spec (a version named after its content, reused when unchanged) "
        "and starts a run with the lineage store of MLOPS_METADATA_URI.",
    )
    upload.add_argument(
        "--package", type=Path, help=f"compiled spec (default build/pipelines/{DEFAULT_PIPELINE}.yaml)"
    )
    upload.add_argument(
        "--wait", type=int, default=0, metavar="SECONDS", help="follow the run this long (0: return at once)"
    )
    _common_arguments(upload, trigger="deploy")
    upload.set_defaults(handler=upload_and_run)

    start = deploy.add_parser(
        "start-run", help="start a run of the newest stored version of the pipeline (the scheduled run)"
    )
    start.add_argument(
        "--pipeline", default=DEFAULT_PIPELINE, help=f"pipeline name (default {DEFAULT_PIPELINE})"
    )
    _common_arguments(start, trigger="schedule")
    start.set_defaults(handler=start_run)


def _common_arguments(parser: argparse.ArgumentParser, *, trigger: str) -> None:
    parser.add_argument("--host", required=True, help="Kubeflow Pipelines API, e.g. http://127.0.0.1:8888")
    parser.add_argument("--experiment", default="flights-mlops", help="experiment of the run")
    parser.add_argument(
        "--service-account",
        default=DEFAULT_RUNNER,
        help=f"account the run's pods use (default {DEFAULT_RUNNER})",
    )
    parser.add_argument(
        "--trigger", default=trigger, help=f"why the run starts, for lineage (default {trigger})"
    )
    parser.add_argument(
        "--param", action="append", default=[], metavar="KEY=VALUE", help="a pipeline argument (repeatable)"
    )
    parser.add_argument("--json", action="store_true", help="print the run as JSON")


def upload_and_run(args: argparse.Namespace, settings: ProjectSettings) -> int:
    from pipelines import cluster_runs
    from pipelines.training import PIPELINE_NAME

    package = args.package or Path("build/pipelines") / f"{PIPELINE_NAME}.yaml"
    spec = cluster_runs.read_spec(package)
    name = cluster_runs.version_name(package)
    arguments = _arguments(args, settings, code_version=cluster_runs.pipeline_image(spec))
    client = cluster_runs.connect(args.host)
    _say(args, f"uploading {package} as {PIPELINE_NAME} version {name}")
    version = cluster_runs.upload_version(client, package, PIPELINE_NAME, name)
    run = _start(args, client, version, arguments)
    if args.wait > 0:
        _say(args, f"following run {run.run_id} for up to {args.wait}s")
        run = cluster_runs.wait_for_run(client, run, args.wait)
    return _report(args, run)


def start_run(args: argparse.Namespace, settings: ProjectSettings) -> int:
    from pipelines import cluster_runs

    client = cluster_runs.connect(args.host)
    version = cluster_runs.latest_version(client, args.pipeline)
    # The version name is derived from the spec, whose images are pinned by digest: it names the code.
    arguments = _arguments(args, settings, code_version=f"{args.pipeline}@{version.name}")
    return _report(args, _start(args, client, version, arguments))


def _arguments(args: argparse.Namespace, settings: ProjectSettings, *, code_version: str) -> dict[str, Any]:
    from pipelines import cluster_runs

    return cluster_runs.run_arguments(
        metadata_uri=settings.metadata_uri,
        code_version=code_version,
        trigger=args.trigger,
        request_id=uuid.uuid4().hex,
        params=cluster_runs.parse_params(args.param),
    )


def _start(
    args: argparse.Namespace, client: Any, version: cluster_runs.PipelineVersion, arguments: dict[str, Any]
) -> cluster_runs.StartedRun:
    from pipelines import cluster_runs

    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return cluster_runs.start_run(
        client,
        version,
        experiment=args.experiment,
        run_name=f"{args.trigger} {version.name} {stamp}",
        arguments=arguments,
        service_account=args.service_account,
    )


def _report(args: argparse.Namespace, run: cluster_runs.StartedRun) -> int:
    from pipelines import cluster_runs

    if args.json:
        print_json(dataclasses.asdict(run))
    else:
        print(
            f"run {run.run_id} ({run.name}) of version {run.version} in experiment {run.experiment}: {run.state}"
        )
    finished_badly = run.state in cluster_runs.FINISHED_STATES and run.state != "SUCCEEDED"
    return 1 if finished_badly else 0


def _say(args: argparse.Namespace, message: str) -> None:
    if not args.json:
        print(message, flush=True)
