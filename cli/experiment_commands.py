"""``mlops experiment run|compare|promote``: parameter sweeps on the production pipeline."""

from __future__ import annotations

import argparse
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cli.output import print_json
from components.settings import ProjectSettings
from contracts.errors import ConfigError, MlopsError
from contracts.names import MODEL_NAME

if TYPE_CHECKING:
    from components.experiments.compare import RunFacts
    from components.lineage import LineageStore
    from components.registry import ModelRegistry


EXPERIMENTS_DIR = "experiments"


def register_parsers(subparsers: Any) -> None:
    """Adds ``experiment run|compare|promote`` to the ``mlops`` subcommands."""
    from components.experiments.parameters import DEFAULT_WINDOW, valid_keys

    experiment = subparsers.add_parser(
        "experiment", help="parameter sweeps on the production pipeline, compared and promoted"
    ).add_subparsers(dest="experiment_command", required=True)

    run = experiment.add_parser(
        "run",
        help="run the training pipeline once per parameter set; candidates are registered, never promoted",
        description=f"Valid keys: {valid_keys()}.",
    )
    run.add_argument("name", help="the experiment's name (runs accumulate under it)")
    run.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="a value for every run")
    run.add_argument(
        "--grid", action="append", default=[], metavar="KEY=V1,V2", help="values to sweep (cartesian product)"
    )
    run.add_argument("--months", default=DEFAULT_WINDOW, help=f"training window (default {DEFAULT_WINDOW})")
    run.add_argument("--model", default=MODEL_NAME, help="registered model the candidates join")
    run.add_argument(
        "--request-id", help="the caller's id of this cycle; run N records ID-rN (default: one id per run)"
    )
    run.add_argument("--json", action="store_true", help="print the comparison as JSON")
    run.set_defaults(handler=experiment_run)

    show = experiment.add_parser("compare", help="every run's parameters and metrics, the best marked")
    show.add_argument("name")
    show.add_argument("--model", default=MODEL_NAME)
    show.add_argument("--json", action="store_true")
    show.add_argument("--html", type=Path, help="also write a self-contained page with AUC plots here")
    show.set_defaults(handler=experiment_compare)

    promote = experiment.add_parser(
        "promote",
        help="judge a run's candidate against production (evaluation on the same rows, infra validation)",
        description="The candidate goes through the same blessing as any pipeline run. Blessed, it waits "
        "for a rollout (mlops rollout start VERSION), or goes to production at once with --production.",
    )
    promote.add_argument("name")
    promote.add_argument("run", help="the run's label, e.g. r2")
    promote.add_argument("--production", action="store_true", help="promote at once when blessed")
    promote.add_argument("--model", default=MODEL_NAME)
    promote.add_argument("--json", action="store_true")
    promote.set_defaults(handler=experiment_promote)


def experiment_run(args: argparse.Namespace, settings: ProjectSettings) -> int:
    from components.experiments.parameters import parameter_sets
    from components.experiments.records import record_run
    from components.experiments.sweep import pipeline_arguments
    from components.lineage import open_store
    from components.settings import PROJECT_ROOT
    from components.triggers.guard import training_guard
    from components.versioning import git_version
    from pipelines.local_runner import new_request_id, run_pipeline_locally
    from pipelines.training import continuous_training

    sets = parameter_sets(args.set, args.grid)
    planned = [(parameters, pipeline_arguments(parameters, window=args.months)) for parameters in sets]
    if len({arguments["eval_month"] for _, arguments in planned}) > 1:
        raise ConfigError(
            "every run of an experiment is judged on the same month: --months and months= disagree"
        )
    code_version = git_version(PROJECT_ROOT)
    for index, (parameters, arguments) in enumerate(planned, start=1):
        request_id = f"{args.request_id}-r{index}" if args.request_id else new_request_id("exp")
        arguments.update(
            code_version=code_version,
            trigger=f"experiment:{args.name}",
            request_id=request_id,
            model_name=args.model,
        )
        shown = " ".join(f"{key}={value}" for key, value in parameters.items()) or "(pipeline defaults)"
        if not args.json:
            print(f"[{index}/{len(planned)}] {args.name}: {shown}", flush=True)
        started = time.monotonic()
        with training_guard(
            settings, model=args.model, trigger=str(arguments["trigger"]), request_id=request_id
        ):
            outcome = run_pipeline_locally(continuous_training, settings, arguments, quiet=True)
        wall = time.monotonic() - started
        with open_store(settings.metadata_uri) as store:
            run_id, version = _registered(store, args.model, outcome.request_id)
            label = record_run(
                store,
                args.name,
                parameters=parameters,
                eval_month=int(arguments["eval_month"]),
                run_id=run_id,
                succeeded=outcome.succeeded,
                error=outcome.error or "",
                version=version.version if version else "",
                version_artifact_id=version.artifact_id if version else 0,
                wall_seconds=wall,
            )
        if not args.json:
            result = f"{version.version} ({version.stage})" if version else f"failed: {outcome.error}"
            print(f"    {label}: {result} in {wall:.0f} s", flush=True)
    return experiment_compare(args, settings)


