"""``mlops monitor``, ``mlops watch`` and ``mlops retrain``: production monitoring and retraining triggers.

- ``monitor check``: one look at production (report, metrics, verdict); with ``--act`` it is one tick of
  the watcher: it records the check and lets the triggers start a run (locally, or in a cluster through
  ``kfp.Client().create_run_from_pipeline_package`` with ``--kfp-host``: the monitor CronJob).
- ``monitor feedback FILE``: stores true outcomes of served requests, refusing a bad file whole.
- ``monitor triggers``: the trigger ledger (checks, decisions with reasons, leases, landed batches).
- ``watch``: the local loop: schedule (``--every``), new data (``--inbox``), drift and degradation.
- ``retrain``: one guarded training run on a recent data window (what a fired trigger runs).
"""

from __future__ import annotations

import argparse
import contextlib
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cli.output import format_table, print_json
from components.settings import ProjectSettings
from contracts.errors import ConfigError
from contracts.names import MODEL_NAME

if TYPE_CHECKING:
    from components.triggers.launch import RetrainRequest
    from components.triggers.lease import TrainingLease
    from components.triggers.ledger import LedgerEntry, TriggerLedger
    from components.triggers.policy import TriggerPolicy


if TYPE_CHECKING:  # the watcher imports TFDV and TensorFlow: only commands that watch pay for them
    from components.lineage import LineageStore
    from components.monitoring.config import MonitorConfig
    from components.triggers.launch import Launcher
    from components.triggers.watch import Event, Watcher, WatchPlan


def parse_duration(text: str) -> float:
    """Seconds in ``90``, ``90s``, ``15m``, ``6h`` or ``1d``.

    Raises:
        ConfigError: for anything else, or a duration that is not positive.
    """
    units = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
    text = text.strip().lower()
    scale = units.get(text[-1:])
    number = text[:-1] if scale else text
    try:
        seconds = float(number) * (scale or 1.0)
    except ValueError:
        raise ConfigError(f"a duration looks like 90s, 15m, 6h or 1d; got {text!r}") from None
    if seconds <= 0:
        raise ConfigError(f"a duration must be positive, got {text!r}")
    return seconds


