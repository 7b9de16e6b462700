"""Security and wiring rules the manifests keep: least privilege, non-root pods, no committed secrets,
images set through kustomize, default-deny networking, one name for the pipeline runner account."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from manifest_support import MANIFESTS, OUR_IMAGES, OVERLAYS, PROJECT, containers, identify, pod_specs

from cli import deploy_commands
from cli.main import build_parser

ALL_BUILDS = [*OVERLAYS, "platform"]
UID = 10001


def wildcard_grants(obj: dict[str, Any]) -> list[str]:
    """Every '*' a Role or ClusterRole grants, as 'field=*' per rule."""
    if obj["kind"] not in ("Role", "ClusterRole"):
        return []
    return [
        f"{identify(obj)} rule {index}: {field}=*"
        for index, rule in enumerate(obj.get("rules", []))
        for field in ("verbs", "resources", "apiGroups", "resourceNames", "nonResourceURLs")
        if "*" in rule.get(field, [])
    ]


def test_the_wildcard_check_finds_wildcards() -> None:
    role = {
        "kind": "Role",
        "metadata": {"name": "r"},
        "rules": [{"apiGroups": ["*"], "resources": ["pods"], "verbs": ["*"]}],
    }
    assert wildcard_grants(role) == ["Role/-/r rule 0: verbs=*", "Role/-/r rule 0: apiGroups=*"]


@pytest.mark.parametrize("build", ALL_BUILDS)
def test_rbac_grants_no_wildcards_and_no_cluster_roles(
    rendered: dict[str, list[dict[str, Any]]], build: str
) -> None:
    objects = rendered[build]
    assert not [w for obj in objects for w in wildcard_grants(obj)]
    assert not [identify(obj) for obj in objects if obj["kind"] in ("ClusterRole", "ClusterRoleBinding")]


def rules_of(objects: list[dict[str, Any]], name: str) -> dict[str, set[str]]:
    role = next(obj for obj in objects if obj["kind"] == "Role" and obj["metadata"]["name"] == name)
    return {
        f"{group}/{resource}": set(rule["verbs"])
        for rule in role["rules"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
    }


def test_rollout_controller_gets_and_patches_seldon_deployments_and_reads_pods_and_services(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    assert rules_of(rendered["production"], "rollout-controller") == {
        "machinelearning.seldon.io/seldondeployments": {"get", "list", "watch", "patch"},
        "/pods": {"get", "list", "watch"},
        "/services": {"get", "list", "watch"},
    }


def test_pipeline_runs_get_only_what_a_v2_run_needs(rendered: dict[str, list[dict[str, Any]]]) -> None:
    role = next(obj for obj in rendered["platform"] if obj["kind"] == "Role")
    assert rules_of(rendered["platform"], role["metadata"]["name"]) == {
        "argoproj.io/workflowtaskresults": {"create", "patch"},
        "/secrets": {"get"},
        "/configmaps": {"get"},
    }
    named = {rule["resources"][0]: rule.get("resourceNames") for rule in role["rules"]}
    assert named["secrets"] == ["mlpipeline-minio-artifact"]
    assert named["configmaps"] == ["kfp-launcher"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_container_runs_as_non_root_without_privileges_and_with_limits(
    rendered: dict[str, list[dict[str, Any]]], overlay: str
) -> None:
    workloads = [obj for obj in rendered[overlay] if list(pod_specs(obj))]
    assert {obj["kind"] for obj in workloads} == {"Deployment", "CronJob"}
    for obj in workloads:
        [pod] = pod_specs(obj)
        for container in containers(obj):
            where = f"{identify(obj)} container {container['name']}"
            security = {**pod.get("securityContext", {}), **container.get("securityContext", {})}
            assert security.get("runAsNonRoot") is True, where
            assert security.get("runAsUser") == UID, where
            assert security.get("allowPrivilegeEscalation") is False, where
            assert security.get("readOnlyRootFilesystem") is True, where
            assert container["securityContext"]["capabilities"]["drop"] == ["ALL"], where
            assert security.get("seccompProfile") == {"type": "RuntimeDefault"}, where
            for bound in ("requests", "limits"):
                assert set(container["resources"][bound]) >= {"cpu", "memory"}, where


def test_no_secret_is_committed() -> None:
    tracked = subprocess.run(
        ["git", "ls-files", "manifests"], cwd=PROJECT, capture_output=True, text=True, check=True
    ).stdout.split()
    assert not [
        path for path in tracked if "/secrets/" in path or (path.endswith(".env") and "versions" not in path)
    ]
    for path in tracked:
        if path.endswith((".yaml", ".yml")):
            for document in yaml.safe_load_all((PROJECT / path).read_text()):
                if isinstance(document, dict) and document.get("kind") == "Secret":
                    pytest.fail(f"{path} commits a Secret; generate it with a secretGenerator instead")
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", "manifests/overlays/production/secrets/metadata-store.env"], cwd=PROJECT
    )
    assert ignored.returncode == 0, "generated secret env files must be git-ignored"


def split_image(image: str) -> tuple[str, str]:
    """(repository, tag or digest) of an image reference; the pin is empty when there is none."""
    if "@" in image:
        repository, digest = image.split("@", 1)
        return repository, digest
    head, _, last = image.rpartition("/")
    name, _, tag = last.partition(":")
    return (f"{head}/{name}" if head else name), tag


def test_our_images_are_named_bare_in_the_base_and_set_by_every_overlay(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    base_images = {
        container["image"]
        for path in sorted((MANIFESTS / "base").rglob("*.yaml"))
        for document in yaml.safe_load_all(path.read_text())
        if isinstance(document, dict)
        for container in containers(document)
    }
    assert base_images == {"mysql", "redis", "flights-mlops-pipeline", "flights-mlops-features"}
    for overlay in OVERLAYS:
        kustomization = yaml.safe_load((MANIFESTS / "overlays" / overlay / "kustomization.yaml").read_text())
        assert {image["name"] for image in kustomization["images"]} == set(OUR_IMAGES), overlay
        for obj in rendered[overlay]:
            for container in containers(obj):
                repository, pin = split_image(container["image"])
                ours = repository.rsplit("/", 1)[-1] in OUR_IMAGES
                assert not ours or "/" in repository, f"{overlay}: {repository} has no registry"
                assert pin and pin != "latest", f"{overlay}: {container['image']} is not pinned"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_network_policies_deny_by_default_and_allow_what_each_workload_needs(
    rendered: dict[str, list[dict[str, Any]]], overlay: str
) -> None:
    policies = {
        obj["metadata"]["name"]: obj["spec"] for obj in rendered[overlay] if obj["kind"] == "NetworkPolicy"
    }
    assert policies["default-deny-all"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    store_from = policies["metadata-store-ingress"]["ingress"][0]["from"]
    assert {"pipelines.kubeflow.org/v2_component": "true"} in [
        peer.get("podSelector", {}).get("matchLabels") for peer in store_from
    ]
    scheduler = policies["pipeline-scheduler-egress"]["egress"][0]
    assert scheduler["ports"] == [{"protocol": "TCP", "port": 8888}]
    for obj in rendered[overlay]:
        for pod in pod_specs(obj):
            labels = obj["spec"].get(
                "template", obj["spec"].get("jobTemplate", {}).get("spec", {}).get("template", {})
            )
            pod_labels = labels.get("metadata", {}).get("labels", {})
            selecting = [
                name
                for name, spec in policies.items()
                if name not in ("default-deny-all", "allow-dns")
                and spec["podSelector"].get("matchLabels", {}).items() <= pod_labels.items()
                and spec["podSelector"].get("matchLabels")
            ]
            assert selecting, f"{identify(obj)}: no policy lets it talk to anything but DNS"
            assert pod.get("automountServiceAccountToken") is False, identify(obj)


def test_one_name_for_the_pipeline_runner_account(rendered: dict[str, list[dict[str, Any]]]) -> None:
    [account] = [obj["metadata"]["name"] for obj in rendered["platform"] if obj["kind"] == "ServiceAccount"]
    for overlay in OVERLAYS:
        settings = next(obj for obj in rendered[overlay] if obj["kind"] == "ConfigMap")
        assert settings["data"]["KFP_RUN_SERVICE_ACCOUNT"] == account
    assert account == deploy_commands.DEFAULT_RUNNER
    assert f"PIPELINE_RUNNER={account}" in (MANIFESTS / "deploy.sh").read_text()


def test_the_scheduled_run_calls_a_real_command(rendered: dict[str, list[dict[str, Any]]]) -> None:
    cronjob = next(obj for obj in rendered["staging"] if obj["kind"] == "CronJob")
    [container] = containers(cronjob)
    settings = next(obj for obj in rendered["staging"] if obj["kind"] == "ConfigMap")["data"]
    args = [arg.replace("$(", "{").replace(")", "}").format(**settings) for arg in container["args"]]
    assert container["command"][0] == "mlops"
    parsed = build_parser().parse_args([*container["command"][1:], *args])
    assert parsed.handler is deploy_commands.start_run
    assert (parsed.host, parsed.experiment, parsed.trigger) == (
        "http://ml-pipeline.kubeflow.svc.cluster.local:8888",
        "flights-mlops-staging",
        "schedule",
    )


def test_versions_are_pinned_in_one_place() -> None:
    pins = (MANIFESTS / "versions.env").read_text()
    for key in (
        "KFP_VERSION=2.5.0",
        "SELDON_CORE_VERSION=1.17.1",
        "ISTIO_VERSION=",
        "KIND_NODE_IMAGE=kindest/node:v1.32",
    ):
        assert key in pins
    script = (MANIFESTS / "deploy.sh").read_text()
    assert "?ref=$KFP_VERSION" in script and "2.5.0" not in script and "1.17.1" not in script
    assert not list(Path(MANIFESTS).rglob("*.tgz"))