def experiment_compare(args: argparse.Namespace, settings: ProjectSettings) -> int:
    from components.experiments.compare import compare, render_html, render_text
    from components.experiments.records import experiment_runs
    from components.lineage import open_store
    from components.registry import ModelRegistry

    with open_store(settings.metadata_uri) as store:
        runs = experiment_runs(store, args.name)
        registry = ModelRegistry(store, model_name=args.model)
        # Training time is a property of the train step's Model artifact, found by the version's folder.
        trained = {a.uri: a.properties.get("training_seconds") for a in store.artifacts_of_type("Model")}
        facts = {run.label: _facts(registry, run.version, trained) for run in runs if run.version}
    rows = compare(runs, facts)
    if getattr(args, "html", None):
        args.html.parent.mkdir(parents=True, exist_ok=True)
        args.html.write_text(render_html(args.name, rows), encoding="utf-8")
    if args.json:
        print_json({"experiment": args.name, "runs": [row.to_dict() for row in rows]})
    else:
        print(render_text(args.name, rows))
        if getattr(args, "html", None):
            print(f"wrote {args.html}")
    return 0


def experiment_promote(args: argparse.Namespace, settings: ProjectSettings) -> int:
    from components.experiments.promotion import judge_candidate
    from components.experiments.records import find_run
    from components.ingest.step import feature_store
    from components.lineage import open_store
    from components.registry import ModelRegistry
    from components.settings import PROJECT_ROOT
    from components.versioning import git_version

    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    with open_store(settings.metadata_uri) as store:
        run = find_run(store, args.name, args.run)
        if not run.version:
            raise ConfigError(
                f"run {run.label} of {args.name!r} registered no model ({run.error or 'it failed'})"
            )
        registry = ModelRegistry(store, model_name=args.model, lock_path=settings.registry_lock, actor="cli")
        candidate = registry.get(run.version)
        if candidate.stage.value != "candidate":
            raise ConfigError(f"{candidate.version} is {candidate.stage.value}: only a candidate is promoted")
        production = registry.production()
        with store.execution(
            run_id=f"promotion-{args.name}-{run.label}-{stamp}",
            pipeline="experiment-promotion",
            component="judge",
            version=git_version(PROJECT_ROOT),
            parameters={"experiment": args.name, "run": run.label, "candidate": candidate.version},
        ) as step:
            step.add_input("model", "Model", uri=candidate.uri)
            if production is not None:
                step.add_input("production_model", "Model", uri=production.uri)
            judgement = judge_candidate(
                candidate,
                production,
                eval_month=run.eval_month,
                features=feature_store(str(settings.feature_repo)),
                work_dir=settings.state_dir / EXPERIMENTS_DIR / args.name / f"promotion-{run.label}-{stamp}",
            )
            evaluation = judgement.evaluation
            properties: dict[str, Any] = {
                "blessed": judgement.blessing.blessed,
                "auc": evaluation.candidate.overall.auc or 0.0,
                "data_fingerprint": evaluation.candidate.data_fingerprint,
            }
            if judgement.compared_with:
                properties["compared_with"] = judgement.compared_with
            step.add_output("evaluation", "Evaluation", uri=str(judgement.work_dir), properties=properties)
        blessing = judgement.blessing
        reason = (
            f"experiment {args.name} {run.label}: judged against {judgement.compared_with or 'no production'}"
        )
        version = registry.judge(
            candidate.version,
            blessed=blessing.blessed,
            metrics=blessing.metrics,
            checks=blessing.checks,
            reason=reason,
        )
        if blessing.blessed and args.production:
            version = registry.promote(version.version, reason=reason)
    result = {
        "version": version.version,
        "stage": version.stage.value,
        "blessed": blessing.blessed,
        "compared_with": judgement.compared_with,
        "failed_checks": blessing.failed,
        "evaluated_on": str(judgement.work_dir),
    }
    if args.json:
        print_json(result)
    elif blessing.blessed:
        then = "" if args.production else f"; roll it out with: mlops rollout start {version.version}"
        print(
            f"{version.version} is {version.stage.value}: blessed against {judgement.compared_with or 'no production'}{then}"
        )
    else:
        print(
            f"{version.version} is rejected against {judgement.compared_with}: {', '.join(blessing.failed)}"
        )
    return 0 if blessing.blessed else 1


def _registered(store: LineageStore, model: str, request_id: str) -> tuple[str, Any]:
    """The pipeline run of ``request_id`` and the version it registered (None when it registered none)."""
    from cli.run_summary import find_run as find_pipeline_run
    from components.registry import ModelRegistry

    run_id = find_pipeline_run(store, request_id) or ""
    versions = [
        v for v in ModelRegistry(store, model_name=model).list_versions() if run_id and v.run_id == run_id
    ]
    return run_id, versions[-1] if versions else None


def _facts(registry: ModelRegistry, version_name: str, trained: Mapping[str, Any]) -> RunFacts:
    from components.experiments.compare import RunFacts
    from components.serving.backends import served_files

    version = registry.get(version_name)
    seconds = trained.get(version.uri)
    try:
        size = sum(path.stat().st_size for path in served_files(Path(version.uri))) / 1e6
    except (MlopsError, OSError):  # a model folder that is gone still has its metrics to compare
        size = None
    return RunFacts(
        stage=version.stage.value,
        blessed=version.blessed,
        metrics=version.metrics,
        training_seconds=None if seconds is None else float(seconds),
        model_size_mb=size,
    )