def _duration(text: str) -> float:
    try:
        return parse_duration(text)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def register_parsers(subparsers: Any) -> None:
    """Adds ``monitor``, ``watch`` and ``retrain`` to the ``mlops`` subcommands."""
    from components.triggers.kinds import TriggerKind

    monitor = subparsers.add_parser(
        "monitor", help="production monitoring: check, feed back outcomes, trigger history"
    ).add_subparsers(dest="monitor_command", required=True, metavar="COMMAND")

    check = monitor.add_parser(
        "check",
        help="judge the production model on its served requests and fed-back outcomes",
        description="Reads the request log and the feedback over the sliding window, measures drift and skew "
        "against the training statistics and live performance against evaluation, and writes a report and "
        "Prometheus metrics. With --act, records the check and lets the triggers start a retraining run.",
    )
    _watch_arguments(check)
    check.add_argument(
        "--act", action="store_true", help="record the check and start a run when a trigger fires"
    )
    check.add_argument("--kfp-host", help="start runs in this Kubeflow Pipelines (the monitor CronJob)")
    check.add_argument(
        "--package", type=Path, help="compiled spec to run in the cluster (default: newest uploaded)"
    )
    check.add_argument("--experiment", default="flights-mlops", help="experiment of cluster runs")
    check.add_argument(
        "--service-account", default="flights-mlops-pipeline-runner", help="account of cluster runs' pods"
    )
    check.add_argument("--pushgateway", help="also push the metrics to this Prometheus Pushgateway URL")
    check.add_argument("--json", action="store_true", help="print the check as JSON")
    check.set_defaults(handler=monitor_check)

    feedback = monitor.add_parser(
        "feedback",
        help="store true outcomes of served requests (JSON lines or CSV: request_id, row, delayed)",
        description="Checks the whole file first: a bad line refuses the file, naming every bad line, and "
        "nothing is stored.",
    )
    feedback.add_argument("file", type=Path, help="feedback file (.jsonl or .csv)")
    feedback.add_argument("--json", action="store_true")
    feedback.set_defaults(handler=monitor_feedback)

    triggers = monitor.add_parser("triggers", help="the trigger ledger: checks, decisions, leases, batches")
    triggers.add_argument("--model", default=MODEL_NAME)
    triggers.add_argument("--last", type=int, default=30, help="newest entries to show (default 30)")
    triggers.add_argument("--json", action="store_true")
    triggers.set_defaults(handler=monitor_triggers)

    watch = subparsers.add_parser(
        "watch",
        help="run the triggers in a loop: schedule, new data, drift, degradation",
        description="Each tick looks at every enabled trigger and starts at most one retraining run "
        "(mlops retrain in a child process). Debounce, rate limits and the training lease are in "
        "components/triggers/policy.toml.",
    )
    _watch_arguments(watch)
    watch.add_argument("--every", type=_duration, help="schedule trigger: a run this often (e.g. 1d)")
    watch.add_argument("--poll", type=_duration, default=60.0, help="seconds between ticks (default 60)")
    watch.add_argument(
        "--no-monitor", action="store_true", help="leave out the drift and degradation triggers"
    )
    watch.add_argument("--max-ticks", type=int, help="stop after this many ticks")
    watch.add_argument("--metrics-port", type=int, help="serve Prometheus metrics on 127.0.0.1:PORT/metrics")
    watch.set_defaults(handler=watch_loop)

    retrain = subparsers.add_parser(
        "retrain",
        help="one training run on a recent data window, holding the model's training lease",
        description="Learns from --window-months months before the newest month of data (landed batches, "
        "or --as-of) and is judged on that month. Refused while another training run of the model runs.",
    )
    retrain.add_argument("--trigger", default=TriggerKind.ON_DEMAND.value, help="why (default on-demand)")
    retrain.add_argument("--request-id", help="the run's id (a fired trigger passes its own)")
    retrain.add_argument(
        "--as-of", type=int, help="newest month of data (default: newest landed batch, else 7)"
    )
    retrain.add_argument("--window-months", type=int, help="months to learn from (default: policy.toml)")
    retrain.add_argument("--data", type=Path, help="a landed batch file that is the new batch")
    retrain.add_argument("--model", default=MODEL_NAME)
    retrain.add_argument("--promotion", choices=["production", "blessed"], default="production")
    retrain.add_argument(
        "--param", action="append", default=[], metavar="KEY=VALUE", help="pipeline argument"
    )
    retrain.add_argument("--json", action="store_true", help="print the outcome as JSON")
    retrain.set_defaults(handler=retrain_run)


def _watch_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", default=MODEL_NAME, help=f"registered model (default {MODEL_NAME})")
    parser.add_argument("--requests", type=Path, help="request log folder (default STATE/requests)")
    parser.add_argument("--feedback", type=Path, help="stored feedback folder (default STATE/feedback)")
    parser.add_argument("--inbox", type=Path, help="watch this folder for landed batch files")
    parser.add_argument("--retrain-on-new-data", action="store_true", help="a landed batch starts a run")
    parser.add_argument("--window-rows", type=int, help="sliding window size (default monitor.toml)")
    parser.add_argument("--reports", type=Path, help="report folder (default STATE/monitoring/reports)")
    parser.add_argument(
        "--metrics-file", type=Path, help="Prometheus textfile (default STATE/monitoring/metrics.prom)"
    )
    parser.add_argument("--promotion", choices=["production", "blessed"], default="production")
    parser.add_argument("--as-of", type=int, help="newest month of data when no batch has landed")
    parser.add_argument("--param", action="append", default=[], metavar="KEY=VALUE", help="pipeline argument")


def _params(pairs: list[str]) -> dict[str, Any]:
    from pipelines.cluster_runs import parse_params

    return parse_params(pairs)


