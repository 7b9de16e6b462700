"""Local end to end: real Seldon microservices, the real proxy, real HTTP load, the real registry.

Four canary rollouts of a candidate against the production version while a steady load runs through
the proxy: a good candidate is promoted; one that errors, one that is slow and one whose predictions are
shifted are each rolled back at the first step. Every decision is printed with the values that drove it
(``pytest -s`` shows them), and the load sees no failed request in any of them. The bad candidates are
real servers whose model folders inject faults (``components/serving/chaos.py``).
"""

from __future__ import annotations

import shutil
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from doubles.fixture_model import build_model_folder
from local_support import SteadyLoad, payloads, predict_with_feedback
from rollout_support import registry_with

from components.registry import ModelRegistry, Stage
from components.rollout.core.ab_report import compare, read_traffic_log, render_markdown
from components.rollout.core.config import load_config
from components.rollout.core.controller import RolloutController
from components.rollout.core.ledger import RolloutLedger
from components.rollout.core.state import Phase, RolloutState
from components.rollout.core.strategy import Strategy
from components.rollout.local.actuator import TRAFFIC_LOG, LocalActuator
from components.rollout.local.server_pool import ServerPool
from components.serving.chaos import CHAOS_VARIABLE, Fault, write_fault
from components.serving.loadtest import run_load
from contracts.serving_schema import ServingSchema

# One worker runs them all (make unit uses --dist loadgroup): the servers are started once, and two
# workers loading the same two cores at once would make the latency checks measure each other.
pytestmark = pytest.mark.xdist_group("rollout-local-e2e")

PROJECT_ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_SCHEMA = PROJECT_ROOT / "contracts" / "serving_schema.example.json"
LOAD_RATE = 150.0

FAULTS = {
    "good": None,
    "errors": Fault(error_rate=0.3),
    "slow": Fault(delay_ms=1200.0),
    "shifted": Fault(shift=0.3),
}


@pytest.fixture(scope="module")
def model_folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("models")
    main = build_model_folder(root / "main", ServingSchema.read(EXAMPLE_SCHEMA), version="main")
    folders = {"main": main}
    for name, fault in FAULTS.items():
        folders[name] = shutil.copytree(main, root / name)
        if fault is not None:
            write_fault(folders[name], fault)
    return folders


@pytest.fixture(scope="module")
def pool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerPool]:
    """Servers shared by the tests of one worker, each started when a rollout first needs it."""
    payloads()  # real flights, loaded before any rollout's clock starts
    servers = ServerPool(tmp_path_factory.mktemp("servers"), extra_env={CHAOS_VARIABLE: "1"}, threads=32)
    yield servers
    servers.close()


@dataclass
class LocalRollout:
    """A registry with v1 (the main folder) in production and v2 (a candidate folder) blessed, a local
    actuator on the shared servers, and a controller that reports into ``lines``."""

    registry: ModelRegistry
    actuator: LocalActuator
    controller: RolloutController
    lines: list[str] = field(default_factory=list)

    def start(self, strategy: Strategy) -> RolloutState:
        return self.controller.start("v2", strategy)

    def run_under_load(self, strategy: Strategy) -> tuple[RolloutState, RolloutState, Counter[str]]:
        """Starts, runs to the end under a steady load; returns the first and final states and the load's statuses."""
        first = self.start(strategy)
        load = SteadyLoad(self.actuator.predictions_url, rate=LOAD_RATE).start()
        try:
            final = self.controller.run(timeout=120)
        finally:
            statuses = load.stop()
        print(f"\n{strategy} rollout of v2: {final.phase.value} at step {final.step + 1}")
        print("\n".join(self.lines))
        print(f"steady load: {load.sent} requests, statuses {dict(statuses)}")
        return first, final, statuses


@contextmanager
def local_rollout(
    tmp_path: Path,
    main: Path,
    candidate: Path,
    pool: ServerPool,
    bandit: dict[str, object] | None = None,
    **steps: object,
) -> Iterator[LocalRollout]:
    config = load_config().with_overrides(
        bandit=bandit or {},
        steps={"window_seconds": 4.0, "max_windows": 3, "poll_seconds": 0.2, **steps},
        # Other tests share the two cores: one stall makes a small window's p99 jump, so the latency
        # ratio (exercised in the unit tests) is loose here and the slow candidate is far above the bound.
        checks={
            "min_requests": 50,
            "min_feedback": 100,
            "max_p99_latency_ms": 800.0,
            "max_p99_latency_ratio": 50.0,
            "max_prediction_divergence": 0.25,
        },
    )
    with registry_with(tmp_path, [str(main), str(candidate)]) as (store, registry):
        actuator = LocalActuator(tmp_path / "rollout", pool=pool)
        lines: list[str] = []
        controller = RolloutController(
            actuator, actuator, RolloutLedger(store, registry), config, report=lines.append
        )
        try:
            yield LocalRollout(registry, actuator, controller, lines)
        finally:
            actuator.close()


