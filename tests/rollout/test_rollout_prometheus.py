"""Cluster windows from Prometheus: the PromQL of a window, and its vector results turned into a window.

No Prometheus runs here, so the HTTP call itself is not exercised; these check the two pure halves.
"""

from __future__ import annotations

import math

import pytest

from components.rollout.core.analysis import Verdict, analyse
from components.rollout.core.config import load_config
from components.rollout.kubernetes.prometheus import window_from_results, window_queries
from contracts.errors import RolloutError


def test_queries_select_the_deployment_and_group_by_graph_unit() -> None:
    queries = window_queries("flight-delay", "prod", 300, namespace_label="kubernetes_namespace")
    for _, query in queries.items():
        assert 'deployment_name="flight-delay",kubernetes_namespace="prod"' in query and "[300s]" in query
        assert "by (model_name" in query
    assert queries.p99_seconds.startswith("histogram_quantile(0.99, sum by (model_name, le) (rate(")
    assert 'code=~"5..' in queries.errors
    with pytest.raises(RolloutError):
        window_queries("flight-delay", "prod", 0)


def _sample(unit: str, value: float, **labels: str) -> dict:  # type: ignore[type-arg]
    return {"metric": {"model_name": unit, **labels}, "value": [1_800_000_300, str(value)]}


def test_results_become_a_window_the_analysis_can_judge() -> None:
    results = {
        "requests": [_sample("flight-delay-v1", 900.4), _sample("flight-delay-v2", 99.6)],
        "errors": [_sample("flight-delay-v2", 12.0)],
        "p99_seconds": [_sample("flight-delay-v1", 0.012), _sample("flight-delay-v2", float("nan"))],
        "scores": [
            _sample("flight-delay-v1", 600, bin="0.3"),
            _sample("flight-delay-v1", 300, bin="0.4"),
            _sample("flight-delay-v2", 88, bin="0.3"),
        ],
        "feedback": [_sample("flight-delay-v1", 400)],
        "rewards": [_sample("flight-delay-v1", 300)],
    }
    window = window_from_results(
        results, version_of=lambda unit: unit.removeprefix("flight-delay-"), since=0.0, until=300.0
    )
    v1, v2 = window.of("v1"), window.of("v2")
    assert (v1.requests, v1.errors, v1.p99_latency_ms, v1.labelled, v1.correct) == (900, 0, 12.0, 400, 300)
    assert v1.histogram[2:4] == (600, 300) and len(v1.histogram) == 10
    assert (v2.requests, v2.errors) == (100, 12) and math.isnan(v2.p99_latency_ms)
    checks = load_config().checks
    analysis = analyse(window, "v1", "v2", checks)
    assert analysis.verdict is Verdict.FAIL
    assert [c.name for c in analysis.failed] == ["error_rate"]
