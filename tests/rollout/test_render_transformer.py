"""The feature-store TRANSFORMER in rendered SeldonDeployments: with a feature server every model of every
strategy sits behind its own transformer, in its pod, checked against the vendored CRD and Seldon's
admission rules; without one the graphs are unchanged."""

from __future__ import annotations

import ast
import copy
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from components.rollout.core.config import load_config
from components.rollout.core.crd import check_seldon_deployment
from components.rollout.core.render import (
    MOUNTED_MODEL_PATH,
    DeploymentPlan,
    ServedVersion,
    render_manifests,
    render_seldon_deployment,
    to_yaml,
)
from components.rollout.core.strategy import Strategy, candidate_weights
from components.settings import PROJECT_ROOT
from contracts.errors import RolloutError
from contracts.names import TRANSFORMER_CLASS

MAIN = ServedVersion("v1", "s3://mlpipeline/models/v1")
CANDIDATE = ServedVersion("v2", "s3://mlpipeline/models/v2")
FEATURE_SERVER = "http://feature-server:6566"


def _plan(strategy: Strategy, **options: Any) -> DeploymentPlan:
    weight = candidate_weights(strategy, load_config().steps)[0]
    return DeploymentPlan(
        main=MAIN, candidate=CANDIDATE, strategy=strategy, candidate_weight=weight, **options
    )


def _with_parents(
    unit: dict[str, Any], parent: dict[str, Any] | None = None
) -> Iterator[tuple[dict[str, Any], dict[str, Any] | None]]:
    yield unit, parent
    for child in unit.get("children", []):
        yield from _with_parents(child, unit)


def _pods(predictor: dict[str, Any]) -> list[dict[str, dict[str, Any]]]:
    """Per componentSpec (one pod each): container name -> container."""
    return [{c["name"]: c for c in spec["spec"]["containers"]} for spec in predictor["componentSpecs"]]


@pytest.mark.parametrize("strategy", list(Strategy))
def test_without_a_feature_server_no_transformer_is_rendered(strategy: Strategy) -> None:
    deployment = render_seldon_deployment(_plan(strategy))
    for predictor in deployment["spec"]["predictors"]:
        assert all(unit.get("type") != "TRANSFORMER" for unit, _ in _with_parents(predictor["graph"]))
        args = [c["args"][0] for pod in _pods(predictor) for c in pod.values()]
        assert TRANSFORMER_CLASS not in args


@pytest.mark.parametrize("strategy", list(Strategy))
def test_every_model_sits_behind_its_own_transformer_in_its_pod(strategy: Strategy) -> None:
    deployment = render_seldon_deployment(_plan(strategy, feature_server_url=FEATURE_SERVER))
    fronted = []
    for predictor in deployment["spec"]["predictors"]:
        pods = _pods(predictor)
        for unit, parent in _with_parents(predictor["graph"]):
            if unit["type"] != "MODEL":
                continue
            assert parent is not None and parent["type"] == "TRANSFORMER", unit["name"]
            assert parent["name"] == f"{unit['name']}-features"
            assert parent["children"] == [unit]
            # The transformer reads the serving schema of exactly the version it fronts.
            assert parent["modelUri"] == unit["modelUri"]
            assert parent["parameters"] == [
                {"name": "feature_server_url", "value": FEATURE_SERVER, "type": "STRING"},
                {"name": "model_uri", "value": MOUNTED_MODEL_PATH, "type": "STRING"},
            ]
            [pod] = [pod for pod in pods if unit["name"] in pod]
            transformer = pod[parent["name"]]
            assert transformer["args"] == [TRANSFORMER_CLASS, "--service-type", "TRANSFORMER"]
            assert transformer["image"] == pod[unit["name"]]["image"]
            assert transformer["securityContext"]["runAsNonRoot"] is True
            assert transformer["securityContext"]["capabilities"] == {"drop": ["ALL"]}
            fronted.append(unit["name"])
    expected = {"flight-delay-v1", "flight-delay-v2"}
    assert set(fronted) == expected


