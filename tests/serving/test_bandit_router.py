"""The bandit router (components/rollout/routing/router.py) in the serving environment: a simulation of its
convergence with measured regret, atomic feedback from concurrent processes, and the real Seldon
ROUTER microservice over HTTP."""

from __future__ import annotations

import json
import multiprocessing
import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from seldon_core.flask_utils import SeldonMicroserviceException

from components.rollout.core.http_json import get_json, post_json
from components.rollout.routing.bandit import BanditState
from components.rollout.routing.router import BanditRouter
from components.rollout.routing.server import RouterServer, start_router
from contracts.errors import RolloutError

# Two versions whose answers are right 62% and 70% of the time: a gap of the size a retrained model
# might open, small enough that a policy has to learn it from a few hundred rewards.
ARM_ACCURACY = (0.62, 0.70)
ROUNDS = 3_000


def _simulate(policy: str, state: Path, seed: int) -> dict[str, float]:
    """Two router replicas sharing one state file take turns; each answer's reward is Bernoulli."""
    replicas = [
        BanditRouter(str(state), policy=policy, epsilon=0.1, seed=seed + replica) for replica in range(2)
    ]
    world = random.Random(seed)
    best = max(ARM_ACCURACY)
    regret = 0.0
    best_pulls_late = 0
    for step in range(ROUNDS):
        router = replicas[step % 2]
        arm = router.route(None, [])
        regret += best - ARM_ACCURACY[arm]
        reward = 1.0 if world.random() < ARM_ACCURACY[arm] else 0.0
        router.send_feedback(None, [], reward, None, routing=arm)
        if step >= ROUNDS - 1_000:
            best_pulls_late += arm == ARM_ACCURACY.index(best)
    uniform_regret = ROUNDS * (best - sum(ARM_ACCURACY) / len(ARM_ACCURACY))
    return {
        "regret": regret,
        "uniform_regret": uniform_regret,
        "best_share_last_1000": best_pulls_late / 1_000,
    }


@pytest.mark.parametrize("policy", ["thompson", "epsilon-greedy"])
def test_bandit_converges_to_the_better_arm_with_low_regret(policy: str, tmp_path: Path) -> None:
    results = [_simulate(policy, tmp_path / f"state-{seed}.sqlite", seed) for seed in (1, 2, 3)]
    print(f"\n{policy}: {ROUNDS} rounds, arms {ARM_ACCURACY}, two replicas sharing the state")
    print("seed  regret  uniform-routing regret  best-arm share (last 1000)")
    for seed, result in zip((1, 2, 3), results, strict=True):
        print(
            f"{seed:<5} {result['regret']:6.1f}  {result['uniform_regret']:22.1f}  "
            f"{result['best_share_last_1000']:.3f}"
        )
    for result in results:
        # Routing at random would lose 120 rewards; a bandit that learned loses a fraction of that.
        assert result["regret"] < 0.4 * result["uniform_regret"], result
        assert result["best_share_last_1000"] > 0.85, result


def test_state_is_shared_by_replicas(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite"
    first = BanditRouter(str(state), seed=1)
    second = BanditRouter(str(state), seed=2)
    first.send_feedback(None, [], 1.0, None, routing=1)
    second.send_feedback(None, [], 0.0, None, routing=1)
    arms = second.health_status()["arms"]
    assert arms[1] == {"name": "arm-1", "pulls": 2.0, "mean_reward": 0.5}
    assert first.health_status() == second.health_status()


def _feedback_worker(state: str, arm: int, count: int) -> None:
    router = BanditRouter(state, seed=arm)
    for index in range(count):
        router.send_feedback(None, [], float(index % 2), None, routing=arm)


def test_concurrent_feedback_from_processes_is_never_lost(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite"
    BanditState(state, 2)
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_feedback_worker, args=(str(state), i % 2, 300)) for i in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
        assert worker.exitcode == 0
    arms = BanditState(state, 2).snapshot()
    assert [(a.pulls, a.reward) for a in arms] == [(600.0, 300.0), (600.0, 300.0)]


def test_bad_feedback_is_refused_and_changes_nothing(tmp_path: Path) -> None:
    router = BanditRouter(str(tmp_path / "state.sqlite"))
    with pytest.raises(SeldonMicroserviceException) as no_routing:
        router.send_feedback(None, [], 1.0, None, routing=None)
    with pytest.raises(SeldonMicroserviceException) as out_of_range:
        router.send_feedback(None, [], 1.5, None, routing=0)
    with pytest.raises(SeldonMicroserviceException) as unknown_arm:
        router.send_feedback(None, [], 1.0, None, routing=5)
    assert (
        no_routing.value.status_code == out_of_range.value.status_code == unknown_arm.value.status_code == 400
    )
    assert [a.pulls for a in router.state.snapshot()] == [0.0, 0.0]


def test_refuses_unknown_policy_and_mismatched_state(tmp_path: Path) -> None:
    with pytest.raises(RolloutError, match="policy"):
        BanditRouter(str(tmp_path / "a.sqlite"), policy="greedy")
    BanditRouter(str(tmp_path / "b.sqlite"), branches=2)
    with pytest.raises(RolloutError, match="holds 2 arms, not 3"):
        BanditRouter(str(tmp_path / "b.sqlite"), branches=3)


@pytest.fixture(scope="module")
def router_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RouterServer]:
    state = tmp_path_factory.mktemp("bandit") / "state.sqlite"
    server = start_router(
        state, policy="epsilon-greedy", epsilon=0.0, arm_names="v1,v2", seed=3, grpc_workers=0
    )
    yield server
    server.stop()


_post = post_json


def test_router_microservice_routes_and_learns_over_http(router_server: RouterServer) -> None:
    url = router_server.http_url
    request = {"data": {"ndarray": [[1.0]]}}
    for _ in range(5):
        status, answer = _post(
            f"{url}/api/v1.0/feedback",
            {"request": request, "response": {"meta": {"routing": {"bandit-router": 1}}}, "reward": 1.0},
        )
        assert status == 200, answer
    _post(
        f"{url}/api/v1.0/feedback",
        {"request": request, "response": {"meta": {"routing": {"bandit-router": 0}}}, "reward": 0.0},
    )
    routes = [_post(f"{url}/route", request)[1]["data"]["ndarray"][0][0] for _ in range(10)]
    assert routes == [1] * 10  # greedy (epsilon 0) picks the arm that earned rewards
    _, health = get_json(f"{url}/health/status")
    assert health["jsonData"]["arms"][1] == {"name": "v2", "pulls": 5.0, "mean_reward": 1.0}


def test_router_microservice_refuses_feedback_without_routing(router_server: RouterServer) -> None:
    status, answer = _post(
        f"{router_server.http_url}/api/v1.0/feedback",
        {"request": {"data": {"ndarray": [[1.0]]}}, "reward": 1.0},
    )
    assert status == 400
    assert "routing" in json.dumps(answer)
