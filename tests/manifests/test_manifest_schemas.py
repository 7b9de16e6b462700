"""Every rendered object validates against the Kubernetes 1.32 schemas and the CRD schemas it uses."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from manifest_support import OVERLAYS, SCHEMAS, SchemaChecker, identify, versions


@pytest.fixture(scope="module")
def checker() -> SchemaChecker:
    return SchemaChecker(SCHEMAS / f"kubernetes-v{versions()['KUBERNETES_VERSION']}")


@pytest.mark.parametrize("build", [*OVERLAYS, "platform"])
def test_every_object_validates(
    rendered: dict[str, list[dict[str, Any]]], checker: SchemaChecker, build: str
) -> None:
    violations = [violation for obj in rendered[build] for violation in checker.violations(obj)]
    assert not violations, "\n".join(f"{v.object_id} at /{v.path}: {v.message}" for v in violations)


def test_vendored_schemas_are_those_of_the_pinned_kubernetes_version() -> None:
    assert versions()["KUBERNETES_VERSION"] == "1.32"
    assert (SCHEMAS / "kubernetes-v1.32" / "_definitions.json").is_file()


def find(rendered: dict[str, list[dict[str, Any]]], kind: str, build: str = "kind") -> dict[str, Any]:
    return copy.deepcopy(next(obj for obj in rendered[build] if obj["kind"] == kind))


def test_a_misspelt_field_is_caught(
    rendered: dict[str, list[dict[str, Any]]], checker: SchemaChecker
) -> None:
    deployment = find(rendered, "Deployment")
    deployment["spec"]["replica"] = deployment["spec"].pop("replicas")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    container["securityContext"]["runAsNonroot"] = True
    messages = [v.message for v in checker.violations(deployment)]
    assert any("replica" in message for message in messages), messages
    assert any("runAsNonroot" in message for message in messages), messages


def test_a_wrong_type_is_caught(rendered: dict[str, list[dict[str, Any]]], checker: SchemaChecker) -> None:
    cronjob = find(rendered, "CronJob")
    cronjob["spec"]["jobTemplate"]["spec"]["backoffLimit"] = "two"
    violations = checker.violations(cronjob)
    assert [v.path for v in violations] == ["spec/jobTemplate/spec/backoffLimit"]


def test_a_custom_resource_is_checked_against_its_crd(
    rendered: dict[str, list[dict[str, Any]]], checker: SchemaChecker
) -> None:
    gateway = find(rendered, "Gateway", build="platform")
    del gateway["spec"]["servers"][0]["port"]["protocol"]
    gateway["metadata"]["labelz"] = {}
    messages = [v.message for v in checker.violations(gateway)]
    assert any("protocol" in message for message in messages), messages
    assert any("labelz" in message for message in messages), messages


def test_a_kind_without_a_vendored_schema_is_refused(checker: SchemaChecker) -> None:
    ingress = {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "web"}}
    [violation] = checker.violations(ingress)
    assert violation.object_id == identify(ingress)
    assert "no vendored schema" in violation.message
