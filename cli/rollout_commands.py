"""``mlops rollout start|status|promote|abort|render|report``: online validation of a registered version.

Each command takes ``(args, settings)`` and returns an exit code, like ``cli/model_commands.py``;
``register_parsers`` adds them to the ``mlops`` parser. ``--local`` runs everything on this machine
(Seldon microservices behind the local proxy, state in ``.mlops/rollout``); without it the commands
drive a SeldonDeployment in the current kube context, judging steps on Prometheus.
"""

from __future__ import annotations

import argparse
import getpass
import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cli.output import format_table, print_json
from components.settings import ProjectSettings
from contracts.errors import ConfigError, RolloutError
from contracts.names import MODEL_NAME

if TYPE_CHECKING:
    from components.registry import ModelRegistry
    from components.rollout.core.actuator import Actuator, MetricsSource
    from components.rollout.core.config import RolloutConfig
    from components.rollout.core.state import RolloutState


LOCAL_FOLDER = "rollout"


def register_parsers(subparsers: Any) -> None:
    """Adds ``rollout`` and its subcommands to the ``mlops`` subcommands."""
    from components.rollout.core.config import DEFAULT_CONFIG_PATH

    rollout = subparsers.add_parser(
        "rollout",
        help="canary, shadow, A/B and bandit rollouts judged on live traffic, with automatic promotion or rollback",
    )
    commands = rollout.add_subparsers(dest="rollout_command", required=True, metavar="COMMAND")

    start = commands.add_parser(
        "start",
        help="roll a registered version out against production and stay until it is promoted or rejected",
        description="Steps the candidate's traffic up (canary) or mirrors/splits/routes it (shadow, ab, bandit), "
        "judges each step on error rate, p99 latency, prediction divergence and fed-back accuracy, and "
        "promotes or rejects it in the registry. Starting the same version again resumes its rollout.",
    )
    start.add_argument("version", help="the candidate version, e.g. v4")
    start.add_argument("--strategy", default="canary", help="canary (default), shadow, ab or bandit")
    start.add_argument(
        "--window", type=float, help="seconds of traffic judged per step (default: rollout.toml)"
    )
    start.add_argument("--config", type=Path, default=DEFAULT_CONFIG_PATH, help="steps and thresholds (TOML)")
    start.add_argument("--port", type=int, default=9000, help="--local: the proxy's port on 127.0.0.1")
    start.add_argument("--prometheus", help="cluster: Prometheus URL the step windows are read from")
    start.add_argument(
        "--namespace-label",
        default="namespace",
        help="cluster: the label holding the namespace in Prometheus",
    )
    start.add_argument("--image", default=None, help="cluster: serving image (default: the project's)")
    _feature_server_argument(start)
    _common(start)
    start.set_defaults(handler=rollout_start)

    status = commands.add_parser("status", help="the rollout's phase, step, weights and last analysis")
    _common(status)
    status.set_defaults(handler=rollout_status)

    for action, text in (
        ("promote", "finish the rollout now: the candidate goes to production"),
        ("abort", "stop the rollout now: all traffic back to the production version"),
    ):
        command = commands.add_parser(
            action,
            help=text,
            description=f"{text[0].upper()}{text[1:]}. Sets the rollout.flights-mlops.io/request annotation; the "
            "running controller acts on it at its next look (as `kubectl annotate` would).",
        )
        _common(command)
        command.set_defaults(handler=rollout_request, action=action)

    render = commands.add_parser(
        "render", help="print the SeldonDeployment YAML of a strategy, for kubectl apply"
    )
    render.add_argument("version", help="the candidate version (production is the main version)")
    render.add_argument("--strategy", default="canary", help="canary, shadow, ab or bandit")
    render.add_argument("--weight", type=int, help="the candidate's traffic share (default: the first step)")
    render.add_argument("--image", default=None, help="serving image (default: the project's)")
    _feature_server_argument(render)
    render.add_argument("--out", type=Path, help="write to this file instead of printing")
    _common(render)
    render.set_defaults(handler=rollout_render)

    report = commands.add_parser(
        "report", help="--local: A/B analysis per origin and carrier from the local proxy's traffic log"
    )
    report.add_argument("--out", type=Path, help="write the Markdown report to this file")
    report.add_argument("--min-labelled", type=int, default=30, help="labels per version to call a segment")
    _common(report)
    report.set_defaults(handler=rollout_report, local=True)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--local", action="store_true", help="on this machine rather than in the cluster")
    parser.add_argument("--name", default=MODEL_NAME, help="the SeldonDeployment's name")
    parser.add_argument("--namespace", default="flights-mlops", help="its namespace (cluster)")
    parser.add_argument("--context", help="kube context (default: the current one)")
    parser.add_argument("--model", default=MODEL_NAME, help="registered model name")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