def build_plan(args: argparse.Namespace, settings: ProjectSettings, *, monitor: bool = True) -> WatchPlan:
    """The watch plan the command line asks for, with the state folder's defaults."""
    from components.triggers.watch import WatchPlan

    state = settings.state_dir
    return WatchPlan(
        model=args.model,
        requests_dir=args.requests or state / "requests",
        feedback_dir=args.feedback or state / "feedback",
        monitor=monitor,
        inbox=args.inbox,
        retrain_on_new_data=args.retrain_on_new_data,
        schedule_seconds=getattr(args, "every", None),
        reports_dir=args.reports or state / "monitoring" / "reports",
        metrics_file=args.metrics_file or state / "monitoring" / "metrics.prom",
        promotion=args.promotion,
        as_of=args.as_of,
        params=_params(args.param),
    )


@contextlib.contextmanager
def open_watcher(
    args: argparse.Namespace,
    settings: ProjectSettings,
    *,
    launcher: Any = None,
    lock_dir: Path | None = None,
    run_finished: Callable[[str], bool] | None = None,
    monitor: bool = True,
    on_event: Callable[[Event], None] = lambda event: None,
) -> Iterator[Watcher]:
    """A watcher over the state folder's lineage store, configured from the command line."""
    from components.lineage import open_store
    from components.monitoring.config import load_monitor_config
    from components.triggers.policy import load_policy

    config = load_monitor_config()
    if getattr(args, "window_rows", None):
        rows = int(args.window_rows)
        config = config.with_window(max_rows=rows, min_rows=min(config.window.min_rows, rows))
    with open_store(settings.metadata_uri) as store:
        yield local_watcher(
            store,
            build_plan(args, settings, monitor=monitor),
            settings,
            policy=load_policy(),
            monitor_config=config,
            lock_dir=lock_dir,
            launcher=launcher,
            run_finished=run_finished,
            on_event=on_event,
        )


def local_watcher(
    store: LineageStore,
    plan: WatchPlan,
    settings: ProjectSettings,
    *,
    policy: TriggerPolicy,
    monitor_config: MonitorConfig,
    lock_dir: Path | None,
    launcher: Launcher | None = None,
    run_finished: Callable[[str], bool] | None = None,
    clock: Callable[[], float] = time.time,
    on_event: Callable[[Event], None] = lambda event: None,
) -> Watcher:
    """A watcher as ``mlops watch`` builds one: its lease in ``store``'s trigger ledger, the shipped
    thresholds and schema, and ``mlops retrain`` children in ``settings``' state folder unless
    ``launcher`` says otherwise."""
    from components.schema.logic import load_schema
    from components.triggers.launch import LocalLauncher
    from components.triggers.lease import TrainingLease
    from components.triggers.ledger import TriggerLedger
    from components.triggers.watch import Watcher
    from components.validation.config import load_thresholds

    ledger = TriggerLedger(store, plan.model, clock=clock)
    return Watcher(
        store,
        plan,
        policy=policy,
        launcher=launcher or LocalLauncher(settings),
        lease=TrainingLease(
            ledger, lock_dir=lock_dir, ttl_seconds=policy.lease_ttl_seconds, run_finished=run_finished
        ),
        monitor_config=monitor_config,
        thresholds=load_thresholds(),
        schema=load_schema(),
        clock=clock,
        on_event=on_event,
    )


def _say(event: Event) -> None:
    print(
        f"{time.strftime('%H:%M:%S', time.localtime(event.time))}  {event.kind:11} {event.message}",
        flush=True,
    )


def monitor_check(args: argparse.Namespace, settings: ProjectSettings) -> int:
    from components.triggers.guard import LOCKS_DIR

    quiet = args.json
    on_event = (lambda event: None) if quiet else _say
    if args.kfp_host:
        if not args.act:
            raise ConfigError("--kfp-host starts cluster runs, which only --act does")
        return _cluster_check(args, settings, on_event)
    with open_watcher(args, settings, lock_dir=settings.state_dir / LOCKS_DIR, on_event=on_event) as watcher:
        if args.act:
            events = watcher.tick()
            result = watcher.last_result
        else:
            result = watcher.check_only()
            events = []
            if result is not None:
                watcher.write_outputs(result.to_dict(), result.checked_at)
        code = _report_check(args, result, events)
        return code or _push(args, watcher)


def _push(args: argparse.Namespace, watcher: Watcher) -> int:
    if not args.pushgateway:
        return 0
    from components.monitoring.prometheus import push

    url = push(watcher.metrics_text(), args.pushgateway, job="model-monitor", grouping={"model": args.model})
    if not args.json:
        print(f"pushed the metrics to {url}")
    return 0


