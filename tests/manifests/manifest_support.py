"""Renders the kustomize overlays as `make deploy` would and checks objects against the vendored schemas.

Rendering works on a copy of ``manifests/`` whose secret env files are generated there, so the working
tree never gains secrets from a test run.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from referencing import Registry, Resource

PROJECT = Path(__file__).resolve().parents[2]
MANIFESTS = PROJECT / "manifests"
SCHEMAS = MANIFESTS / "schemas"
OVERLAYS = ("kind", "minikube", "staging", "production")
OUR_IMAGES = ("flights-mlops-pipeline", "flights-mlops-serving", "flights-mlops-features")
DEFINITIONS_URI = "https://kubernetes.io/api/_definitions.json"
# Custom resources we write, and the vendored schema of each (see manifests/schemas/README.md).
CRD_SCHEMAS = {
    ("networking.istio.io/v1beta1", "Gateway"): "crds/gateway-networking-istio-v1beta1.json",
    ("machinelearning.seldon.io/v1", "SeldonDeployment"): "crds/seldondeployment-v1.json",
}


def kubectl() -> str:
    """The kubectl binary, or a failure that says what to install."""
    found = shutil.which("kubectl")
    if found is None:
        pytest.fail(
            "kubectl is not installed: install kubectl 1.32 (it bundles kustomize 5.5), "
            "e.g. https://kubernetes.io/docs/tasks/tools/ ; the manifest checks need it"
        )
    return found


def versions() -> dict[str, str]:
    """The pins of ``manifests/versions.env``."""
    pairs = (line.split("=", 1) for line in (MANIFESTS / "versions.env").read_text().splitlines())
    return {
        key: value for key, value in (pair for pair in pairs if len(pair) == 2) if not key.startswith("#")
    }


def copy_with_secrets(target: Path) -> Path:
    """Copies ``manifests/`` to ``target`` and generates every overlay's secret env files there."""
    shutil.copytree(MANIFESTS, target, ignore=shutil.ignore_patterns("secrets"))
    for overlay in OVERLAYS:
        subprocess.run(
            ["bash", str(target / "generate-secrets.sh"), str(target / "overlays" / overlay)],
            check=True,
            capture_output=True,
        )
    return target


def build(directory: Path) -> subprocess.CompletedProcess[str]:
    """``kubectl kustomize DIRECTORY``, offline, with its output and errors captured."""
    return subprocess.run(
        [kubectl(), "kustomize", str(directory)], capture_output=True, text=True, timeout=120
    )


def render(directory: Path) -> list[dict[str, Any]]:
    """The objects a kustomization renders to; fails the test with kustomize's message when it cannot."""
    result = build(directory)
    if result.returncode != 0:
        pytest.fail(f"kubectl kustomize {directory} failed:\n{result.stderr}")
    return [document for document in yaml.safe_load_all(result.stdout) if document]


def identify(obj: dict[str, Any]) -> str:
    metadata = obj.get("metadata", {})
    return f"{obj.get('kind')}/{metadata.get('namespace', '-')}/{metadata.get('name')}"


def pod_specs(obj: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The pod specs a workload object carries (Deployment, CronJob, Job, Pod)."""
    spec = obj.get("spec", {})
    if obj.get("kind") == "Pod":
        yield spec
    elif obj.get("kind") == "CronJob":
        yield spec["jobTemplate"]["spec"]["template"]["spec"]
    elif "template" in spec and "spec" in spec["template"]:
        yield spec["template"]["spec"]


def containers(obj: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for spec in pod_specs(obj):
        yield from spec.get("initContainers", [])
        yield from spec.get("containers", [])


@dataclass(frozen=True)
class SchemaViolation:
    """One object that does not validate: which object, where in it, and why."""

    object_id: str
    path: str
    message: str


class SchemaChecker:
    """Validates objects against the vendored Kubernetes 1.32 schemas and the CRD schemas we use."""

    def __init__(self, kubernetes_dir: Path) -> None:
        self._kubernetes_dir = kubernetes_dir
        definitions = json.loads((kubernetes_dir / "_definitions.json").read_text())
        self._registry: Registry = Resource.from_contents(definitions) @ Registry()
        self._object_meta = {
            "$ref": f"{DEFINITIONS_URI}#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
        }

    def schema_file(self, api_version: str, kind: str) -> Path | None:
        if (api_version, kind) in CRD_SCHEMAS:
            return SCHEMAS / CRD_SCHEMAS[(api_version, kind)]
        group, _, version = api_version.rpartition("/")
        # The upstream naming: KIND-GROUP-VERSION.json with the group's first DNS label, core without one.
        short_group = re.sub(r"\..*$", "", group)
        name = f"{kind.lower()}-{short_group}-{version}.json" if group else f"{kind.lower()}-{version}.json"
        candidate = self._kubernetes_dir / name
        return candidate if candidate.is_file() else None

    def violations(self, obj: dict[str, Any]) -> list[SchemaViolation]:
        api_version, kind = str(obj.get("apiVersion", "")), str(obj.get("kind", ""))
        schema_file = self.schema_file(api_version, kind)
        if schema_file is None:
            return [
                SchemaViolation(
                    identify(obj),
                    "",
                    f"no vendored schema for {api_version} {kind}: add it (manifests/schemas/README.md)",
                )
            ]
        schema = json.loads(schema_file.read_text())
        if (api_version, kind) in CRD_SCHEMAS:
            # A CRD's openAPIV3Schema leaves metadata to the API server, which checks it as ObjectMeta.
            schema = {
                "allOf": [schema, {"properties": {"metadata": self._object_meta}}],
                "required": ["apiVersion", "kind", "metadata", "spec"],
            }
        else:
            schema = {**schema, "$id": f"https://kubernetes.io/api/{schema_file.name}"}
        validator = jsonschema.Draft202012Validator(schema, registry=self._registry)
        return [
            SchemaViolation(identify(obj), "/".join(str(part) for part in error.absolute_path), error.message)
            for error in validator.iter_errors(obj)
        ]
