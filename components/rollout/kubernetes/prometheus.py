"""Step windows in a cluster, from the Prometheus that scrapes Seldon Core.

Each window is a handful of instant PromQL queries evaluated at the window's end over its length:

- requests and errors per graph unit: Seldon's executor histogram of its calls to each model,
  ``seldon_api_executor_client_requests_seconds`` (label ``model_name`` is the graph unit, ``code``
  the answer);
- p99 latency per unit: ``histogram_quantile(0.99, ...)`` over the same histogram's buckets;
- the prediction distribution per unit: the model's own ``flight_delay_score_total{bin}`` counter
  (``components/serving/telemetry.py``: ten bins of 0.1);
- accuracy where feedback came back: Seldon's ``seldon_api_model_feedback_total`` and
  ``seldon_api_model_feedback_reward_total`` per unit, with clients sending reward 1 for a right
  answer and 0 for a wrong one (the mean reward is then the accuracy).

Graph units are named ``<deployment>-<version>`` by the renderer, which gives the version of each
series. A window that Prometheus cannot answer raises ``RolloutError``; the controller then retries at
its next poll rather than judging on missing data. Standard library only.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from components.rollout.core.http_json import get_json
from components.rollout.core.traffic import TrafficWindow, VersionWindow
from contracts.errors import RolloutError

SCORE_BINS = 10
_FAILED_CODES = "5..|0|Unknown|Internal|Unavailable|DeadlineExceeded"


@dataclass(frozen=True)
class WindowQueries:
    """The PromQL of one window, each grouped by ``model_name`` (and ``bin`` for scores)."""

    requests: str
    errors: str
    p99_seconds: str
    scores: str
    feedback: str
    rewards: str

    def items(self) -> list[tuple[str, str]]:
        return list(vars(self).items())


def window_queries(
    deployment: str, namespace: str, seconds: int, *, namespace_label: str = "namespace"
) -> WindowQueries:
    """The queries of a ``seconds``-long window for one SeldonDeployment.

    ``namespace_label`` is the label the Prometheus scrape configuration puts the pod's namespace in
    (``namespace`` with the Prometheus operator's defaults, ``kubernetes_namespace`` with Seldon's
    analytics chart).

    Example:
        >>> window_queries("flight-delay", "prod", 300).requests
        'sum by (model_name) (increase(seldon_api_executor_client_requests_seconds_count{deployment_name="flight-delay",namespace="prod"}[300s]))'
    """
    if seconds < 1:
        raise RolloutError(f"a window lasts at least a second, not {seconds}")
    where = f'deployment_name="{deployment}",{namespace_label}="{namespace}"'
    calls = "seldon_api_executor_client_requests_seconds"
    return WindowQueries(
        requests=f"sum by (model_name) (increase({calls}_count{{{where}}}[{seconds}s]))",
        errors=f'sum by (model_name) (increase({calls}_count{{{where},code=~"{_FAILED_CODES}"}}[{seconds}s]))',
        p99_seconds=f"histogram_quantile(0.99, sum by (model_name, le) (rate({calls}_bucket{{{where}}}[{seconds}s])))",
        scores=f"sum by (model_name, bin) (increase(flight_delay_score_total{{{where}}}[{seconds}s]))",
        feedback=f"sum by (model_name) (increase(seldon_api_model_feedback_total{{{where}}}[{seconds}s]))",
        rewards=f"sum by (model_name) (increase(seldon_api_model_feedback_reward_total{{{where}}}[{seconds}s]))",
    )


def window_from_results(
    results: Mapping[str, Sequence[Mapping[str, Any]]],
    *,
    version_of: Callable[[str], str],
    since: float,
    until: float,
) -> TrafficWindow:
    """Builds a window from each query's Prometheus vector result (``data.result`` of ``/api/v1/query``).

    ``increase`` extrapolates, so counts are rounded to whole requests.
    """
    values: dict[str, dict[str, Any]] = {}

    def each(name: str) -> list[tuple[str, Mapping[str, str], float]]:
        rows = []
        for sample in results.get(name, []):
            unit = str(sample["metric"].get("model_name", ""))
            value = float(sample["value"][1])
            if unit and not math.isnan(value):
                rows.append((version_of(unit), sample["metric"], value))
        return rows

    for name in ("requests", "errors", "feedback", "rewards"):
        for version, _, value in each(name):
            values.setdefault(version, {})[name] = round(value)
    for version, _, value in each("p99_seconds"):
        values.setdefault(version, {})["p99"] = value * 1000.0
    for version, metric, value in each("scores"):
        bins = values.setdefault(version, {}).setdefault("histogram", [0] * SCORE_BINS)
        upper = float(metric.get("bin", "nan"))
        if not math.isnan(upper):
            bins[min(SCORE_BINS - 1, max(0, round(upper * SCORE_BINS) - 1))] += round(value)
    return TrafficWindow(
        since=since,
        until=until,
        versions={
            version: VersionWindow(
                requests=v.get("requests", 0),
                errors=v.get("errors", 0),
                p99_latency_ms=v.get("p99", math.nan),
                histogram=tuple(v.get("histogram", [0] * SCORE_BINS)),
                labelled=v.get("feedback", 0),
                correct=min(v.get("rewards", 0), v.get("feedback", 0)),
            )
            for version, v in values.items()
        },
    )


class PrometheusMetrics:
    """Windows from Prometheus's HTTP API.

    Args:
        url: Prometheus's base URL (``http://prometheus.seldon-system:9090``).
        deployment: The SeldonDeployment's name.
        namespace: Its namespace.
        namespace_label: The label holding the namespace in this Prometheus (see ``window_queries``).
    """

    def __init__(
        self, url: str, *, deployment: str, namespace: str, namespace_label: str = "namespace"
    ) -> None:
        self.url = url.rstrip("/")
        self.deployment = deployment
        self.namespace = namespace
        self.namespace_label = namespace_label

    def window(self, since: float, until: float) -> TrafficWindow:
        """Every version's traffic between two Unix times.

        Raises:
            RolloutError: when Prometheus cannot be reached or refuses a query.
        """
        seconds = max(1, math.ceil(until - since))
        queries = window_queries(
            self.deployment, self.namespace, seconds, namespace_label=self.namespace_label
        )
        results = {}
        for name, query in queries.items():
            status, body = get_json(f"{self.url}/api/v1/query?{urlencode({'query': query, 'time': until})}")
            if status != 200 or not isinstance(body, dict) or body.get("status") != "success":
                raise RolloutError(f"Prometheus refused {name} ({status}): {body}")
            results[name] = body["data"]["result"]
        prefix = f"{self.deployment}-"
        return window_from_results(
            results, version_of=lambda unit: unit.removeprefix(prefix), since=since, until=until
        )
