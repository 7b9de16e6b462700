"""How the local proxy routes a request: a SeldonDeployment's traffic rules plus the local endpoints.

The local actuator writes ``routes.json``: the deployment as rendered, a generation number, and the
address of the server behind each graph unit. The proxy reads it into ``Routes`` and follows the same
rules Seldon and Istio follow in a cluster: non-shadow predictors share requests by ``traffic``, a
shadow predictor gets a copy of each, a ``RANDOM_ABTEST`` router draws by ``ratioA``, any other ROUTER
is asked over HTTP which child to use. Standard library only.
"""

from __future__ import annotations

import json
import random
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from contracts.errors import RolloutError

MAIN_VERSION_ANNOTATION = "rollout.flights-mlops.io/main-version"


@dataclass(frozen=True)
class Unit:
    """A graph unit: a model (``version`` set) or a router (``children`` set)."""

    name: str
    version: str
    implementation: str
    ratio_a: float
    children: tuple[Unit, ...]

    @classmethod
    def parse(cls, graph: Mapping[str, Any]) -> Unit:
        parameters = {p["name"]: p["value"] for p in graph.get("parameters", [])}
        return cls(
            name=str(graph["name"]),
            version=str(parameters.get("model_version", "")),
            implementation=str(graph.get("implementation", "")),
            ratio_a=float(parameters.get("ratioA", 0.5)),
            children=tuple(cls.parse(child) for child in graph.get("children", [])),
        )

    def models(self) -> list[Unit]:
        """The model units at or below this one."""
        return [self] if not self.children else [m for child in self.children for m in child.models()]


@dataclass(frozen=True)
class Predictor:
    name: str
    traffic: int
    shadow: bool
    graph: Unit


@dataclass(frozen=True)
class Routes:
    """The routing rules in force.

    Attributes:
        generation: Increases with every write of ``routes.json``.
        predictors: The deployment's predictors.
        endpoints: Graph unit name to ``http://host:port``.
        main_version: The version failed candidate requests are retried on.
    """

    generation: int
    predictors: tuple[Predictor, ...]
    endpoints: Mapping[str, str]
    main_version: str

    @classmethod
    def read(cls, path: Path) -> Routes:
        """Reads ``routes.json``.

        Raises:
            RolloutError: for a missing or malformed file, or a unit without an endpoint.
        """
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
            return cls.parse(document)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise RolloutError(f"cannot read proxy routes {path}: {exc}") from exc

    @classmethod
    def parse(cls, document: Mapping[str, Any]) -> Routes:
        deployment = document["deployment"]
        predictors = tuple(
            Predictor(
                name=str(p["name"]),
                traffic=int(p.get("traffic", 0)),
                shadow=bool(p.get("shadow", False)),
                graph=Unit.parse(p["graph"]),
            )
            for p in deployment["spec"]["predictors"]
        )
        endpoints = {str(k): str(v) for k, v in dict(document["endpoints"]).items()}
        for predictor in predictors:
            for unit in [predictor.graph, *predictor.graph.models()]:
                if unit.implementation != "RANDOM_ABTEST" and unit.name not in endpoints:
                    raise RolloutError(f"graph unit {unit.name!r} has no local endpoint")
        annotations = deployment.get("metadata", {}).get("annotations", {})
        main_version = annotations.get(MAIN_VERSION_ANNOTATION) or predictors[0].graph.models()[0].version
        return cls(int(document["generation"]), predictors, endpoints, str(main_version))

    def choose(self, rng: random.Random) -> Predictor:
        """The predictor that answers a request: drawn by traffic among the non-shadow predictors."""
        served = [p for p in self.predictors if not p.shadow]
        total = sum(p.traffic for p in served)
        if total <= 0:
            return served[0]
        draw = rng.uniform(0, total)
        for predictor in served:
            draw -= predictor.traffic
            if draw < 0:
                return predictor
        return served[-1]

    def shadows(self) -> list[Predictor]:
        return [p for p in self.predictors if p.shadow]

    def main_unit(self) -> Unit | None:
        """The model unit serving the main version, for retries."""
        for predictor in self.predictors:
            for unit in predictor.graph.models():
                if unit.version == self.main_version:
                    return unit
        return None


def write_routes(
    path: Path, *, generation: int, deployment: Mapping[str, Any], endpoints: Mapping[str, str]
) -> None:
    """Writes ``routes.json`` atomically (a reader sees the old file or the new one, never half of one).

    Raises:
        RolloutError: when the routes are inconsistent or cannot be written.
    """
    document = {"generation": generation, "deployment": dict(deployment), "endpoints": dict(endpoints)}
    Routes.parse(document)
    temporary = path.with_suffix(".tmp")
    try:
        temporary.write_text(json.dumps(document, indent=1), encoding="utf-8")
        temporary.replace(path)
    except OSError as exc:
        raise RolloutError(f"cannot write proxy routes {path}: {exc}") from exc
