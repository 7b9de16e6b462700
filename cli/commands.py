"""The work behind each ``mlops`` command; the parser lives in ``cli/main.py``."""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from cli.output import format_table, print_json
from components.settings import PROJECT_ROOT, ProjectSettings
from contracts.errors import ConfigError
from contracts.names import MODEL_NAME


def run(args: argparse.Namespace, settings: ProjectSettings) -> int:
    from cli.run_summary import find_run, summarise_run
    from components.lineage import open_store
    from components.time_order.logic import (
        TrainingWindow,
        check_file_after_window,
        describe_months,
        parse_months,
    )
    from components.versioning import git_version
    from pipelines.local_runner import Runner, new_request_id, run_pipeline_locally
    from pipelines.training import PIPELINE_NAME, continuous_training

    window = TrainingWindow(tuple(parse_months(args.months)))
    if args.data:
        check_file_after_window(args.data, window)
        new_batch = str(args.data)
    else:
        new_batch = f"month {window.new_batch_month}"
    arguments: dict[str, object] = {
        "code_version": git_version(PROJECT_ROOT),
        "trigger": args.trigger,
        "train_months": list(window.train_months),
        # With --data the file is the new batch; the month argument is then unused by the pipeline.
        "eval_month": window.last_month if args.data else window.new_batch_month,
        "previous_month": window.drift_reference_month,
        "data_file": str(batch_file_for_steps(args.data, settings, args.runner)) if args.data else "",
    }
    if not args.json:
        where = "in the pipeline image (docker)" if args.runner == "docker" else "locally"
        print(
            f"running {PIPELINE_NAME} {where}: learns from months {describe_months(window.train_months)} of 2013, "
            f"new batch {new_batch}, drift reference month {window.drift_reference_month} "
            f"(lineage: {settings.metadata_uri})",
            flush=True,
        )
    from components.triggers.guard import training_guard

    # One training run per model at a time; the run is recorded as the reason it started (trigger ledger).
    arguments["request_id"] = new_request_id()
    with training_guard(
        settings, model=MODEL_NAME, trigger=args.trigger, request_id=str(arguments["request_id"])
    ):
        outcome = run_pipeline_locally(
            continuous_training, settings, arguments, quiet=not args.verbose, runner=Runner(args.runner)
        )
    with open_store(settings.metadata_uri) as store:
        summary = summarise_run(store, find_run(store, outcome.request_id), outcome)
    if args.json:
        print_json(summary)
    else:
        print(summary["text"])
    return 0 if outcome.succeeded else 1


def batch_file_for_steps(data: Path, settings: ProjectSettings, runner: str) -> Path:
    """The batch file as the steps see it: containers see only the state folder, so it is copied there."""
    from pipelines.local_runner import Runner

    data = data.resolve()
    if runner != Runner.DOCKER or data.is_relative_to(settings.state_dir):
        return data
    if not data.is_file():
        raise ConfigError(f"no batch file at {data}")
    inbox = settings.state_dir / "inbox"
    inbox.mkdir(parents=True, exist_ok=True)
    inbox.chmod(0o777)
    return Path(shutil.copy2(data, inbox / data.name))


def data_export(args: argparse.Namespace, settings: ProjectSettings) -> int:
    from components.features.offline import OfflineFeatures
    from components.ingest.batch_io import write_batch
    from components.ingest.logic import load_months

    frame = load_months([args.month], OfflineFeatures(settings.feature_repo))
    if args.corrupt:
        from components.validation.catalogue import bad_data_case

        case = bad_data_case(args.corrupt)
        path = case.write(frame, args.out)
    else:
        path = write_batch(frame, args.out)
    written = {"month": args.month, "rows": len(frame), "columns": frame.shape[1], "path": str(path)}
    if args.corrupt:
        written["corrupted_as"] = args.corrupt
    if args.json:
        print_json(written)
    else:
        damage = f", corrupted as {args.corrupt}" if args.corrupt else ""
        print(
            f"wrote {written['rows']} flights of 2013-{args.month:02d} ({written['columns']} columns{damage}) to {path}"
        )
    return 0


def schema_infer(args: argparse.Namespace, settings: ProjectSettings) -> int:
    from components.ingest.batch_io import read_batch
    from components.schema.logic import infer_draft_schema, write_schema

    frame = read_batch(args.data)
    draft = infer_draft_schema(frame)
    write_schema(draft, args.out)
    print(
        f"drafted a schema of {len(draft.feature)} features from {len(frame)} rows of {args.data} into {args.out}"
    )
    print("curate it before use: domains, value ranges, presence (see components/schema/README.md)")
    return 0


def runs_list(args: argparse.Namespace, settings: ProjectSettings) -> int:
    from components.lineage import open_store

    with open_store(settings.metadata_uri) as store:
        runs = store.list_runs()
    if args.json:
        print_json([record.to_dict() for record in runs])
    else:
        print(format_table([record.to_dict() for record in runs], ["run_id", "pipeline", "created"]))
    return 0


def runs_show(args: argparse.Namespace, settings: ProjectSettings) -> int:
    from components.lineage import open_store

    with open_store(settings.metadata_uri) as store:
        executions = store.executions_of_run(args.run_id)
    if args.json:
        print_json([record.to_dict() for record in executions])
        return 0
    rows = [
        {
            "step": record.component,
            "state": record.state.value,
            "version": record.version,
            "seconds": f"{record.duration_seconds:.2f}",
            "outputs": ", ".join(f"{a.name}:{a.type}" for a in record.outputs),
        }
        for record in executions
    ]
    print(format_table(rows, ["step", "state", "version", "seconds", "outputs"]))
    return 0


def pipeline_compile(args: argparse.Namespace, settings: ProjectSettings) -> int:
    from pipelines.compile import compile_pipelines
    from pipelines.image_pins import read_pins

    pins = read_pins(args.images) if args.images else None
    for path in compile_pipelines(args.out, pins):
        print(f"compiled {path}" + (f" (images pinned from {args.images})" if pins else " (images by tag)"))
    return 0


def images_list(args: argparse.Namespace, settings: ProjectSettings) -> int:
    from components.images import IMAGE_NAMES, image_ref

    refs = {dependency_set: image_ref(dependency_set, args.registry) for dependency_set in IMAGE_NAMES}
    if args.json:
        print_json(refs)
    else:
        for dependency_set, ref in refs.items():
            print(f"{dependency_set} {ref}")
    return 0
