"""Vendors the Kubernetes JSON schemas of the kinds our manifests use, trimmed to what they reference.

Source: the ``v1.32.0-local-strict`` schemas (generated from the Kubernetes v1.32.0 OpenAPI spec, with
``additionalProperties: false`` so a misspelt field fails) as the ``kubernetes-validate`` package
redistributes them. Usage, from the project root:

    python -m pip download --no-deps -d /tmp/kv kubernetes-validate==1.37.0
    unzip -q /tmp/kv/kubernetes_validate-1.37.0-py3-none-any.whl -d /tmp/kv
    python manifests/schemas/vendor_kubernetes.py /tmp/kv/kubernetes_validate/kubernetes-json-schema/v1.32.0-local-strict

Each kind's file keeps its name (``KIND-GROUP-VERSION.json``); ``_definitions.json`` keeps only the
definitions those kinds reach. Descriptions are dropped (most of the size); nothing else changes.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

KIND_FILES = [
    "configmap-v1.json",
    "cronjob-batch-v1.json",
    "deployment-apps-v1.json",
    "namespace-v1.json",
    "networkpolicy-networking-v1.json",
    "persistentvolumeclaim-v1.json",
    "role-rbac-v1.json",
    "rolebinding-rbac-v1.json",
    "secret-v1.json",
    "service-v1.json",
    "serviceaccount-v1.json",
]
DEFINITION_PREFIXES = ("/api/_definitions.json#/$defs/", "#/$defs/")
OUT_DIR = Path(__file__).resolve().parent / "kubernetes-v1.32"


def strip_descriptions(node: Any) -> Any:
    if isinstance(node, dict):
        return {key: strip_descriptions(value) for key, value in node.items() if key != "description"}
    if isinstance(node, list):
        return [strip_descriptions(item) for item in node]
    return node


def references(node: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            for prefix in DEFINITION_PREFIXES:
                if ref.startswith(prefix):
                    found.add(ref[len(prefix) :])
        for value in node.values():
            found |= references(value)
    elif isinstance(node, list):
        for item in node:
            found |= references(item)
    return found


def main(source: Path) -> None:
    definitions = json.loads((source / "_definitions.json").read_text())
    kinds = {name: strip_descriptions(json.loads((source / name).read_text())) for name in KIND_FILES}
    wanted: set[str] = set()
    pending = set().union(*(references(schema) for schema in kinds.values()))
    while pending:
        name = pending.pop()
        if name not in wanted:
            wanted.add(name)
            pending |= references(definitions["$defs"][name])
    trimmed = {**definitions, "$defs": {name: strip_descriptions(definitions["$defs"][name]) for name in sorted(wanted)}}
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    for name, schema in {**kinds, "_definitions.json": trimmed}.items():
        (OUT_DIR / name).write_text(json.dumps(schema, separators=(",", ":"), sort_keys=True) + "\n")
    print(f"wrote {len(kinds)} kinds and {len(wanted)} definitions to {OUT_DIR}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