def _report_check(args: argparse.Namespace, result: Any, events: list[Event]) -> int:
    if result is None:
        if args.json:
            print_json({"status": "no-production-version", "events": [e.__dict__ for e in events]})
        else:
            print(f"model {args.model!r} has no production version to monitor")
        return 0
    summary = result.to_dict()
    if args.json:
        print_json({**summary, "events": [e.__dict__ for e in events]})
        return 0
    from components.monitoring.report import render_markdown

    print(render_markdown(summary))
    return 0


def monitor_feedback(args: argparse.Namespace, settings: ProjectSettings) -> int:
    from components.monitoring.feedback import ingest_feedback_file

    stored, count = ingest_feedback_file(args.file, settings.state_dir / "feedback")
    if args.json:
        print_json({"stored": str(stored), "records": count})
    else:
        print(f"stored {count} outcomes from {args.file} in {stored}")
    return 0


def monitor_triggers(args: argparse.Namespace, settings: ProjectSettings) -> int:
    from components.lineage import open_store
    from components.triggers.ledger import TriggerLedger

    with open_store(settings.metadata_uri) as store:
        entries = TriggerLedger(store, args.model).state().entries[-args.last :]
    if args.json:
        print_json([entry.to_dict() for entry in entries])
        return 0
    if not entries:
        print(f"model {args.model!r} has no trigger ledger entries yet")
        return 0
    print(format_table([_ledger_row(e) for e in entries], ["#", "time", "entry", "what", "why"]))
    return 0


def _ledger_row(entry: LedgerEntry) -> dict[str, str]:
    what, why = {
        "check": (
            f"{entry.text('version')} {entry.text('status')}",
            ", ".join(entry.loaded("reasons") or [])[:100],
        ),
        "trigger": (
            f"{entry.text('kind')} {entry.text('outcome')} {entry.text('request_id')}".strip(),
            entry.text("reason")[:100],
        ),
        "lease": (f"{entry.text('event')} {entry.text('request_id')}", entry.text("note")),
        "new-data": (Path(entry.text("path")).name, entry.text("error") or f"months {entry.text('months')}"),
    }.get(entry.entry, ("", ""))
    return {
        "#": str(entry.sequence),
        "time": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(entry.time)),
        "entry": entry.entry,
        "what": what,
        "why": why,
    }


def watch_loop(args: argparse.Namespace, settings: ProjectSettings) -> int:
    from components.monitoring.prometheus import MetricsServer
    from components.triggers.guard import LOCKS_DIR

    with open_watcher(
        args, settings, lock_dir=settings.state_dir / LOCKS_DIR, monitor=not args.no_monitor, on_event=_say
    ) as watcher:
        server = (
            MetricsServer(watcher.metrics_text, port=args.metrics_port).start() if args.metrics_port else None
        )
        enabled = [
            name
            for name, on in (
                (f"schedule every {args.every:.0f} s", args.every),
                (f"new data in {args.inbox}", args.inbox),
                ("drift and degradation", not args.no_monitor),
            )
            if on
        ]
        print(
            f"watching {args.model}: {', '.join(enabled) or 'nothing'}; a tick every {args.poll:g} s",
            flush=True,
        )
        if server:
            print(f"metrics at {server.url}", flush=True)
        ticks = 0
        try:
            while args.max_ticks is None or ticks < args.max_ticks:
                watcher.tick()
                ticks += 1
                if args.max_ticks is None or ticks < args.max_ticks:
                    time.sleep(args.poll)
            if watcher.running is not None:
                print(f"waiting for {watcher.running.request.request_id} to finish", flush=True)
                while watcher.running is not None:
                    time.sleep(1.0)
                    watcher.poll_run()
        except KeyboardInterrupt:
            print("stopped", flush=True)
        finally:
            if server:
                server.stop()
    return 0


# mlops retrain --------------------------------------------------------------------------------------


