"""Checks a SeldonDeployment against Seldon Core 1.17.1's CRD schema and its admission rules.

Three layers, each of which would otherwise surface only at ``kubectl apply`` time in a cluster:

1. the CRD's ``openAPIV3Schema`` (types, required fields), vendored under ``manifests/schemas/crds/``;
2. pruning: the API server silently drops fields the structural schema does not declare, so a misspelt
   field (``trafic``) would vanish without an error; here it is one;
3. the rules of Seldon's validating webhook that rendered manifests touch: traffic of non-shadow
   predictors sums to 100, at most one shadow and never alone, unique predictor names, and a container
   named after every graph unit that has no built-in implementation.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from components.settings import PROJECT_ROOT
from contracts.errors import RolloutError

SCHEMA_PATH = PROJECT_ROOT / "manifests" / "schemas" / "crds" / "seldondeployment-v1.json"
# Graph implementations Seldon's executor runs itself, with no container of ours.
BUILT_IN_IMPLEMENTATIONS = frozenset({"RANDOM_ABTEST", "AVERAGE_COMBINER", "SIMPLE_MODEL", "SIMPLE_ROUTER"})


def check_seldon_deployment(deployment: Mapping[str, Any], schema_path: Path = SCHEMA_PATH) -> None:
    """Refuses a SeldonDeployment the API server or Seldon's webhook would refuse or silently change.

    Args:
        deployment: The object, as sent to the API server.
        schema_path: The vendored ``openAPIV3Schema`` (JSON).

    Raises:
        RolloutError: naming every problem found, each with its path (``spec.predictors[1].traffic``).
    """
    import jsonschema  # ~0.1 s of imports, paid only by the commands that check a deployment

    schema = _schema(schema_path)
    problems = [
        f"{_path(error.absolute_path)}: {error.message}"
        for error in sorted(
            jsonschema.Draft7Validator(schema).iter_errors(deployment), key=lambda e: list(e.absolute_path)
        )
    ]
    problems += [
        f"{path}: unknown field (the API server would drop it)" for path in _pruned(deployment, schema, "")
    ]
    if not problems:
        problems += _admission_problems(deployment)
    if problems:
        name = deployment.get("metadata", {}).get("name", "?") if isinstance(deployment, Mapping) else "?"
        raise RolloutError(f"SeldonDeployment {name!r} is invalid: " + "; ".join(problems))


@functools.cache
def _schema(path: Path) -> dict[str, Any]:
    try:
        return dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError) as exc:
        raise RolloutError(f"cannot read the SeldonDeployment CRD schema {path}: {exc}") from exc


def _path(parts: Any) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(root)"


def _pruned(value: Any, schema: Mapping[str, Any], path: str) -> Iterator[str]:
    if schema.get("x-kubernetes-preserve-unknown-fields"):
        return
    if isinstance(value, Mapping):
        properties = schema.get("properties")
        extra = schema.get("additionalProperties")
        for key, item in value.items():
            child = f"{path}.{key}" if path else str(key)
            if properties is not None and key in properties:
                yield from _pruned(item, properties[key], child)
            elif isinstance(extra, Mapping):
                yield from _pruned(item, extra, child)
            elif properties is not None:
                yield child
    elif isinstance(value, list) and isinstance(schema.get("items"), Mapping):
        for index, item in enumerate(value):
            yield from _pruned(item, schema["items"], f"{path}[{index}]")


def _admission_problems(deployment: Mapping[str, Any]) -> list[str]:
    problems = []
    predictors = deployment["spec"].get("predictors", [])
    if not predictors:
        problems.append("spec.predictors: a SeldonDeployment needs at least one predictor")
    shadows = [p for p in predictors if p.get("shadow")]
    if len(shadows) > 1:
        problems.append("spec.predictors: more than one shadow predictor")
    if len(predictors) == 1 and shadows:
        problems.append("spec.predictors: a shadow cannot be the only predictor")
    served = [p for p in predictors if not p.get("shadow")]
    total = sum(int(p.get("traffic", 0)) for p in served)
    if len(served) > 1 and total != 100:
        problems.append(f"spec.predictors: traffic of the non-shadow predictors sums to {total}, not 100")
    if len(served) == 1 and 0 < total < 100:
        problems.append(f"spec.predictors: a single predictor's traffic must be 100 when set, not {total}")
    names = [p.get("name") for p in predictors]
    if len(set(names)) != len(names):
        problems.append(f"spec.predictors: duplicate predictor names {names}")
    for index, predictor in enumerate(predictors):
        containers = {
            container.get("name")
            for component in predictor.get("componentSpecs", [])
            for container in component.get("spec", {}).get("containers", [])
        }
        for path, unit in _units(predictor["graph"], f"spec.predictors[{index}].graph"):
            implementation = unit.get("implementation")
            if implementation in BUILT_IN_IMPLEMENTATIONS:
                if implementation == "RANDOM_ABTEST" and len(unit.get("children", [])) != 2:
                    problems.append(f"{path}: RANDOM_ABTEST routes between exactly two children")
            elif unit["name"] not in containers:
                problems.append(f"{path}: no container named {unit['name']!r} for this graph unit")
    return problems


def _units(unit: Mapping[str, Any], path: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    yield path, unit
    for index, child in enumerate(unit.get("children", [])):
        yield from _units(child, f"{path}.children[{index}]")