def _feature_server_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--feature-server-url",
        default="",
        metavar="URL",
        help="cluster: Feast's feature server as the model servers reach it (http://feature-server:6566 in "
        "the namespace of manifests/base/features): every model is rendered behind the feature-store "
        "TRANSFORMER, and requests carry booking-time fields only (default: none, models take full rows)",
    )


def rollout_start(args: argparse.Namespace, settings: ProjectSettings) -> int:
    """Starts (or resumes) a rollout and reconciles it until it is promoted, rejected or aborted."""
    from components.images import serving_image
    from components.rollout.core.config import load_config
    from components.rollout.core.controller import DeploymentTarget, RolloutController
    from components.rollout.core.ledger import RolloutLedger
    from components.rollout.core.strategy import parse_strategy

    strategy = parse_strategy(args.strategy)
    if args.local and args.feature_server_url:
        raise ConfigError(
            "--feature-server-url renders a cluster's transformers; a --local rollout serves full rows "
            "(for booking-time requests on this machine: mlops serve --features)"
        )
    config = load_config(args.config)
    if args.window is not None:
        config = config.with_overrides(steps={"window_seconds": args.window})
    report = _reporter(args)
    with _registry(args, settings) as (store, registry), _actuator(args, settings) as actuator:
        metrics = _metrics(args, actuator)
        target = DeploymentTarget(
            name=args.name,
            namespace=args.namespace,
            image=args.image or serving_image(),
            feature_server_url=args.feature_server_url,
        )
        controller = RolloutController(
            actuator, metrics, RolloutLedger(store, registry), config, target=target, report=report
        )
        state = controller.start(args.version, strategy)
        _announce(args, actuator, config, state)
        try:
            final = controller.run()
        except KeyboardInterrupt:
            report(
                f"interrupted: rollout {state.rollout_id} stays at step {state.step + 1}; "
                f"`mlops rollout start {args.version}{' --local' if args.local else ''}` resumes it, "
                f"`mlops rollout abort{' --local' if args.local else ''}` stops it"
            )
            return 130
    if args.json:
        print_json(final.to_dict())
    else:
        print(f"{final.rollout_id}: {final.phase.value} - {final.message}")
    return 0 if final.phase.value == "succeeded" else 1


def rollout_status(args: argparse.Namespace, settings: ProjectSettings) -> int:
    """Prints the rollout the deployment carries; exit 1 when there is none."""
    with _actuator(args, settings, start_servers=False) as actuator:
        state = actuator.observe().state
    if state is None:
        print_json({"rollout": None}) if args.json else print(
            "no rollout: start one with mlops rollout start"
        )
        return 1
    if args.json:
        print_json(state.to_dict())
        return 0
    summary = state.to_dict()
    for key in (
        "rollout_id",
        "strategy",
        "main_version",
        "candidate_version",
        "phase",
        "candidate_weight",
        "message",
    ):
        print(f"{key:18} {summary[key]}")
    print(
        f"{'step':18} {state.step + 1} of {len(state.weights)} (weights {', '.join(map(str, state.weights))})"
    )
    print(f"{'step started':18} {summary['step_started_at']}")
    checks = state.last_analysis.get("checks", [])
    if checks:
        print()
        print(
            format_table(
                [{**c, "passed": c["passed"]} for c in checks], ["name", "value", "threshold", "passed"]
            )
        )
    return 0


def rollout_request(args: argparse.Namespace, settings: ProjectSettings) -> int:
    """Asks the running controller to promote or abort (the ``request`` annotation)."""
    with _actuator(args, settings, start_servers=False) as actuator:
        state = actuator.request(args.action)
    if args.json:
        print_json(state.to_dict())
    else:
        print(f"{state.rollout_id}: {args.action} requested; the controller acts on it at its next look")
    return 0


def rollout_render(args: argparse.Namespace, settings: ProjectSettings) -> int:
    """Prints (or writes) the manifests of a strategy for the production version and a candidate."""
    from components.images import serving_image
    from components.rollout.core.config import load_config
    from components.rollout.core.render import DeploymentPlan, ServedVersion, render_manifests, to_yaml
    from components.rollout.core.strategy import candidate_weights, parse_strategy

    strategy = parse_strategy(args.strategy)
    with _registry(args, settings) as (_, registry):
        main = registry.production()
        if main is None:
            raise RolloutError(f"model {registry.model_name!r} has no production version to render against")
        candidate = registry.get(args.version)
    weight = args.weight if args.weight is not None else candidate_weights(strategy, load_config().steps)[0]
    plan = DeploymentPlan(
        main=ServedVersion.of(main),
        candidate=ServedVersion.of(candidate),
        strategy=strategy,
        candidate_weight=weight,
        name=args.name,
        namespace=args.namespace,
        image=args.image or serving_image(),
        feature_server_url=args.feature_server_url,
    )
    text = to_yaml(render_manifests(plan))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")
        print(f"wrote {args.out}")
    else:
        print(text, end="")
    return 0


