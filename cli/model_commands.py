"""The work behind ``mlops models list|show|rollback`` and ``mlops lineage VERSION``.

Each command takes ``(args, settings)`` and returns an exit code, like those in ``cli/commands.py``;
``register_parsers`` adds their subcommands to the ``mlops`` parser in one call.
"""

from __future__ import annotations

import argparse
import getpass
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from cli.output import format_table, print_json
from components.settings import ProjectSettings
from contracts.names import MODEL_NAME

if TYPE_CHECKING:
    from components.lineage import LineageStore
    from components.registry import ModelRegistry, ModelVersion


DEFAULT_ROLLBACK_REASON = "rolled back from the command line"


def register_parsers(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Adds ``models list|show|rollback`` and ``lineage VERSION`` to the ``mlops`` subcommands.

    Args:
        subparsers: What ``parser.add_subparsers()`` returned.
    """
    models = subparsers.add_parser("models", help="registered model versions, their stages and rollback")
    commands = models.add_subparsers(dest="models_command", required=True, metavar="COMMAND")

    listing = commands.add_parser("list", help="every version with its stage, blessing and headline metrics")
    _common(listing)
    listing.set_defaults(handler=models_list)

    show = commands.add_parser("show", help="one version: registry fields, blessing checks, stage history")
    show.add_argument("version", help="version name, e.g. v3 (or 3)")
    _common(show)
    show.set_defaults(handler=models_show)

    rollback = commands.add_parser(
        "rollback",
        help="put the previous production version back in production",
        description="The production version becomes rolled_back; the version it replaced becomes production.",
    )
    rollback.add_argument("--reason", default=DEFAULT_ROLLBACK_REASON, help="why, recorded in the history")
    rollback.add_argument(
        "--cluster",
        action="store_true",
        help="also set the cluster's SeldonDeployment back (default: restart a local `mlops serve`)",
    )
    rollback.add_argument("--name", default=MODEL_NAME, help="--cluster: the SeldonDeployment's name")
    rollback.add_argument("--namespace", default="flights-mlops", help="--cluster: its namespace")
    rollback.add_argument("--context", help="--cluster: kube context (default: the current one)")
    rollback.add_argument("--image", help="--cluster: serving image (default: the project's)")
    rollback.add_argument(
        "--feature-server-url",
        default="",
        help="--cluster: the feature server the models reach, when they run behind the transformer",
    )
    _common(rollback)
    rollback.set_defaults(handler=models_rollback)

    report = subparsers.add_parser(
        "lineage", help="where a model version came from: data, steps, parameters, timings, metrics"
    )
    report.add_argument("version", help="version name, e.g. v3 (or 3)")
    _common(report)
    report.set_defaults(handler=lineage)


def models_list(args: argparse.Namespace, settings: ProjectSettings) -> int:
    """Prints every version of the model, oldest first, marking the one in production."""
    from components.registry import Stage

    with _registry(args, settings) as (_, registry):
        versions = registry.list_versions()
    production = next((v.version for v in versions if v.stage is Stage.PRODUCTION), None)
    if args.json:
        print_json(
            {
                "model": registry.model_name,
                "production": production,
                "versions": [v.to_dict() for v in versions],
            }
        )
        return 0
    if not versions:
        print(f"model {registry.model_name!r} has no registered versions")
        return 0
    print(format_table([_row(v) for v in versions], list(_row(versions[0]))))
    return 0


def models_show(args: argparse.Namespace, settings: ProjectSettings) -> int:
    """Prints one version's registry fields and stage history."""
    with _registry(args, settings) as (_, registry):
        version = registry.get(args.version)
        history = registry.history(version.version)
    if args.json:
        print_json({"version": version.to_dict(), "transitions": [t.to_dict() for t in history]})
        return 0
    for key, value in version.to_dict().items():
        if key not in ("metrics", "blessing_checks"):
            print(f"{key:20} {'-' if value is None else value}")
    print(f"{'metrics':20} {json.dumps(version.metrics, sort_keys=True)}")
    print()
    checks = [
        {
            "check": c.get("name", "?"),
            "passed": c.get("passed"),
            "value": c.get("value"),
            "threshold": c.get("threshold"),
        }
        for c in version.blessing_checks
    ]
    print(format_table(checks, ["check", "passed", "value", "threshold"]))
    print()
    rows = [
        {
            "#": t.sequence,
            "time": t.time.isoformat(),
            "from": t.from_stage or "(new)",
            "to": t.to_stage,
            "trigger": t.trigger,
            "actor": t.actor,
            "reason": t.reason,
        }
        for t in history
    ]
    print(format_table(rows, ["#", "time", "from", "to", "trigger", "actor", "reason"]))
    return 0


def models_rollback(args: argparse.Namespace, settings: ProjectSettings) -> int:
    """Returns production to the previous production version and switches what is served to it.

    Locally, a running ``mlops serve`` that follows production is restarted on the restored version. With
    ``--cluster``, the SeldonDeployment is set back first (refused while a rollout is in progress), then
    the registry follows, so a refusal leaves both as they were. Fails (exit 1) when there is nothing to
    roll back to.
    """
    reason = getattr(args, "reason", None) or DEFAULT_ROLLBACK_REASON
    cluster = bool(getattr(args, "cluster", False))
    with _registry(args, settings, actor=f"cli:{_user()}") as (_, registry):
        before = registry.production()
        if cluster:
            _restore_cluster_deployment(args, registry)
        restored = registry.rollback(reason=reason)
        withdrawn = registry.get(before.version) if before else None
    served = None
    if not cluster:
        from cli.serve_commands import restart_on

        served = restart_on(restored, registry.model_name, settings)
    if args.json:
        print_json(
            {
                "model": registry.model_name,
                "production": restored.to_dict(),
                "rolled_back": None if withdrawn is None else withdrawn.to_dict(),
                "served": served,
                "deployment": f"{args.namespace}/{args.name}" if cluster else None,
            }
        )
        return 0
    was = withdrawn.version if withdrawn else "?"
    print(f"{registry.model_name}: {was} is rolled_back; {restored.version} is in production again")
    if cluster:
        print(f"the SeldonDeployment {args.namespace}/{args.name} serves {restored.version}")
    elif served is not None:
        print(f"the local model server was restarted on {restored.version} at {served['predictions_url']}")
    return 0


def _restore_cluster_deployment(args: argparse.Namespace, registry: ModelRegistry) -> None:
    """Sets the SeldonDeployment to the version a rollback restores, through the rollout actuator."""
    from components.images import serving_image
    from components.rollout.core.controller import DeploymentTarget
    from components.rollout.core.restore import check_restorable, restore
    from components.rollout.kubernetes.actuator import KubernetesActuator

    actuator = KubernetesActuator.connect(name=args.name, namespace=args.namespace, context=args.context)
    expected = check_restorable(actuator)
    target = DeploymentTarget(
        name=args.name,
        namespace=args.namespace,
        image=args.image or serving_image(),
        feature_server_url=args.feature_server_url,
    )
    restore(actuator, registry.rollback_target(), target, expected=expected)


def lineage(args: argparse.Namespace, settings: ProjectSettings) -> int:
    """Prints where a version came from: every upstream step with its data, parameters and timings."""
    from components.registry.report import version_lineage
    from components.registry.report_text import render_lineage

    with _registry(args, settings) as (store, registry):
        report = version_lineage(store, registry, args.version)
    if args.json:
        print_json(report)
    else:
        print(render_lineage(report))
    return 0


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", default=MODEL_NAME, help=f"registered model (default {MODEL_NAME})")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")


@contextmanager
def _registry(
    args: argparse.Namespace, settings: ProjectSettings, *, actor: str = "cli"
) -> Iterator[tuple[LineageStore, ModelRegistry]]:
    from components.lineage import open_store
    from components.registry import ModelRegistry

    with open_store(settings.metadata_uri) as store:
        yield (
            store,
            ModelRegistry(
                store,
                model_name=getattr(args, "model", None) or MODEL_NAME,
                lock_path=settings.registry_lock,
                actor=actor,
            ),
        )


def _row(version: ModelVersion) -> dict[str, Any]:
    metrics = version.metrics
    return {
        "version": version.version,
        "stage": version.stage.value,
        "blessed": "yes" if version.blessed else "no",
        "auc": _metric(metrics.get("auc")),
        "log_loss": _metric(metrics.get("log_loss")),
        "accuracy": _metric(metrics.get("accuracy")),
        "run_id": version.run_id,
        "registered": version.registered_at.isoformat(timespec="seconds"),
        "previous": version.previous_production or "",
    }


def _metric(value: object) -> str:
    return f"{value:.4f}" if isinstance(value, float) else ""


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        # No login name in some containers (no passwd entry, no USER variable).
        return "unknown"
