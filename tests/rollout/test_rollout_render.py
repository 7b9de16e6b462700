"""SeldonDeployment rendering: every strategy and step passes the vendored CRD schema and Seldon's
admission rules; invalid names, weights and fields are refused before anything reaches a cluster."""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any

import pytest
import yaml

from components.rollout.core.config import load_config
from components.rollout.core.crd import check_seldon_deployment
from components.rollout.core.render import (
    DeploymentPlan,
    ServedVersion,
    render_manifests,
    render_seldon_deployment,
    to_yaml,
)
from components.rollout.core.strategy import Strategy, candidate_weights, parse_strategy
from contracts.errors import RolloutError

MAIN = ServedVersion("v1", "s3://mlpipeline/models/v1")
CANDIDATE = ServedVersion("v2", "s3://mlpipeline/models/v2")


def _plan(strategy: Strategy, weight: int = 10, **options: Any) -> DeploymentPlan:
    return DeploymentPlan(
        main=MAIN, candidate=CANDIDATE, strategy=strategy, candidate_weight=weight, **options
    )


def _units(unit: dict[str, Any]) -> list[dict[str, Any]]:
    return [unit, *[u for child in unit.get("children", []) for u in _units(child)]]


@pytest.mark.parametrize("weight", load_config().steps.canary)
def test_canary_weights_sum_to_100_at_every_step(weight: int) -> None:
    deployment = render_seldon_deployment(_plan(Strategy.CANARY, weight))
    main, canary = deployment["spec"]["predictors"]
    assert (main["name"], main["traffic"], canary["name"], canary["traffic"]) == (
        "main",
        100 - weight,
        "canary",
        weight,
    )
    assert main["graph"]["parameters"][1] == {"name": "model_version", "value": "v1", "type": "STRING"}
    assert canary["graph"]["modelUri"] == CANDIDATE.model_uri
    assert canary["labels"] == {"flights-mlops.io/model-version": "v2"}


def test_shadow_mirrors_to_a_shadow_predictor() -> None:
    main, shadow = render_seldon_deployment(_plan(Strategy.SHADOW))["spec"]["predictors"]
    assert main["traffic"] == 100 and "shadow" not in main
    assert shadow["shadow"] is True and shadow["traffic"] == 0


def test_ab_is_a_random_abtest_router_over_both_models() -> None:
    [predictor] = render_seldon_deployment(_plan(Strategy.AB, 30))["spec"]["predictors"]
    graph = predictor["graph"]
    assert (graph["type"], graph["implementation"]) == ("ROUTER", "RANDOM_ABTEST")
    assert graph["parameters"] == [{"name": "ratioA", "value": "0.7", "type": "FLOAT"}]
    assert [c["name"] for c in graph["children"]] == ["flight-delay-v1", "flight-delay-v2"]


def test_bandit_runs_our_router_with_shared_state() -> None:
    deployment, claim = render_manifests(_plan(Strategy.BANDIT))
    [predictor] = deployment["spec"]["predictors"]
    graph = predictor["graph"]
    router_spec = predictor["componentSpecs"][0]
    [container] = router_spec["spec"]["containers"]
    assert graph["name"] == container["name"] == "bandit-router" and "implementation" not in graph
    assert container["args"] == ["components.rollout.routing.router.BanditRouter", "--service-type", "ROUTER"]
    assert router_spec["replicas"] == 2
    volume = router_spec["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"]
    assert claim["kind"] == "PersistentVolumeClaim" and claim["metadata"]["name"] == volume
    parameters = {p["name"]: p["value"] for p in graph["parameters"]}
    assert parameters["policy"] == "thompson" and parameters["arm_names"] == "v1,v2"


@pytest.mark.parametrize("strategy", list(Strategy))
def test_every_graph_unit_has_its_container_and_the_serving_image(strategy: Strategy) -> None:
    deployment = render_seldon_deployment(
        _plan(strategy, candidate_weights(strategy, load_config().steps)[0])
    )
    for predictor in deployment["spec"]["predictors"]:
        containers = {
            c["name"]: c for spec in predictor["componentSpecs"] for c in spec["spec"]["containers"]
        }
        for unit in _units(predictor["graph"]):
            if unit.get("implementation") == "RANDOM_ABTEST":
                continue
            assert containers[unit["name"]]["image"].split("/")[-1].startswith("flights-mlops-serving:")
            assert containers[unit["name"]]["securityContext"]["runAsNonRoot"] is True


@pytest.mark.parametrize("strategy", list(Strategy))
def test_yaml_round_trips(strategy: Strategy) -> None:
    objects = render_manifests(_plan(strategy))
    assert list(yaml.safe_load_all(to_yaml(objects))) == objects


def test_main_alone_when_there_is_no_candidate() -> None:
    [predictor] = render_seldon_deployment(DeploymentPlan(main=MAIN))["spec"]["predictors"]
    assert (predictor["name"], predictor["traffic"]) == ("main", 100)