def rollout_report(args: argparse.Namespace, settings: ProjectSettings) -> int:
    """Writes the A/B analysis of the local rollout's traffic: per origin and carrier, with intervals."""
    from components.rollout.core.ab_report import compare, read_traffic_log, render_markdown

    folder = settings.state_dir / LOCAL_FOLDER
    with _actuator(args, settings, start_servers=False) as actuator:
        state = actuator.observe().state
    if state is None:
        raise RolloutError(f"no local rollout in {folder}")
    exchanges, truth = read_traffic_log(folder / "traffic.jsonl", since=_rollout_start(state))
    comparisons = compare(
        exchanges,
        truth,
        version_a=state.main_version,
        version_b=state.candidate_version,
        min_labelled=args.min_labelled,
    )
    text = render_markdown(
        comparisons, version_a=state.main_version, version_b=state.candidate_version, period=state.rollout_id
    )
    if args.out:
        args.out.write_text(text, encoding="utf-8")
        print(f"wrote {args.out}")
    else:
        print(text, end="")
    return 0


@contextmanager
def _registry(args: argparse.Namespace, settings: ProjectSettings) -> Iterator[tuple[Any, ModelRegistry]]:
    from components.lineage import open_store
    from components.registry import ModelRegistry

    with open_store(settings.metadata_uri) as store:
        actor = f"cli:{getpass.getuser()}"
        yield (
            store,
            ModelRegistry(store, model_name=args.model, lock_path=settings.registry_lock, actor=actor),
        )


@contextmanager
def _actuator(
    args: argparse.Namespace, settings: ProjectSettings, *, start_servers: bool = True
) -> Iterator[Any]:
    if not args.local:
        from components.rollout.kubernetes.actuator import KubernetesActuator

        yield KubernetesActuator.connect(name=args.name, namespace=args.namespace, context=args.context)
        return
    folder = settings.state_dir / LOCAL_FOLDER
    if not start_servers:
        from components.rollout.local.deployment_file import DeploymentFile

        yield DeploymentFile(folder / "deployment.json")
        return
    from components.rollout.local.actuator import LocalActuator

    actuator = LocalActuator(
        folder, port=getattr(args, "port", 0), request_log=settings.state_dir / "requests"
    )
    try:
        yield actuator
    finally:
        actuator.close()


def _metrics(args: argparse.Namespace, actuator: Actuator) -> MetricsSource:
    if args.local:
        return actuator  # type: ignore[return-value]  # the local actuator reads its proxy's windows
    if not args.prometheus:
        raise RolloutError(
            "--prometheus URL is needed to judge steps in a cluster (or roll out with --local)"
        )
    from components.rollout.kubernetes.prometheus import PrometheusMetrics

    return PrometheusMetrics(
        args.prometheus, deployment=args.name, namespace=args.namespace, namespace_label=args.namespace_label
    )


def _announce(args: argparse.Namespace, actuator: Any, config: RolloutConfig, state: RolloutState) -> None:
    if args.json:
        return
    steps = ", ".join(f"{w}%" for w in state.weights)
    print(
        f"rollout {state.rollout_id}: {state.strategy} of {state.candidate_version} against {state.main_version}"
    )
    print(f"steps {steps}, {config.steps.window_seconds:g} s of traffic judged per step")
    if args.local:
        print(
            f"traffic goes to {actuator.predictions_url} (e.g. mlops loadtest --url {actuator.predictions_url} ...)"
        )
        print(
            "feedback (ground truth) to the same host at /api/v1.0/feedback; Ctrl-C leaves the rollout to resume"
        )


def _reporter(args: argparse.Namespace) -> Callable[[str], None]:
    def report(line: str) -> None:
        if not args.json:
            print(f"{time.strftime('%H:%M:%S')} {line}", flush=True)

    return report


def _rollout_start(state: RolloutState) -> float:
    """When the rollout started: its id ends with that UTC second; earlier log lines are older rollouts'."""
    try:
        started = datetime.strptime(state.rollout_id.rsplit("-", 1)[-1], "%Y%m%dt%H%M%S")
    except ValueError:
        return -math.inf
    return started.replace(tzinfo=UTC).timestamp()
