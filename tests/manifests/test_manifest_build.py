"""Every overlay and the per-cluster platform objects build offline with `kubectl kustomize`."""

from __future__ import annotations

import shutil
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest
from manifest_support import OVERLAYS, build, copy_with_secrets

from components.lineage import MysqlConfig, parse_metadata_uri

EXPECTED_NAMESPACES = {
    "kind": "flights-mlops",
    "minikube": "flights-mlops",
    "staging": "flights-mlops-staging",
    "production": "flights-mlops-production",
}


def by_kind(objects: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [obj for obj in objects if obj["kind"] == kind]


def named(objects: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    return next(obj for obj in by_kind(objects, kind) if obj["metadata"]["name"] == name)


def read_env(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_renders_every_part_into_its_namespace(
    rendered: dict[str, list[dict[str, Any]]], overlay: str
) -> None:
    objects = rendered[overlay]
    namespace = EXPECTED_NAMESPACES[overlay]
    assert [obj["metadata"]["name"] for obj in by_kind(objects, "Namespace")] == [namespace]
    namespaced = [obj for obj in objects if obj["kind"] != "Namespace"]
    assert {obj["metadata"]["namespace"] for obj in namespaced} == {namespace}
    names = {(obj["kind"], obj["metadata"]["name"]) for obj in objects}
    for expected in [
        ("Deployment", "metadata-mysql"),
        ("Service", "metadata-mysql"),
        ("PersistentVolumeClaim", "metadata-mysql"),
        ("CronJob", "continuous-training"),
        ("ServiceAccount", "rollout-controller"),
        ("Role", "rollout-controller"),
        ("RoleBinding", "rollout-controller"),
        ("NetworkPolicy", "default-deny-all"),
    ]:
        assert expected in names, f"{overlay} lacks {expected}"
    secrets = {obj["metadata"]["name"].rsplit("-", 1)[0] for obj in by_kind(objects, "Secret")}
    assert secrets == {"metadata-store", "object-store", "feature-store"}


def test_platform_objects_live_in_the_shared_namespaces(rendered: dict[str, list[dict[str, Any]]]) -> None:
    placed = {(obj["kind"], obj["metadata"]["namespace"]) for obj in rendered["platform"]}
    assert placed == {
        ("ServiceAccount", "kubeflow"),
        ("Role", "kubeflow"),
        ("RoleBinding", "kubeflow"),
        ("Gateway", "istio-system"),
    }


def test_staging_and_production_differ_where_environments_should(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    def cron(overlay: str) -> str:
        return by_kind(rendered[overlay], "CronJob")[0]["spec"]["schedule"]

    def storage(overlay: str) -> str:
        claim = named(rendered[overlay], "PersistentVolumeClaim", "metadata-mysql")
        return claim["spec"]["resources"]["requests"]["storage"]

    def experiment(overlay: str) -> str:
        return by_kind(rendered[overlay], "ConfigMap")[0]["data"]["KFP_EXPERIMENT"]

    assert cron("staging") != cron("production")
    assert (storage("staging"), storage("production")) == ("10Gi", "20Gi")
    assert (experiment("staging"), experiment("production")) == (
        "flights-mlops-staging",
        "flights-mlops-production",
    )


def test_workloads_reference_the_generated_secret_by_its_hashed_name(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    objects = rendered["staging"]
    secret_name = next(
        obj["metadata"]["name"]
        for obj in by_kind(objects, "Secret")
        if obj["metadata"]["name"].startswith("metadata-store")
    )
    cronjob = by_kind(objects, "CronJob")[0]
    container = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    uri = next(env for env in container["env"] if env["name"] == "MLOPS_METADATA_URI")
    assert uri["valueFrom"]["secretKeyRef"] == {"name": secret_name, "key": "MLOPS_METADATA_URI"}
    mysql = named(objects, "Deployment", "metadata-mysql")["spec"]["template"]["spec"]["containers"][0]
    assert {env["valueFrom"]["secretKeyRef"]["name"] for env in mysql["env"]} == {secret_name}


def test_an_overlay_without_generated_secrets_does_not_build(tmp_path: Path) -> None:
    overlay = tmp_path / "manifests"
    shutil.copytree(
        Path(__file__).resolve().parents[2] / "manifests", overlay, ignore=shutil.ignore_patterns("secrets")
    )
    result = build(overlay / "overlays" / "kind")
    assert result.returncode != 0
    assert "metadata-store.env" in result.stderr


def test_generated_secrets_are_random_private_kept_and_name_the_store(tmp_path: Path) -> None:
    copy = copy_with_secrets(tmp_path / "manifests")
    staging = copy / "overlays" / "staging" / "secrets"
    first = {path.name: path.read_text() for path in staging.iterdir()}
    subprocess.run(
        ["bash", str(copy / "generate-secrets.sh"), str(copy / "overlays" / "staging")], check=True
    )
    assert {path.name: path.read_text() for path in staging.iterdir()} == first, (
        "an existing secret was rewritten"
    )
    for path in staging.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path

    store = read_env(staging / "metadata-store.env")
    config = parse_metadata_uri(store["MLOPS_METADATA_URI"])
    assert isinstance(config, MysqlConfig)
    assert config.host == "metadata-mysql.flights-mlops-staging.svc.cluster.local"
    assert (config.user, config.database, config.password) == (
        store["MYSQL_USER"],
        store["MYSQL_DATABASE"],
        store["MYSQL_PASSWORD"],
    )
    assert len(store["MYSQL_PASSWORD"]) >= 32 and store["MYSQL_PASSWORD"] != store["MYSQL_ROOT_PASSWORD"]
    production = read_env(copy / "overlays" / "production" / "secrets" / "metadata-store.env")
    assert production["MYSQL_PASSWORD"] != store["MYSQL_PASSWORD"]


def test_object_store_credentials_can_adopt_a_clusters_existing_ones(tmp_path: Path) -> None:
    copy = tmp_path / "manifests"
    shutil.copytree(
        Path(__file__).resolve().parents[2] / "manifests", copy, ignore=shutil.ignore_patterns("secrets")
    )
    subprocess.run(
        ["bash", str(copy / "generate-secrets.sh"), str(copy / "overlays" / "kind")],
        check=True,
        env={
            "PATH": "/usr/bin:/bin",
            "OBJECT_STORE_ACCESS_KEY": "existing-key",
            "OBJECT_STORE_SECRET_KEY": "existing-secret",
        },
    )
    objects = read_env(copy / "overlays" / "kind" / "secrets" / "object-store.env")
    assert objects["AWS_ACCESS_KEY_ID"] == objects["RCLONE_CONFIG_S3_ACCESS_KEY_ID"] == "existing-key"
    assert (
        objects["AWS_SECRET_ACCESS_KEY"] == objects["RCLONE_CONFIG_S3_SECRET_ACCESS_KEY"] == "existing-secret"
    )
