"""The feature store in the cluster (manifests/base/features): Redis, Feast's feature server and the
scheduled materialisation job render in every overlay, are wired to each other and to the code they run,
and the NetworkPolicies let exactly the intended pods talk to them."""

from __future__ import annotations

import ast
import re
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from manifest_support import OVERLAYS, PROJECT, containers, copy_with_secrets, pod_specs, versions

from components.features import worker
from pipelines.features import END_OF_DATA

CLUSTER_CONFIG = PROJECT / "components" / "features" / "repo" / "feature_store.cluster.yaml"
FEATURES_DOCKERFILE = PROJECT / "images" / "features.Dockerfile"
KUBEFLOW = "kubeflow"


def named(objects: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    found = [obj for obj in objects if obj["kind"] == kind and obj["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind} {name}, found {len(found)}"
    return found[0]


def pod_spec(obj: dict[str, Any]) -> dict[str, Any]:
    [spec] = pod_specs(obj)
    return spec


def container(obj: dict[str, Any], name: str) -> dict[str, Any]:
    [found] = [c for c in containers(obj) if c["name"] == name]
    return found


def env_of(container_spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {entry["name"]: entry for entry in container_spec.get("env", [])}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_overlay_renders_the_feature_store(
    rendered: dict[str, list[dict[str, Any]]], overlay: str
) -> None:
    objects = rendered[overlay]
    for kind, name in [
        ("Deployment", "feature-redis"),
        ("Service", "feature-redis"),
        ("PersistentVolumeClaim", "feature-redis"),
        ("Deployment", "feature-server"),
        ("Service", "feature-server"),
        ("CronJob", "feature-materialization"),
        ("NetworkPolicy", "feature-redis-ingress"),
        ("NetworkPolicy", "feature-server"),
        ("NetworkPolicy", "model-serving-features-egress"),
    ]:
        named(objects, kind, name)
    redis = container(named(objects, "Deployment", "feature-redis"), "redis")
    assert redis["image"] == versions()["REDIS_IMAGE"]
    server = named(objects, "Deployment", "feature-server")
    images = {c["image"] for c in containers(server)}
    assert len(images) == 1 and images.pop().startswith("localhost:5000/flights-mlops-features:")


def secret_name(objects: list[dict[str, Any]], prefix: str) -> str:
    [name] = [
        obj["metadata"]["name"]
        for obj in objects
        if obj["kind"] == "Secret" and obj["metadata"]["name"].rsplit("-", 1)[0] == prefix
    ]
    return name


def test_redis_and_its_clients_share_the_generated_password(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    objects = rendered["staging"]
    secret = secret_name(objects, "feature-store")
    redis = container(named(objects, "Deployment", "feature-redis"), "redis")
    args = redis["args"]
    assert args[args.index("--requirepass") + 1] == "$(REDIS_PASSWORD)"
    for variable in ("REDIS_PASSWORD", "REDISCLI_AUTH"):
        assert env_of(redis)[variable]["valueFrom"]["secretKeyRef"] == {
            "name": secret,
            "key": "REDIS_PASSWORD",
        }
    service = named(objects, "Service", "feature-redis")
    [port] = service["spec"]["ports"]
    server = named(objects, "Deployment", "feature-server")
    job = named(objects, "CronJob", "feature-materialization")
    for client in [*containers(server), *containers(job)]:
        entries = client["env"]
        names = [entry["name"] for entry in entries]
        env = env_of(client)
        assert env["REDIS_PASSWORD"]["valueFrom"]["secretKeyRef"] == {"name": secret, "key": "REDIS_PASSWORD"}
        # Kubernetes expands $(NAME) only from variables defined earlier in the list.
        assert names.index("REDIS_PASSWORD") < names.index("MLOPS_FEATURES_REDIS"), client["name"]
        assert env["MLOPS_FEATURES_REDIS"]["value"] == (
            f"{service['metadata']['name']}:{port['port']},password=$(REDIS_PASSWORD)"
        )


def test_the_feature_server_runs_the_cluster_configuration_it_is_given(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    server = named(rendered["kind"], "Deployment", "feature-server")
    # Every variable the image's Feast configuration reads is set, in the init container and the server.
    wanted = set(re.findall(r"\$\{(\w+)\}", CLUSTER_CONFIG.read_text()))
    assert wanted == {"MLOPS_FEATURES_REGISTRY", "MLOPS_FEATURES_REDIS"}
    for client in containers(server):
        assert wanted <= set(env_of(client)), client["name"]
    # The registry is a file of the pod: on a volume both containers mount.
    registry = Path(env_of(container(server, "feature-server"))["MLOPS_FEATURES_REGISTRY"]["value"])
    volumes = {volume["name"]: volume for volume in pod_spec(server)["volumes"]}
    for client in containers(server):
        [mount] = [m for m in client["volumeMounts"] if registry.is_relative_to(m["mountPath"])]
        assert "emptyDir" in volumes[mount["name"]], client["name"]

    serving = container(server, "feature-server")
    args = serving["args"]
    assert args[0] == "serve" and args[args.index("--host") + 1] == "0.0.0.0"
    port = int(args[args.index("--port") + 1])
    assert serving["ports"] == [{"name": "http", "containerPort": port}]
    assert serving["readinessProbe"]["httpGet"] == {"path": "/health", "port": "http"}
    [service_port] = named(rendered["kind"], "Service", "feature-server")["spec"]["ports"]
    assert service_port["targetPort"] == "http"


def test_the_registration_runs_the_project_definitions_against_the_image_configuration(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    server = named(rendered["kind"], "Deployment", "feature-server")
    [register] = pod_spec(server)["initContainers"]
    assert register["command"] == ["python", "-c"]
    code = ast.parse(register["args"][0])
    imported = {
        (node.module, alias.name)
        for node in ast.walk(code)
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    assert ("components.features.definitions", "repository_objects") in imported
    definitions = ast.parse((PROJECT / "components" / "features" / "definitions.py").read_text())
    assert "repository_objects" in {
        node.name for node in definitions.body if isinstance(node, ast.FunctionDef)
    }
    # The folder it opens is where the features image puts the cluster configuration, and where its
    # entrypoint runs `feast` (the server's container).
    [repo_path] = [
        str(keyword.value.value)
        for node in ast.walk(code)
        if isinstance(node, ast.Call)
        for keyword in node.keywords
        if keyword.arg == "repo_path" and isinstance(keyword.value, ast.Constant)
    ]
    dockerfile = FEATURES_DOCKERFILE.read_text()
    assert f"{CLUSTER_CONFIG.relative_to(PROJECT)} {repo_path}/feature_store.yaml" in dockerfile
    assert f'ENTRYPOINT ["feast", "--chdir", "{repo_path}"]' in dockerfile


def test_the_feature_store_secret_is_generated_hex_and_per_overlay(tmp_path: Path) -> None:
    copy = copy_with_secrets(tmp_path / "manifests")
    passwords = {}
    for overlay in OVERLAYS:
        path = copy / "overlays" / overlay / "secrets" / "feature-store.env"
        entries = dict(line.split("=", 1) for line in path.read_text().splitlines())
        passwords[overlay] = entries["REDIS_PASSWORD"]
        # Feast's connection string is split at commas: the password must not hold one.
        assert re.fullmatch(r"[0-9a-f]{48}", passwords[overlay]), overlay
    assert len(set(passwords.values())) == len(OVERLAYS)
    again = subprocess.run(
        ["bash", str(copy / "generate-secrets.sh"), str(copy / "overlays" / "kind")],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "feature-store.env" not in again.stdout


def worker_arguments(container_spec: dict[str, Any]) -> Any:
    """The container's command line as the feature-store worker parses it."""
    assert container_spec["command"] == ["python", "-m", "components.features.worker"], container_spec["name"]
    return worker._parser().parse_args(container_spec["args"])


def test_the_materialisation_job_applies_the_cluster_configuration_then_loads_the_whole_window(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    cronjob = named(rendered["production"], "CronJob", "feature-materialization")
    spec = cronjob["spec"]
    assert not spec.get("suspend", False)
    assert spec["concurrencyPolicy"] == "Forbid"
    pod = pod_spec(cronjob)
    assert pod["restartPolicy"] == "Never"
    # Init containers run to completion one by one before the main container: apply, then materialize.
    [apply] = pod["initContainers"]
    [materialize] = pod["containers"]
    applied, loaded = worker_arguments(apply), worker_arguments(materialize)
    assert (applied.command, applied.config, applied.raw_data) == ("apply", "cluster", None)
    assert loaded.command == "materialize"
    assert loaded.repo == applied.repo
    # The whole window every run, the same instants the local route loads up to: nothing incremental.
    assert loaded.start == worker.DATA_START
    assert loaded.end == datetime.fromisoformat(END_OF_DATA)
    # Both run the features image, the one the feature server runs.
    server = named(rendered["production"], "Deployment", "feature-server")
    assert {apply["image"], materialize["image"]} == {container(server, "feature-server")["image"]}


def test_the_materialisation_job_sets_what_the_cluster_configuration_reads_on_its_own_volumes(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    cronjob = named(rendered["kind"], "CronJob", "feature-materialization")
    pod = pod_spec(cronjob)
    volumes = {volume["name"]: volume for volume in pod["volumes"]}
    for step in containers(cronjob):
        env = env_of(step)
        assert worker.unset_variables(CLUSTER_CONFIG, env) == [], step["name"]
        assert "value" in env["MLOPS_FEATURES_REGISTRY"] and "value" in env["MLOPS_FEATURES_REDIS"]
        # The repository, its registry and HOME are on volumes of the pod (the root filesystem is
        # read-only), and the repository and registry on one both steps mount: materialize reads what
        # apply wrote.
        repo = worker_arguments(step).repo
        for path in (repo, Path(env["MLOPS_FEATURES_REGISTRY"]["value"]), Path(env["HOME"]["value"])):
            [mount] = [m for m in step["volumeMounts"] if path.is_relative_to(m["mountPath"])]
            assert "emptyDir" in volumes[mount["name"]], (step["name"], path)
    mounts = [{(m["name"], m["mountPath"]) for m in step["volumeMounts"]} for step in containers(cronjob)]
    assert mounts[0] == mounts[1]
    # It needs no Kubernetes API: no token in the pod.
    assert pod["automountServiceAccountToken"] is False


# --- NetworkPolicies, evaluated -----------------------------------------------------------------


@dataclass(frozen=True)
class Pod:
    """A pod as NetworkPolicies see it: its namespace, its labels, and a name for messages."""

    name: str
    namespace: str
    labels: Mapping[str, str]


def selects(selector: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    for key, value in selector.get("matchLabels", {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions", []):
        key, operator = expression["key"], expression["operator"]
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
        if operator == "In" and labels.get(key) not in expression["values"]:
            return False
        if operator == "NotIn" and labels.get(key) in expression["values"]:
            return False
    return True


def peer_matches(peer: Mapping[str, Any], pod: Pod, policy_namespace: str) -> bool:
    if "ipBlock" in peer:
        return False
    namespace_labels = {"kubernetes.io/metadata.name": pod.namespace}
    if "namespaceSelector" in peer:
        in_namespace = selects(peer["namespaceSelector"], namespace_labels)
    else:
        in_namespace = pod.namespace == policy_namespace
    return in_namespace and selects(peer.get("podSelector", {}), pod.labels)


def allows(rules: Iterable[Mapping[str, Any]], side: str, peer: Pod, port: int, namespace: str) -> bool:
    for rule in rules:
        peers = rule.get(side)
        ports = rule.get("ports")
        if (peers is None or any(peer_matches(p, peer, namespace) for p in peers)) and (
            ports is None or any(p.get("port") == port for p in ports)
        ):
            return True
    return False


def may_connect(policies: list[dict[str, Any]], source: Pod, target: Pod, port: int) -> bool:
    """Whether ``source`` may open a connection to ``target:port`` under ``policies`` (all of one
    namespace). Pods of other namespaces are governed by no policy here: their egress is open."""

    def side_open(pod: Pod, policy_type: str, field: str, side: str, peer: Pod) -> bool:
        selecting = [
            p
            for p in policies
            if p["metadata"]["namespace"] == pod.namespace
            and policy_type in p["spec"]["policyTypes"]
            and selects(p["spec"]["podSelector"], pod.labels)
        ]
        if not selecting:
            return True
        return any(allows(p["spec"].get(field, []), side, peer, port, pod.namespace) for p in selecting)

    return side_open(source, "Egress", "egress", "to", target) and side_open(
        target, "Ingress", "ingress", "from", source
    )


def cluster_pods(objects: list[dict[str, Any]]) -> dict[str, Pod]:
    """Our workloads' pods, a model server's pod and the outside pods that talk to ours."""
    namespace = next(obj for obj in objects if obj["kind"] == "Namespace")["metadata"]["name"]
    pods = {}
    for obj in objects:
        if list(pod_specs(obj)):
            spec = obj["spec"]
            template = spec.get("template") or spec["jobTemplate"]["spec"]["template"]
            pods[obj["metadata"]["name"]] = Pod(
                obj["metadata"]["name"], namespace, template["metadata"]["labels"]
            )
    pods["model-server"] = Pod(
        "model-server", namespace, {"seldon-deployment-id": "flight-delay", "seldon-app": "flight-delay-main"}
    )
    pods["pipeline-step"] = Pod("pipeline-step", KUBEFLOW, {"pipelines.kubeflow.org/v2_component": "true"})
    pods["kubeflow-other"] = Pod("kubeflow-other", KUBEFLOW, {"app": "ml-pipeline-ui"})
    return pods


def test_the_policy_evaluator_follows_default_deny() -> None:
    namespace = "ns"
    deny = {
        "metadata": {"namespace": namespace, "name": "deny"},
        "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
    }
    allow = {
        "metadata": {"namespace": namespace, "name": "allow"},
        "spec": {
            "podSelector": {"matchLabels": {"app": "b"}},
            "policyTypes": ["Ingress"],
            "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "a"}}}], "ports": [{"port": 80}]}],
        },
    }
    egress = {
        "metadata": {"namespace": namespace, "name": "egress"},
        "spec": {
            "podSelector": {"matchLabels": {"app": "a"}},
            "policyTypes": ["Egress"],
            "egress": [{"to": [{"podSelector": {"matchLabels": {"app": "b"}}}]}],
        },
    }
    a, b = Pod("a", namespace, {"app": "a"}), Pod("b", namespace, {"app": "b"})
    assert not may_connect([deny], a, b, 80)
    assert not may_connect([deny, allow], a, b, 80)
    assert may_connect([deny, allow, egress], a, b, 80)
    assert not may_connect([deny, allow, egress], a, b, 81)
    assert not may_connect([deny, allow, egress], b, a, 80)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_only_the_feature_store_reaches_redis_and_only_model_servers_the_feature_server(
    rendered: dict[str, list[dict[str, Any]]], overlay: str
) -> None:
    objects = rendered[overlay]
    policies = [obj for obj in objects if obj["kind"] == "NetworkPolicy"]
    pods = cluster_pods(objects)
    redis_port = named(objects, "Service", "feature-redis")["spec"]["ports"][0]["port"]
    server_port = named(objects, "Service", "feature-server")["spec"]["ports"][0]["port"]

    def sources(target: str, port: int) -> set[str]:
        return {
            name
            for name, pod in pods.items()
            if name != target and may_connect(policies, pod, pods[target], port)
        }

    # Training steps read the offline side in their own pod; nothing of Kubeflow's reaches Redis.
    assert sources("feature-redis", redis_port) == {"feature-server", "feature-materialization"}
    assert sources("feature-server", server_port) == {"model-server"}
    # And the feature server and the materialisation job talk to nothing of ours but Redis.
    for client in ("feature-server", "feature-materialization"):
        reached = {
            name
            for name, pod in pods.items()
            if name != client
            for port in (redis_port, server_port, 3306, 8888, 9000)
            if may_connect(policies, pods[client], pod, port)
        }
        assert reached == {"feature-redis"}, client
