"""The Kubernetes actuator against a FAKE Kubernetes API server (tests/rollout/fake_kubernetes_api.py):
the real controller, kubernetes client and kubectl on one side, a stand-in API server on the other.

kubectl is needed (it is on every machine of this project; install kubectl 1.32 if it is missing).
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fake_kubernetes_api import FakeKubernetesApiServer
from kubernetes import client
from rollout_support import Clock, Traffic, fast_config, registry_with

from components.registry import ModelRegistry, Stage
from components.rollout.core.actuator import DeploymentConflict
from components.rollout.core.controller import DeploymentTarget, RolloutController
from components.rollout.core.ledger import RolloutLedger
from components.rollout.core.state import PREFIX, Phase
from components.rollout.core.strategy import Strategy
from components.rollout.core.traffic import TrafficBook
from components.rollout.kubernetes.actuator import KubernetesActuator

NAMESPACE, NAME = "flights-mlops", "flight-delay"


@dataclass
class Cluster:
    api: FakeKubernetesApiServer
    registry: ModelRegistry
    book: TrafficBook
    clock: Clock
    make: object

    def controller(self) -> RolloutController:
        return self.make()  # type: ignore[operator,no-any-return]

    def kubectl(self, *args: str) -> str:
        if shutil.which("kubectl") is None:
            pytest.fail("kubectl is not installed: install kubectl 1.32 to run the Kubernetes rollout tests")
        command = ["kubectl", f"--server={self.api.url}", "-n", NAMESPACE, *args]
        done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def stored(self) -> dict:  # type: ignore[type-arg]
        return self.api.stored(NAMESPACE, NAME)


def _actuator(url: str) -> KubernetesActuator:
    api = client.CustomObjectsApi(client.ApiClient(client.Configuration(host=url)))
    return KubernetesActuator(api, name=NAME, namespace=NAMESPACE)


@pytest.fixture()
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    uris = ["s3://mlpipeline/models/v1", "s3://mlpipeline/models/v2"]
    with FakeKubernetesApiServer() as api, registry_with(tmp_path, uris) as (store, registry):
        book, clock = TrafficBook(), Clock()

        def make() -> RolloutController:
            # A fresh actuator and controller each time, as a new controller process would have.
            return RolloutController(
                _actuator(api.url),
                book,
                RolloutLedger(store, registry),
                fast_config(),
                target=DeploymentTarget(name=NAME, namespace=NAMESPACE, image="registry.example/serving:1"),
                clock=clock,
            )

        yield Cluster(api, registry, book, clock, make)


def _weights(deployment: dict) -> dict[str, int]:  # type: ignore[type-arg]
    return {p["name"]: p["traffic"] for p in deployment["spec"]["predictors"]}


def test_a_canary_is_driven_through_the_api_server(cluster: Cluster) -> None:
    controller = cluster.controller()
    state = controller.start("v2", Strategy.CANARY)
    stored = cluster.stored()
    assert _weights(stored) == {"main": 90, "canary": 10}
    assert stored["metadata"]["annotations"][PREFIX + "phase"] == "progressing"
    assert cluster.kubectl("get", "sdep", NAME, "-o", "jsonpath={.spec.predictors[*].traffic}") == "90 10"
    seen = []
    traffic = Traffic(cluster.book)
    while not state.phase.final:
        traffic.step(cluster.clock.now, candidate="v2", main="v1", share=state.candidate_weight)
        cluster.clock.now += 10.5
        state = cluster.controller().reconcile()  # a new process every time: all state is on the object
        seen.append(_weights(cluster.stored()))
    assert seen == [
        {"main": 75, "canary": 25},
        {"main": 50, "canary": 50},
        {"main": 0, "canary": 100},
        {"main": 100},
    ]
    final = cluster.stored()
    assert final["spec"]["predictors"][0]["graph"]["modelUri"] == "s3://mlpipeline/models/v2"
    assert final["metadata"]["annotations"][PREFIX + "phase"] == "succeeded"
    assert (
        cluster.registry.get("v2").stage is Stage.PRODUCTION
        and cluster.registry.get("v1").stage is Stage.ARCHIVED
    )


def test_kubectl_annotate_aborts_the_rollout(cluster: Cluster) -> None:
    cluster.controller().start("v2", Strategy.CANARY)
    cluster.kubectl("annotate", "sdep", NAME, f"{PREFIX}request=abort", "--overwrite")
    state = cluster.controller().reconcile()
    assert state.phase is Phase.ABORTED
    yaml_text = cluster.kubectl("get", "sdep", NAME, "-o", "yaml")
    assert f"{PREFIX}phase: aborted" in yaml_text and f"{PREFIX}message: aborted by an operator" in yaml_text
    assert _weights(cluster.stored()) == {"main": 100, "canary": 0}
    assert cluster.registry.get("v2").stage is Stage.BLESSED


def test_kubectl_annotate_promotes_the_rollout(cluster: Cluster) -> None:
    cluster.controller().start("v2", Strategy.SHADOW)
    assert [p.get("shadow", False) for p in cluster.stored()["spec"]["predictors"]] == [False, True]
    cluster.kubectl("annotate", "sdep", NAME, f"{PREFIX}request=promote", "--overwrite")
    assert cluster.controller().reconcile().phase is Phase.SUCCEEDED
    assert cluster.registry.get("v2").stage is Stage.PRODUCTION


def test_the_request_method_annotates_like_kubectl(cluster: Cluster) -> None:
    cluster.controller().start("v2", Strategy.AB)
    _actuator(cluster.api.url).request("abort")
    assert cluster.stored()["metadata"]["annotations"][PREFIX + "request"] == "abort"
    assert cluster.controller().reconcile().phase is Phase.ABORTED
    assert _weights(cluster.stored()) == {"main": 100}


def test_a_replace_based_on_a_stale_version_is_a_conflict(cluster: Cluster) -> None:
    controller = cluster.controller()
    state = controller.start("v2", Strategy.CANARY)
    actuator = _actuator(cluster.api.url)
    stale = actuator.observe().resource_version
    cluster.kubectl("annotate", "sdep", NAME, f"{PREFIX}request=abort", "--overwrite")
    with pytest.raises(DeploymentConflict, match="409"):
        actuator.apply(controller._plan(state.evolve(step=1)), expected=stale)
    assert cluster.stored()["metadata"]["annotations"][PREFIX + "request"] == "abort"  # not overwritten
    with pytest.raises(DeploymentConflict):
        actuator.apply(controller._plan(state), expected=None)  # a second create


def test_nothing_deployed_reads_as_absent(cluster: Cluster) -> None:
    observed = _actuator(cluster.api.url).observe()
    assert (observed.exists, observed.state) == (False, None)


def test_a_rollout_with_a_feature_server_keeps_every_model_behind_its_transformer(tmp_path: Path) -> None:
    uris = ["s3://mlpipeline/models/v1", "s3://mlpipeline/models/v2"]
    target = DeploymentTarget(
        name=NAME,
        namespace=NAMESPACE,
        image="registry.example/serving:1",
        feature_server_url="http://feature-server:6566",
    )
    with FakeKubernetesApiServer() as api, registry_with(tmp_path, uris) as (store, registry):
        controller = RolloutController(
            _actuator(api.url), TrafficBook(), RolloutLedger(store, registry), fast_config(), target=target
        )
        controller.start("v2", Strategy.CANARY)
        predictors = api.stored(NAMESPACE, NAME)["spec"]["predictors"]
    assert [p["name"] for p in predictors] == ["main", "canary"]
    for predictor in predictors:
        graph = predictor["graph"]
        assert graph["type"] == "TRANSFORMER" and graph["children"][0]["type"] == "MODEL"
        parameters = {item["name"]: item["value"] for item in graph["parameters"]}
        assert parameters["feature_server_url"] == "http://feature-server:6566"
