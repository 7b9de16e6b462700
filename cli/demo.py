"""``make demo``: the closed loop, end to end, on this machine, with no human step.

1. A model is trained on January-June 2013 (a real pipeline run, trigger ``on-demand``) and served: a
   Seldon Core microservice behind the local rollout proxy.
2. A sample of each month of July-December is replayed through the proxy at a steady rate, each flight
   under its own request id, and its true outcome is fed back by that id shortly after (to the monitor's
   feedback store and to the proxy, whose canary analysis uses it). At each month's end that month's full
   batch lands in the watched folder, moving the newest month of data.
3. At each month's end the watcher checks production (drift and skew against the training statistics
   with the pipeline's thresholds, live performance against evaluation) and lets the triggers act:
   debounce, rate limits and the training lease decide; every decision is recorded with its reason.
4. A fired trigger starts ``mlops retrain`` on the recent months; its candidate, if blessed, is canaried
   through the proxy under the same live traffic and promoted or rejected by the rollout controller.
5. A timeline is printed, then the lineage of the final production model (which names the trigger that
   caused it) and the time from the first drift detection to the new model serving 100% of traffic.

Everything lives in one state folder (``build/demo`` by default, made afresh).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from components.settings import PROJECT_ROOT, ProjectSettings
from contracts.names import MODEL_NAME

DEFAULT_STATE = PROJECT_ROOT / "build" / "demo"
REPLAY_MONTHS = (7, 8, 9, 10, 11, 12)


@dataclass
class Timeline:
    """Events with their time, printed as they happen and again, whole, at the end."""

    started: float = field(default_factory=time.time)
    events: list[tuple[float, str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, message: str) -> None:
        now = time.time()
        with self.lock:
            self.events.append((now, kind, message))
            print(self._line(now, kind, message), flush=True)

    def first(self, kind: str, contains: str = "") -> float | None:
        with self.lock:
            return next((t for t, k, m in self.events if k == kind and contains in m), None)

    def _line(self, when: float, kind: str, message: str) -> str:
        stamp = time.strftime("%H:%M:%S", time.localtime(when))
        return f"{stamp} +{when - self.started:6.1f}s  {kind:12} {message}"

    def render(self) -> str:
        with self.lock:
            return "\n".join(self._line(t, k, m) for t, k, m in self.events)


def _settings(state: Path) -> ProjectSettings:
    return ProjectSettings(state_dir=state, metadata_uri=f"sqlite:///{state}/metadata.sqlite")


def _train_first_model(settings: ProjectSettings, timeline: Timeline, params: dict[str, Any]) -> str:
    from components.triggers.kinds import TriggerKind
    from components.triggers.launch import LocalLauncher, RetrainRequest
    from components.triggers.window import data_window

    request = RetrainRequest(
        kind=TriggerKind.ON_DEMAND,
        request_id=f"on-demand-{time.strftime('%Y%m%d-%H%M%S')}",
        window=data_window(7, 6),
        promotion="production",
        params=params,
    )
    timeline.add("run-started", f"{request.request_id}: {request.window.describe()}")
    outcome = LocalLauncher(settings).start(request).wait()
    if not (outcome.succeeded and outcome.stage == "production"):
        raise SystemExit(f"the first model was not put in production: {outcome}")
    timeline.add("run-ended", f"{request.request_id} registered {outcome.version} as production")
    return outcome.version


class Rollout:
    """The local deployment: servers behind the proxy, and the canary controller in its own thread."""

    def __init__(
        self, settings: ProjectSettings, timeline: Timeline, checks: dict[str, Any], steps: dict[str, Any]
    ):
        from components.rollout.local.actuator import LocalActuator

        self.settings = settings
        self.timeline = timeline
        # Requests are logged where `mlops serve` logs them, so `mlops monitor check` finds them too.
        self.actuator = LocalActuator(
            settings.state_dir / "rollout", request_log=settings.state_dir / "requests"
        )
        self.checks = checks
        self.steps = steps
        self.thread: threading.Thread | None = None
        self.final: Any = None
        self.error: BaseException | None = None

    @property
    def requests_dir(self) -> Path:
        return self.settings.state_dir / "requests"

    def serve(self, version: str) -> None:
        from components.lineage import open_store
        from components.registry import ModelRegistry
        from components.rollout.core.render import DeploymentPlan, ServedVersion

        with open_store(self.settings.metadata_uri) as store:
            served = ServedVersion.of(ModelRegistry(store).get(version))
        self.actuator.apply(DeploymentPlan(main=served), expected=None)
        self.timeline.add("serving", f"{version} serves 100% at {self.actuator.predictions_url}")

    def canary(self, candidate: str) -> None:
        self.thread = threading.Thread(target=self._run, args=(candidate,), name="canary", daemon=True)
        self.thread.start()

    @property
    def settled(self) -> bool:
        return self.thread is None or not self.thread.is_alive()

    def _run(self, candidate: str) -> None:
        from components.lineage import open_store
        from components.registry import ModelRegistry
        from components.rollout.core.config import load_config
        from components.rollout.core.controller import RolloutController
        from components.rollout.core.ledger import RolloutLedger
        from components.rollout.core.strategy import Strategy

        try:
            config = load_config().with_overrides(steps=self.steps, checks=self.checks)
            with open_store(self.settings.metadata_uri) as store:
                registry = ModelRegistry(store, lock_path=self.settings.registry_lock, actor="rollout")
                controller = RolloutController(
                    self.actuator,
                    self.actuator.metrics(),
                    RolloutLedger(store, registry),
                    config,
                    report=lambda line: self.timeline.add("rollout", line.strip()),
                )
                controller.start(candidate, Strategy.CANARY)
                self.final = controller.run(timeout=900)
            phase = self.final.phase.value
            if phase == "succeeded":
                self.timeline.add("serving", f"{candidate} serves 100% of traffic")
            else:
                self.timeline.add("rollout", f"{candidate} {phase}: {self.final.message}")
        except BaseException as exc:  # the demo reports it; the thread must not die silently
            self.error = exc
            self.timeline.add("rollout", f"the canary of {candidate} stopped: {exc}")

    def close(self) -> None:
        self.actuator.close()


class Traffic:
    """Replays flights through the proxy at a steady rate, feeding back outcomes after each chunk."""

    def __init__(
        self, settings: ProjectSettings, rollout: Rollout, *, rate: float, chunk_seconds: float = 8.0
    ):
        self.settings = settings
        self.rollout = rollout
        self.rate = rate
        self.chunk = max(1, int(rate * chunk_seconds))
        self.sent = 0
        self.failed = 0

    def play(self, flights: Any, prefix: str) -> None:
        from components.monitoring.feedback import store_feedback
        from components.monitoring.replay import replay_of
        from components.serving.loadtest import run_load

        played = replay_of(flights, prefix=prefix)
        for start in range(0, len(played.bodies), self.chunk):
            bodies = played.bodies[start : start + self.chunk]
            outcomes = played.outcomes[start : start + self.chunk]
            result = run_load(
                self.rollout.actuator.predictions_url,
                bodies,
                rate=self.rate,
                duration=len(bodies) / self.rate,
                concurrency=16,
                timeout=30,
            )
            self.sent += result.sent
            self.failed += result.errors
            # Outcomes come back after the answers: to the monitor, and to the proxy for the canary.
            store_feedback(self.settings.state_dir / "feedback", outcomes)
            feedback = [
                json.dumps(
                    {
                        "response": {"meta": {"puid": o.request_id}},
                        "truth": {"data": {"ndarray": [[o.delayed]]}},
                    }
                ).encode()
                for o in outcomes
            ]
            url = self.rollout.actuator.predictions_url.replace("/predictions", "/feedback")
            run_load(
                url,
                feedback,
                rate=max(200.0, self.rate * 5),
                duration=len(feedback) / max(200.0, self.rate * 5),
            )


def _watcher(
    settings: ProjectSettings, store: Any, rollout: Rollout, timeline: Timeline, params: dict[str, Any]
) -> Any:
    from cli.monitor_commands import local_watcher
    from components.monitoring.config import load_monitor_config
    from components.triggers.policy import load_policy
    from components.triggers.watch import WatchPlan

    plan = WatchPlan(
        model=MODEL_NAME,
        requests_dir=rollout.requests_dir,
        feedback_dir=settings.state_dir / "feedback",
        inbox=settings.state_dir / "inbox",
        reports_dir=settings.state_dir / "monitoring" / "reports",
        metrics_file=settings.state_dir / "monitoring" / "metrics.prom",
        promotion="blessed",  # the candidate is canaried before it serves everyone
        params=params,
    )
    return local_watcher(
        store,
        plan,
        settings,
        policy=load_policy(),
        monitor_config=load_monitor_config(),
        lock_dir=settings.state_dir / "locks",
        on_event=lambda event: timeline.add(event.kind, event.message),
    )


def _land(settings: ProjectSettings, month: int, year: Any) -> None:
    from components.ingest.batch_io import write_batch
    from components.ingest.logic import select_months

    # Written aside and moved in whole, as an upload that finishes; dated past the watcher's settle time.
    inbox = settings.state_dir / "inbox"
    name = f"2013-{month:02d}.parquet"
    final = write_batch(select_months(year, [month]), inbox / ".incoming" / name).replace(inbox / name)
    landed = time.time() - 10.0
    os.utime(final, (landed, landed))


def _summary(settings: ProjectSettings, timeline: Timeline, first_model: str, traffic: Traffic) -> int:
    from components.lineage import open_store
    from components.registry import ModelRegistry
    from components.registry.report import version_lineage
    from components.triggers.ledger import TRIGGER, TriggerLedger

    with open_store(settings.metadata_uri) as store:
        registry = ModelRegistry(store)
        production = registry.production()
        versions = registry.list_versions()
        report = version_lineage(store, registry, production.version) if production else None
        triggers = TriggerLedger(store, MODEL_NAME).state().of(TRIGGER)
    print("\n=== timeline " + "=" * 88)
    print(timeline.render())
    print("\n=== registry " + "=" * 88)
    for version in versions:
        print(
            f"{version.version}  {version.stage.value:11} blessed={'yes' if version.blessed else 'no ':3}  "
            f"AUC {version.metrics.get('auc', 0):.3f}  run {version.run_id}"
        )
    print(f"\nreplayed {traffic.sent} requests ({traffic.failed} not answered 200)")
    if production is None or report is None or production.version == first_model:
        print(f"\nthe loop did not close: production is {production.version if production else 'nothing'}")
        return 1
    # The lineage reaches into the run of the version it was compared with; its own run's steps say why.
    own = [step for step in report["steps"] if step["run_id"] == production.run_id]
    ingest = next(step for step in own if step["component"] == "ingest")
    trigger, request_id = ingest["parameters"].get("trigger"), ingest["parameters"].get("request_id")
    decision = next((t for t in triggers if t.text("request_id") == request_id), None)
    print("\n=== lineage of the production model " + "=" * 65)
    print(
        f"{production.version} (stage {production.stage.value}, previous production "
        f"{production.previous_production}) was trained by run {production.run_id}"
    )
    print(f"  started by trigger: {trigger} (request {request_id})")
    if decision is not None:
        print(f"  why it fired:       {decision.text('reason')}")
        print(f"  data window:        {decision.text('window')}")
    print("  its run's steps: " + " -> ".join(step["component"] for step in own))
    print(
        f"  (its lineage holds {len(report['steps'])} steps: evaluation compared it with "
        f"{production.previous_production} on the same rows, which brings that version's run in too)"
    )
    for transition in report["transitions"]:
        print(
            f"  #{transition['sequence']} {transition['from_stage'] or '(new)'} -> {transition['to_stage']}: "
            f"{transition['reason']}"
        )
    detected = timeline.first("check", "drift of")
    serving = timeline.first("serving", f"{production.version} serves 100%")
    if detected is not None and serving is not None:
        print(
            f"\ntime from the first drift detection to {production.version} serving 100%: "
            f"{serving - detected:.1f} s"
        )
    print(f"whole demonstration: {time.time() - timeline.started:.1f} s")
    return 0 if trigger and trigger != "on-demand" else 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cli.demo", description=__doc__.split("\n\n")[0])
    parser.add_argument("--state", type=Path, default=DEFAULT_STATE, help="state folder (made afresh)")
    parser.add_argument("--rows", type=int, default=1_500, help="flights replayed per month")
    parser.add_argument("--rate", type=float, default=40.0, help="requests per second")
    parser.add_argument("--param", action="append", default=[], metavar="KEY=VALUE", help="pipeline argument")
    args = parser.parse_args(argv)

    from components.features.offline import OfflineFeatures
    from components.ingest.logic import load_year, select_months
    from components.lineage import open_store
    from pipelines.cluster_runs import parse_params

    params = parse_params(args.param)
    shutil.rmtree(args.state, ignore_errors=True)
    settings = _settings(args.state.resolve())
    settings.state_dir.mkdir(parents=True)
    timeline = Timeline()
    timeline.add(
        "demo", f"state in {settings.state_dir}; {args.rows} flights a month at {args.rate:.0f} req/s"
    )
    first_model = _train_first_model(settings, timeline, params)
    rollout = Rollout(
        settings,
        timeline,
        # A loaded two-core machine: latency bounds loose; a retrained model may predict differently
        # from the old one by design, so divergence is bounded, not forbidden.
        checks={
            "min_requests": 40,
            "min_feedback": 60,
            "max_p99_latency_ms": 1500.0,
            "max_p99_latency_ratio": 20.0,
            "max_prediction_divergence": 0.35,
        },
        steps={"canary": [20, 50, 100], "window_seconds": 15.0, "max_windows": 4, "poll_seconds": 1.0},
    )
    traffic = Traffic(settings, rollout, rate=args.rate)
    year = load_year(OfflineFeatures(settings.feature_repo))
    try:
        rollout.serve(first_model)
        with open_store(settings.metadata_uri) as store:
            watcher = _watcher(settings, store, rollout, timeline, params)
            canaried: set[str] = set()
            months = list(REPLAY_MONTHS)
            extra = 0
            while months or not rollout.settled or watcher.running is not None:
                if months:
                    month = months.pop(0)
                    flights = select_months(year, [month]).sample(n=args.rows, random_state=month)
                    timeline.add("replay", f"2013-{month:02d}: {args.rows} flights at {args.rate:.0f} req/s")
                    traffic.play(flights, prefix=f"2013-{month:02d}")
                    _land(settings, month, year)
                else:
                    # The months are replayed; traffic goes on (December again) until the run and the canary end.
                    extra += 1
                    if extra > 40:
                        timeline.add("demo", "gave up waiting for the retraining run and the canary")
                        break
                    flights = select_months(year, [12]).sample(
                        n=int(args.rate * 15), random_state=100 + extra
                    )
                    traffic.play(flights, prefix=f"2013-12-again-{extra}")
                watcher.tick()
                _maybe_canary(watcher, rollout, canaried, settings)
    finally:
        rollout.close()
    return _summary(settings, timeline, first_model, traffic)


def _maybe_canary(watcher: Any, rollout: Rollout, canaried: set[str], settings: ProjectSettings) -> None:
    """Starts the canary of a candidate the last run left blessed, once nothing else is rolling out."""
    from components.lineage import open_store
    from components.registry import ModelRegistry, Stage

    if not rollout.settled:
        return
    with open_store(settings.metadata_uri) as store:
        blessed = [v for v in ModelRegistry(store).list_versions() if v.stage is Stage.BLESSED]
    for version in blessed:
        if version.version not in canaried:
            canaried.add(version.version)
            rollout.canary(version.version)
            return


if __name__ == "__main__":
    sys.exit(main())