@pytest.mark.parametrize("candidate", list(FAULTS))
def test_canary_rollout_under_steady_load(
    candidate: str, model_folders: dict[str, Path], pool: ServerPool, tmp_path: Path
) -> None:
    with local_rollout(tmp_path, model_folders["main"], model_folders[candidate], pool) as rollout:
        _, final, statuses = rollout.run_under_load(Strategy.CANARY)
        registry = rollout.registry
        assert set(statuses) == {"200"}, statuses  # zero failed requests, whatever the candidate did
        if candidate == "good":
            assert final.phase is Phase.SUCCEEDED
            assert (registry.get("v2").stage, registry.get("v1").stage) == (Stage.PRODUCTION, Stage.ARCHIVED)
            assert registry.get("v2").previous_production == "v1"
        else:
            assert final.phase is Phase.FAILED and final.step == 0, final.message
            assert registry.get("v2").stage is Stage.REJECTED and registry.get("v1").stage is Stage.PRODUCTION
            expected = {"errors": "error_rate", "slow": "p99_latency_ms", "shifted": "prediction_divergence"}
            assert expected[candidate] in final.message


def test_the_split_over_10000_requests_matches_the_weight(
    model_folders: dict[str, Path], pool: ServerPool, tmp_path: Path
) -> None:
    steps = {"canary": (30, 100), "window_seconds": 600.0}
    with local_rollout(tmp_path, model_folders["main"], model_folders["good"], pool, **steps) as rollout:
        rollout.start(Strategy.CANARY)
        started = time.time()
        result = run_load(
            rollout.actuator.predictions_url,
            payloads(),
            rate=300,
            duration=40,
            max_requests=10_000,
            timeout=10,
        )
        window = rollout.actuator.metrics().window(started, time.time() + 1)
    served = {v: window.of(v).requests for v in ("v1", "v2")}
    share = 100 * served["v2"] / sum(served.values())
    print(f"\n10,000 requests at 30% canary: {served}, candidate share {share:.2f}%; {result.summary()}")
    assert result.statuses == {"200": 10_000}
    assert sum(served.values()) == 10_000
    assert abs(share - 30) <= 2


def test_shadow_mirrors_every_request_and_promotes(
    model_folders: dict[str, Path], pool: ServerPool, tmp_path: Path
) -> None:
    with local_rollout(tmp_path, model_folders["main"], model_folders["good"], pool) as rollout:
        first, final, statuses = rollout.run_under_load(Strategy.SHADOW)
        window = rollout.actuator.metrics().window(first.step_started_at, time.time())
        assert set(statuses) == {"200"}
        assert final.phase is Phase.SUCCEEDED and rollout.registry.get("v2").stage is Stage.PRODUCTION
    main, shadow = window.of("v1").requests, window.of("v2").requests
    assert shadow >= 0.95 * main > 0  # every answered request was mirrored (a few may still be in flight)


@pytest.mark.parametrize("strategy", [Strategy.AB, Strategy.BANDIT])
def test_ab_and_bandit_learn_from_feedback(
    strategy: Strategy, model_folders: dict[str, Path], pool: ServerPool, tmp_path: Path
) -> None:
    # Both versions are the same model: Thompson sampling may, by chance, starve one of them for a while,
    # which is its job but leaves too little candidate traffic to judge. A wide epsilon-greedy explores.
    bandit = {"policy": "epsilon-greedy", "epsilon": 0.5}
    folders = model_folders["main"], model_folders["good"]
    with local_rollout(tmp_path, *folders, pool, bandit=bandit, window_seconds=6.0) as rollout:
        state = rollout.start(strategy)
        seen = predict_with_feedback(rollout.actuator.proxy_url, 400, tag=str(strategy))
        final = rollout.controller.run(timeout=60)
    exchanges, truth = read_traffic_log(tmp_path / "rollout" / TRAFFIC_LOG)  # complete once the proxy stopped
    print("\n" + "\n".join(rollout.lines))
    assert seen == {"predict:200": 400, "feedback:200": 400}
    assert final.phase is Phase.SUCCEEDED, final.message
    accuracy = next(c for c in final.last_analysis["checks"] if c["name"] == "accuracy_drop")
    if strategy is Strategy.AB:
        assert accuracy["passed"] is True  # judged: each half of the split had enough fed-back answers
    comparisons = compare(exchanges, truth, version_a="v1", version_b="v2", min_labelled=20)
    print(render_markdown(comparisons, version_a="v1", version_b="v2", period=state.rollout_id))
    overall = comparisons[0]
    assert overall.segment == "all" and overall.a.labelled + overall.b.labelled == 400
    assert overall.b.answers > 0  # the candidate was tried; every reward reached the router (feedback 200)
    assert {c.segment for c in comparisons} >= {"origin=EWR", "origin=JFK", "origin=LGA"}