def retrain_run(args: argparse.Namespace, settings: ProjectSettings) -> int:
    from cli.run_summary import find_run, summarise_run
    from components.lineage import open_store
    from components.settings import PROJECT_ROOT
    from components.triggers.guard import LOCKS_DIR, record_request
    from components.triggers.kinds import parse_kind
    from components.triggers.lease import TrainingLease
    from components.triggers.ledger import TriggerLedger, as_json
    from components.triggers.policy import load_policy
    from components.versioning import git_version
    from pipelines.local_runner import new_request_id, run_pipeline_locally
    from pipelines.training import continuous_training

    kind = parse_kind(args.trigger)
    policy = load_policy()
    request_id = args.request_id or new_request_id(kind.value)
    with open_store(settings.metadata_uri) as store:
        ledger = TriggerLedger(store, args.model)
        window = _window(args, policy, ledger)
        record_request(ledger, kind, request_id, window.describe(), as_json(window.pipeline_arguments()))
        lease = TrainingLease(
            ledger, lock_dir=settings.state_dir / LOCKS_DIR, ttl_seconds=policy.lease_ttl_seconds
        )
        if not args.json:
            print(f"retraining {args.model} ({kind.value}, {request_id}): {window.describe()}", flush=True)
        with lease.hold(request_id=request_id, trigger=kind.value):
            arguments = {
                **_params(args.param),
                **window.pipeline_arguments(),
                "code_version": git_version(PROJECT_ROOT),
                "trigger": kind.value,
                "request_id": request_id,
                "model_name": args.model,
                "promotion": args.promotion,
            }
            outcome = run_pipeline_locally(continuous_training, settings, arguments, quiet=True)
        summary = summarise_run(store, find_run(store, outcome.request_id), outcome)
    result = {
        "request_id": request_id,
        "trigger": kind.value,
        "window": window.describe(),
        "succeeded": outcome.succeeded,
        "registered": {
            **summary.get("registered", {}),
            "blessed": bool(summary.get("blessing", {}).get("blessed")),
        },
        "run_id": summary.get("run_id"),
        "failures": summary.get("failures", []),
        "error": summary.get("error"),
    }
    if args.json:
        print_json(result)
    else:
        print(summary["text"])
    return 0 if outcome.succeeded else 1


def _window(args: argparse.Namespace, policy: TriggerPolicy, ledger: TriggerLedger) -> Any:
    from components.triggers.window import DEFAULT_AS_OF, data_window, newest_landed_month

    months = args.window_months or policy.window_months
    data_file = ""
    as_of = args.as_of
    if args.data is not None:
        from components.triggers.inbox import describe_batch

        path = args.data.resolve()
        if not path.is_file():
            raise ConfigError(f"no batch file at {path}")
        described = describe_batch(path)
        if described.error:
            raise ConfigError(f"the batch {path} cannot be read: {described.error}")
        data_file = str(path)
        if as_of is None and described.months:
            as_of = max(described.months)
    if as_of is None:
        as_of = newest_landed_month(ledger.state()) or DEFAULT_AS_OF
    return data_window(as_of, months, data_file=data_file)


# The monitor CronJob: one tick whose runs start in Kubeflow Pipelines ---------------------------------


def _cluster_check(
    args: argparse.Namespace, settings: ProjectSettings, on_event: Callable[[Event], None]
) -> int:
    from components.triggers.lease import release_finished_run
    from pipelines.cluster_launcher import ClusterLauncher, run_finished_probe
    from pipelines.cluster_runs import connect

    client = connect(args.kfp_host)
    run_finished = run_finished_probe(client)
    holder: dict[str, TrainingLease] = {}

    class _Deferred:
        # The watcher owns the lease, and it exists only once the watcher is open.
        def start(self, request: RetrainRequest) -> Any:
            launcher = ClusterLauncher(
                client,
                package=args.package,
                lease=holder["lease"],
                metadata_uri=settings.metadata_uri,
                experiment=args.experiment,
                service_account=args.service_account,
            )
            return launcher.start(request)

    with open_watcher(
        args, settings, launcher=_Deferred(), lock_dir=None, run_finished=run_finished, on_event=on_event
    ) as watcher:
        holder["lease"] = watcher.lease
        release_finished_run(watcher.lease, run_finished)
        events = watcher.tick()
        code = _report_check(args, watcher.last_result, events)
        return code or _push(args, watcher)