def test_state_annotations_are_carried() -> None:
    annotations = {"rollout.flights-mlops.io/phase": "progressing", "rollout.flights-mlops.io/step": "0"}
    deployment = render_seldon_deployment(_plan(Strategy.CANARY, annotations=annotations))
    assert deployment["metadata"]["annotations"] == annotations


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"name": "Flight_Delay"}, "deployment name"),
        ({"namespace": "a" * 64}, "namespace"),
        ({"namespace": "Prod"}, "namespace"),
        ({"annotations": {"bad key!": "x"}}, "annotation key"),
        ({"candidate_weight": 101}, "0-100"),
        ({"candidate_weight": -1}, "0-100"),
        ({"candidate": MAIN}, "main version itself"),
        ({"candidate": ServedVersion("v2", "")}, "no model URI"),
        ({"candidate": ServedVersion("v2 beta", "s3://x")}, "model version"),
    ],
)
def test_invalid_plans_are_refused(options: dict[str, Any], message: str) -> None:
    plan = {
        "main": MAIN,
        "candidate": CANDIDATE,
        "strategy": Strategy.CANARY,
        "candidate_weight": 10,
        **options,
    }
    with pytest.raises(RolloutError, match=message):
        render_seldon_deployment(DeploymentPlan(**plan))


def _canary() -> dict[str, Any]:
    return copy.deepcopy(render_seldon_deployment(_plan(Strategy.CANARY, 25)))


def test_schema_refuses_wrong_types() -> None:
    deployment = _canary()
    deployment["spec"]["predictors"][0]["traffic"] = "ninety"
    with pytest.raises(
        RolloutError, match=r"spec\.predictors\[0\]\.traffic: 'ninety' is not of type 'integer'"
    ):
        check_seldon_deployment(deployment)


def test_a_misspelt_field_that_the_api_server_would_drop_is_refused() -> None:
    deployment = _canary()
    deployment["spec"]["predictors"][1]["trafic"] = 25
    with pytest.raises(RolloutError, match=r"spec\.predictors\[1\]\.trafic: unknown field"):
        check_seldon_deployment(deployment)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["spec"]["predictors"][1].update(traffic=20), "sums to 95"),
        (lambda d: d["spec"]["predictors"][1].update(name="main"), "duplicate predictor names"),
        (
            lambda d: d["spec"]["predictors"][1]["graph"].update(name="elsewhere"),
            "no container named 'elsewhere'",
        ),
        (lambda d: [p.update(shadow=True) for p in d["spec"]["predictors"]], "more than one shadow"),
        (lambda d: d["spec"].update(predictors=[]), "at least one predictor"),
    ],
)
def test_seldon_admission_rules(change: Any, message: str) -> None:
    deployment = _canary()
    change(deployment)
    with pytest.raises(RolloutError, match=message):
        check_seldon_deployment(deployment)


def test_parse_strategy() -> None:
    assert [parse_strategy(t) for t in ("Canary", "a/b", "A-B", "shadow", "bandit")] == [
        Strategy.CANARY,
        Strategy.AB,
        Strategy.AB,
        Strategy.SHADOW,
        Strategy.BANDIT,
    ]
    with pytest.raises(RolloutError, match="canary, shadow, ab, bandit"):
        parse_strategy("blue-green")


def test_every_container_runs_the_planned_server_shape() -> None:
    # Seldon's own default is 1 worker x 1 thread: one request at a time per pod.
    plan = DeploymentPlan(
        main=MAIN, candidate=CANDIDATE, strategy=Strategy.AB, candidate_weight=50, threads=8
    )
    containers = [
        container
        for spec in render_seldon_deployment(plan)["spec"]["predictors"][0]["componentSpecs"]
        for container in spec["spec"]["containers"]
    ]
    assert containers
    for container in containers:
        env = {item["name"]: item["value"] for item in container["env"]}
        assert env == {"GUNICORN_WORKERS": "1", "GUNICORN_THREADS": "8"}, container["name"]


@pytest.mark.parametrize(("workers", "threads"), [(0, 4), (1, 0)])
def test_a_server_without_workers_or_threads_is_refused(workers: int, threads: int) -> None:
    with pytest.raises(RolloutError, match="at least 1 worker and 1 thread"):
        render_seldon_deployment(DeploymentPlan(main=MAIN, workers=workers, threads=threads))


def test_every_model_writes_its_request_log_to_the_monitors_volume() -> None:
    plan = DeploymentPlan(main=MAIN, candidate=CANDIDATE, strategy=Strategy.CANARY, candidate_weight=10)
    predictors = render_seldon_deployment(plan)["spec"]["predictors"]
    for predictor in predictors:
        parameters = {item["name"]: item["value"] for item in predictor["graph"]["parameters"]}
        assert parameters["request_log"] == "/var/lib/flights-mlops/requests"
        [pod] = [spec["spec"] for spec in predictor["componentSpecs"]]
        assert pod["volumes"] == [
            {"name": "serving-records", "persistentVolumeClaim": {"claimName": "serving-records"}}
        ]
        assert pod["containers"][0]["volumeMounts"] == [
            {"name": "serving-records", "mountPath": "/var/lib/flights-mlops"}
        ]
    quiet = render_seldon_deployment(replace(plan, request_log_claim=""))["spec"]["predictors"][0]
    assert "request_log" not in {item["name"] for item in quiet["graph"]["parameters"]}
    assert "volumes" not in quiet["componentSpecs"][0]["spec"]