def test_a_main_version_alone_is_fronted_too() -> None:
    deployment = render_seldon_deployment(DeploymentPlan(main=MAIN, feature_server_url=FEATURE_SERVER))
    [predictor] = deployment["spec"]["predictors"]
    graph = predictor["graph"]
    assert (graph["type"], graph["name"]) == ("TRANSFORMER", "flight-delay-v1-features")
    assert [child["name"] for child in graph["children"]] == ["flight-delay-v1"]


def test_the_bandit_router_routes_between_transformers_and_keeps_its_state_claim() -> None:
    deployment, claim = render_manifests(_plan(Strategy.BANDIT, feature_server_url=FEATURE_SERVER))
    [predictor] = deployment["spec"]["predictors"]
    assert predictor["graph"]["type"] == "ROUTER"
    assert [child["type"] for child in predictor["graph"]["children"]] == ["TRANSFORMER", "TRANSFORMER"]
    assert claim["kind"] == "PersistentVolumeClaim"


def _init_parameters(module_path: str, class_name: str) -> tuple[set[str], set[str]]:
    """(all, required) constructor parameters of a class, read from its source: the serving environment's
    modules (seldon_core) cannot be imported here."""
    tree = ast.parse((PROJECT_ROOT / module_path).read_text(encoding="utf-8"))
    [cls] = [node for node in tree.body if isinstance(node, ast.ClassDef) and node.name == class_name]
    [init] = [node for node in cls.body if isinstance(node, ast.FunctionDef) and node.name == "__init__"]
    names = [arg.arg for arg in init.args.args[1:]]
    required = names[: len(names) - len(init.args.defaults)]
    return set(names), set(required)


def test_the_transformer_parameters_are_its_constructor_arguments() -> None:
    # Seldon's microservice passes a unit's parameters to the class as keyword arguments.
    module, _, class_name = TRANSFORMER_CLASS.rpartition(".")
    accepted, required = _init_parameters(module.replace(".", "/") + ".py", class_name)
    deployment = render_seldon_deployment(_plan(Strategy.CANARY, feature_server_url=FEATURE_SERVER))
    transformer = deployment["spec"]["predictors"][0]["graph"]
    given = {parameter["name"] for parameter in transformer["parameters"]}
    assert required <= given <= accepted, (required, given, accepted)


def test_a_transformer_without_its_container_is_refused() -> None:
    deployment = copy.deepcopy(
        render_seldon_deployment(_plan(Strategy.CANARY, feature_server_url=FEATURE_SERVER))
    )
    containers = deployment["spec"]["predictors"][1]["componentSpecs"][0]["spec"]["containers"]
    containers[:] = [c for c in containers if not c["name"].endswith("-features")]
    with pytest.raises(RolloutError, match="no container named 'flight-delay-v2-features'"):
        check_seldon_deployment(deployment)


@pytest.mark.parametrize(
    "url", ["feature-server:6566", "ftp://feature-server:6566", "http://feature-server:6566/get", "http://"]
)
def test_a_malformed_feature_server_url_is_refused(url: str) -> None:
    with pytest.raises(RolloutError, match="feature server URL"):
        render_seldon_deployment(_plan(Strategy.CANARY, feature_server_url=url))


def test_a_transformer_name_too_long_for_kubernetes_is_refused() -> None:
    # The model's own unit name fits in 63 characters; with "-features" it would not.
    name = "d" * (63 - len("-v1") - 2)
    assert render_seldon_deployment(DeploymentPlan(main=MAIN, name=name))
    with pytest.raises(RolloutError, match="transformer unit name"):
        render_seldon_deployment(DeploymentPlan(main=MAIN, name=name, feature_server_url=FEATURE_SERVER))


@pytest.mark.parametrize("strategy", list(Strategy))
def test_yaml_round_trips_with_transformers(strategy: Strategy) -> None:
    objects = render_manifests(_plan(strategy, feature_server_url=FEATURE_SERVER))
    assert list(yaml.safe_load_all(to_yaml(objects))) == objects
