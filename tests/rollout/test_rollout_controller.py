"""The rollout controller on a local deployment file and a traffic book: steps, decisions, the registry
and lineage records, operator requests, crash-resume and idempotency."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from rollout_support import Clock, Traffic, fast_config, registry_with

from components.lineage import LineageStore
from components.registry import ModelRegistry, Stage
from components.rollout.core.actuator import DeploymentConflict
from components.rollout.core.controller import RolloutController
from components.rollout.core.ledger import RolloutLedger
from components.rollout.core.state import Phase, RolloutState
from components.rollout.core.strategy import Strategy
from components.rollout.core.traffic import TrafficBook
from components.rollout.local.deployment_file import DeploymentFile
from contracts.errors import RolloutError


@dataclass
class Harness:
    """A registry with v1 in production and v2, v3 blessed; a deployment file; a traffic book; a h.clock."""

    store: LineageStore
    registry: ModelRegistry
    file: DeploymentFile
    book: TrafficBook = field(default_factory=TrafficBook)
    clock: Clock = field(default_factory=Clock)
    lines: list[str] = field(default_factory=list)

    def controller(self, **checks: object) -> RolloutController:
        ledger = RolloutLedger(self.store, self.registry)
        config = fast_config(**checks)
        return RolloutController(
            self.file, self.book, ledger, config, clock=self.clock, report=self.lines.append
        )


@pytest.fixture()
def h(tmp_path: Path) -> Iterator[Harness]:
    with registry_with(tmp_path, ["/models/one", "/models/two", "/models/three"]) as (store, registry):
        yield Harness(store, registry, DeploymentFile(tmp_path / "deployment.json"))


def _stages(registry: ModelRegistry) -> dict[str, str]:
    return {v.version: v.stage.value for v in registry.list_versions()}


def _decisions(controller: RolloutController, rollout_id: str) -> list[str]:
    return [str(a.properties["decision"]) for a in controller.ledger.decisions(rollout_id)]


def _run_steps(controller: RolloutController, clock: Clock, traffic: Traffic, **fault: float) -> RolloutState:
    state = controller.reconcile()
    while not state.phase.final:
        traffic.step(clock.now, candidate="v2", main="v1", share=state.candidate_weight, **fault)
        clock.now += 10.5
        state = controller.reconcile()
    return state


def test_a_good_candidate_is_promoted_step_by_step(h: Harness) -> None:
    controller = h.controller()
    state = controller.start("v2", Strategy.CANARY)
    assert (state.phase, state.candidate_weight, _stages(h.registry)["v2"]) == (
        Phase.PROGRESSING,
        10,
        "canary",
    )
    weights = []
    traffic = Traffic(h.book)
    while not state.phase.final:
        weights.append(state.candidate_weight)
        traffic.step(h.clock.now, candidate="v2", main="v1", share=state.candidate_weight)
        h.clock.now += 10.5
        state = controller.reconcile()
    assert weights == [10, 25, 50, 100]
    assert state.phase is Phase.SUCCEEDED
    assert _stages(h.registry) == {"v1": "archived", "v2": "production", "v3": "blessed"}
    assert h.registry.get("v2").previous_production == "v1"
    assert _decisions(controller, state.rollout_id) == ["start", "advance", "advance", "advance", "promote"]
    [predictor] = h.file.observe().deployment["spec"]["predictors"]
    assert predictor["labels"]["flights-mlops.io/model-version"] == "v2" and predictor["traffic"] == 100
    print("\n".join(h.lines))
    assert any("prediction_divergence" in line for line in h.lines)


@pytest.mark.parametrize(
    ("fault", "failing_check"),
    [
        ({"candidate_error_rate": 0.2}, "error_rate"),
        ({"candidate_latency_ms": 400.0}, "p99_latency_ms"),
        ({"candidate_shift": 0.4}, "prediction_divergence"),
    ],
)
def test_a_bad_candidate_is_rejected_at_the_first_step(
    h: Harness, fault: dict[str, float], failing_check: str
) -> None:
    controller = h.controller()
    controller.start("v2", Strategy.CANARY)
    state = _run_steps(controller, h.clock, Traffic(h.book), **fault)
    assert state.phase is Phase.FAILED and state.step == 0
    assert failing_check in state.message and state.message.startswith("step 1 of 4 (10% of traffic) failed")
    assert _stages(h.registry) == {"v1": "production", "v2": "rejected", "v3": "blessed"}
    main, canary = h.file.observe().deployment["spec"]["predictors"]
    assert (main["traffic"], canary["traffic"]) == (100, 0)
    [reject] = [
        a for a in controller.ledger.decisions(state.rollout_id) if a.properties["decision"] == "reject"
    ]
    checks = {c["name"]: c for c in json.loads(str(reject.properties["analysis"]))["checks"]}
    assert checks[failing_check]["passed"] is False and checks[failing_check]["value"] is not None
    history = h.registry.history("v2")
    assert history[-1].to_stage is Stage.REJECTED and failing_check in history[-1].reason


def test_too_little_traffic_extends_then_fails(h: Harness) -> None:
    controller = h.controller()
    controller.start("v2", Strategy.CANARY)
    Traffic(h.book).step(h.clock.now, candidate="v2", main="v1", share=10, requests=100)
    h.clock.now += 10.5
    state = controller.reconcile()
    assert (state.phase, state.windows_waited) == (Phase.PROGRESSING, 1)
    h.clock.now += 10.5
    state = controller.reconcile()
    assert state.phase is Phase.FAILED and "too little candidate traffic" in state.message
    assert _decisions(controller, state.rollout_id) == ["start", "extend", "reject"]
    assert _stages(h.registry)["v2"] == "rejected"


def test_an_operator_abort_stops_without_rejecting(h: Harness) -> None:
    controller = h.controller()
    controller.start("v2", Strategy.SHADOW)
    h.file.request("abort")
    state = controller.reconcile()
    assert state.phase is Phase.ABORTED and state.message == "aborted by an operator"
    assert _stages(h.registry)["v2"] == "blessed"  # stopped, not found wanting
    [predictor] = h.file.observe().deployment["spec"]["predictors"]
    assert predictor["labels"]["flights-mlops.io/model-version"] == "v1"
    with pytest.raises(RolloutError, match="already aborted"):
        h.file.request("abort")


def test_an_operator_promote_finishes_at_once(h: Harness) -> None:
    controller = h.controller()
    controller.start("v2", Strategy.AB)
    h.file.request("promote")
    state = controller.reconcile()
    assert state.phase is Phase.SUCCEEDED
    assert _stages(h.registry)["v2"] == "production" and h.registry.get("v2").previous_production == "v1"


def test_an_unknown_request_is_reported_and_cleared(h: Harness) -> None:
    controller = h.controller()
    controller.start("v2", Strategy.CANARY)
    observed = h.file.observe()
    deployment = dict(observed.deployment)
    deployment["metadata"]["annotations"]["rollout.flights-mlops.io/request"] = "abrot"
    h.file.path.write_text(json.dumps(deployment), encoding="utf-8")
    state = controller.reconcile()
    assert state.phase is Phase.PROGRESSING and "ignored unknown request 'abrot'" in state.message
    assert h.file.observe().deployment["metadata"]["annotations"]["rollout.flights-mlops.io/request"] == ""


def test_a_new_controller_resumes_where_a_crashed_one_stopped(h: Harness) -> None:
    first = h.controller()
    state = first.start("v2", Strategy.CANARY)
    traffic = Traffic(h.book)
    traffic.step(h.clock.now, candidate="v2", main="v1", share=10)
    h.clock.now += 10.5
    assert first.reconcile().candidate_weight == 25
    del first  # the process that ran it is gone; only the deployment and the registry remain

    second = h.controller()
    assert second.start("v2", Strategy.CANARY).rollout_id == state.rollout_id  # start again = resume
    final = _run_steps(second, h.clock, traffic)
    assert final.phase is Phase.SUCCEEDED
    assert _decisions(second, state.rollout_id) == ["start", "advance", "advance", "advance", "promote"]

    transitions = len(h.registry.transitions())
    assert second.reconcile().phase is Phase.SUCCEEDED and h.controller().reconcile().phase is Phase.SUCCEEDED
    assert len(h.registry.transitions()) == transitions  # a final state is settled once
    assert len(second.ledger.decisions(state.rollout_id)) == 5


def test_a_crash_between_traffic_and_registry_is_finished_by_the_next_call(h: Harness) -> None:
    controller = h.controller()
    state = controller.start("v2", Strategy.CANARY)
    failed = state.evolve(phase=Phase.FAILED, message="step 1 of 4 failed: error_rate 0.3 > 0.01")
    # The traffic change landed, then the process died before the registry was told.
    h.file.apply(controller._plan(failed), expected=h.file.observe().resource_version)
    assert _stages(h.registry)["v2"] == "canary"
    assert h.controller().reconcile().phase is Phase.FAILED
    assert _stages(h.registry)["v2"] == "rejected"
    assert _decisions(controller, state.rollout_id) == ["start", "reject"]


def test_a_write_based_on_a_stale_read_is_refused(h: Harness) -> None:
    controller = h.controller()
    state = controller.start("v2", Strategy.CANARY)
    stale = h.file.observe().resource_version
    h.file.request("abort")
    with pytest.raises(DeploymentConflict):
        h.file.apply(controller._plan(state), expected=stale)
    assert controller.reconcile().phase is Phase.ABORTED


def test_a_second_rollout_is_refused_while_one_runs(h: Harness) -> None:
    controller = h.controller()
    with pytest.raises(RolloutError, match="already in production"):
        controller.start("v1", Strategy.CANARY)
    controller.start("v2", Strategy.CANARY)
    with pytest.raises(RolloutError, match="in progress"):
        controller.start("v3", Strategy.CANARY)
    assert _stages(h.registry)["v3"] == "blessed"


def test_reconcile_without_a_rollout_says_so(h: Harness) -> None:
    with pytest.raises(RolloutError, match="carries no rollout"):
        h.controller().reconcile()
