"""``mlops``: the user's entry point to the platform (pipeline environment)."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path

from cli import (
    commands,
    deploy_commands,
    experiment_commands,
    feature_commands,
    model_commands,
    monitor_commands,
    rollout_commands,
    serve_commands,
)
from components.images import DEFAULT_REGISTRY
from components.settings import ProjectSettings
from contracts.errors import MlopsError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mlops",
        description="Continuous training, validation, lineage and serving of a flight-delay model on Kubeflow.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="run the continuous-training pipeline locally (kfp.local)")
    run.add_argument("--data", type=Path, help="a batch file in the data contract (.csv or .parquet)")
    run.add_argument(
        "--months",
        default="1-6",
        help="months of 2013 to learn from (default 1-6); the month after them is the new batch the model "
        "is judged on, unless --data gives one (it must be later than the months learnt from)",
    )
    run.add_argument("--trigger", default="on-demand", help="why this run starts (recorded in lineage)")
    run.add_argument("--json", action="store_true", help="print the run summary as JSON")
    run.add_argument("--verbose", action="store_true", help="show every step's log (kfp.local)")
    run.add_argument(
        "--runner",
        choices=["forked", "subprocess", "docker"],
        default="forked",
        help="forked: steps in this environment, each forked from an interpreter that has imported its "
        "modules (default); subprocess: each step a new interpreter; docker: steps in the pipeline image",
    )
    run.set_defaults(handler=commands.run)

    data = sub.add_parser("data", help="the default data").add_subparsers(dest="data_command", required=True)
    export = data.add_parser("export", help="write one month's batch in the data contract")
    export.add_argument("--month", type=int, required=True, help="month of 2013, 1-12")
    export.add_argument("--out", type=Path, required=True, help="output file, .csv or .parquet")
    export.add_argument(
        "--corrupt",
        metavar="CASE",
        help="write the batch damaged as one bad-data case, to try the data gate (e.g. unknown-carrier; "
        "see components/validation/catalogue.py)",
    )
    export.add_argument("--json", action="store_true", help="print what was written as JSON")
    export.set_defaults(handler=commands.data_export)

    schema = sub.add_parser("schema", help="the data schema").add_subparsers(
        dest="schema_command", required=True
    )
    infer = schema.add_parser(
        "infer", help="draft a schema from any batch, to curate by hand (see components/schema/README.md)"
    )
    infer.add_argument("--data", type=Path, required=True, help="a batch file (.csv or .parquet)")
    infer.add_argument("--out", type=Path, required=True, help="where to write the draft (.pbtxt)")
    infer.set_defaults(handler=commands.schema_infer)

    runs = sub.add_parser("runs", help="pipeline runs in the lineage store").add_subparsers(
        dest="runs_command", required=True
    )
    runs_list = runs.add_parser("list", help="list recorded runs")
    runs_list.add_argument("--json", action="store_true")
    runs_list.set_defaults(handler=commands.runs_list)
    runs_show = runs.add_parser("show", help="the steps of one run: versions, timings, parameters, artifacts")
    runs_show.add_argument("run_id", help="run id (from `mlops runs list`)")
    runs_show.add_argument("--json", action="store_true")
    runs_show.set_defaults(handler=commands.runs_show)

    model_commands.register_parsers(sub)
    serve_commands.register_parsers(sub)
    deploy_commands.register_parsers(sub)
    feature_commands.register_parsers(sub)
    monitor_commands.register_parsers(sub)
    rollout_commands.register_parsers(sub)
    experiment_commands.register_parsers(sub)

    pipeline = sub.add_parser("pipeline", help="pipeline specs").add_subparsers(
        dest="pipeline_command", required=True
    )
    compile_ = pipeline.add_parser("compile", help="compile the pipelines to KFP IR YAML")
    compile_.add_argument("--out", type=Path, default=Path("build/pipelines"), help="output folder")
    compile_.add_argument(
        "--images", type=Path, help="pin every image by digest from this images.json (written by `make push`)"
    )
    compile_.set_defaults(handler=commands.pipeline_compile)

    images = sub.add_parser("images", help="container images of the dependency sets").add_subparsers(
        dest="images_command", required=True
    )
    images_list = images.add_parser("list", help="print each dependency set and its image reference")
    images_list.add_argument("--registry", default=DEFAULT_REGISTRY, help=f"default {DEFAULT_REGISTRY}")
    images_list.add_argument("--json", action="store_true")
    images_list.set_defaults(handler=commands.images_list)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Runs one command: 0 on success, 1 on a refused or failed one (the reason on one stderr line), 2 on
    a usage error (argparse's), and 141 when the reader of the output went away, as Unix tools do."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    # Google client libraries warn about Python support dates on import; not the user's concern here.
    warnings.filterwarnings("ignore", category=FutureWarning)
    args = build_parser().parse_args(argv)
    settings = ProjectSettings.resolve()
    try:
        code = int(args.handler(args, settings))
        sys.stdout.flush()
        return code
    except MlopsError as exc:
        print(f"mlops: error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        _silence_stdout()
        return 128 + signal.SIGPIPE


def _silence_stdout() -> None:
    """Points stdout at /dev/null so that the interpreter's final flush does not fail on the closed pipe."""
    try:
        descriptor = sys.stdout.fileno()
    except (OSError, ValueError):
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, descriptor)
    os.close(devnull)


if __name__ == "__main__":
    sys.exit(main())
