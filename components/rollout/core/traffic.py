"""What live traffic showed, per model version: the records the proxy keeps and the windows analysed.

Standard library only: the local proxy process runs this, and so may any Python that wants to read a
window. A window summarises each version's answers between two times: requests, errors (5xx and failed
connections), nearest-rank p99 latency, a histogram of predicted delay probabilities and, where ground
truth came back as feedback, how many answers were right. Histograms rather than raw predictions keep
a window small and make windows from other sources (Prometheus's ten score bins) comparable.
"""

from __future__ import annotations

import bisect
import math
import threading
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from components.serving.loadtest import percentiles

HISTOGRAM_BINS = 50
DECISION_THRESHOLD = 0.5
DEFAULT_CAPACITY = 1_000_000


@dataclass(frozen=True)
class Exchange:
    """One request as the proxy handled it, for one version (a mirrored copy is an exchange of its own).

    Attributes:
        time: When the answer came back (Unix seconds).
        version: The model version that answered (or failed to).
        status: HTTP status of that version's answer; 0 when the connection failed.
        latency_ms: From forwarding the request to the last byte of the answer.
        predictions: Predicted delay probabilities of an answered request, one per row.
        puid: Seldon's request id of the answer, the key feedback refers to.
        mirrored: A shadow copy whose answer no client saw.
        segment: Slicing keys of the request's first row (``origin``, ``carrier``).
    """

    time: float
    version: str
    status: int
    latency_ms: float
    predictions: tuple[float, ...] = ()
    puid: str = ""
    mirrored: bool = False
    segment: Mapping[str, str] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        """A server error or a failed connection; a 4xx is the client's fault, not the version's."""
        return self.status == 0 or self.status >= 500

    def to_dict(self) -> dict[str, Any]:
        return {
            "time": self.time,
            "version": self.version,
            "status": self.status,
            "latency_ms": round(self.latency_ms, 3),
            "predictions": list(self.predictions),
            "puid": self.puid,
            "mirrored": self.mirrored,
            "segment": dict(self.segment),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Exchange:
        return cls(
            time=float(data["time"]),
            version=str(data["version"]),
            status=int(data["status"]),
            latency_ms=float(data["latency_ms"]),
            predictions=tuple(float(p) for p in data.get("predictions", ())),
            puid=str(data.get("puid", "")),
            mirrored=bool(data.get("mirrored", False)),
            segment={str(k): str(v) for k, v in dict(data.get("segment", {})).items()},
        )


@dataclass(frozen=True)
class VersionWindow:
    """One version's traffic in a window.

    Attributes:
        requests: Requests it was sent (mirrored copies included).
        errors: Of those, 5xx answers and failed connections.
        p99_latency_ms: Nearest-rank p99 of its latencies; NaN without requests.
        histogram: Predicted probabilities counted in equal bins over [0, 1].
        labelled: Answers whose ground truth came back.
        correct: Of those, answers on the right side of 0.5.
    """

    requests: int = 0
    errors: int = 0
    p99_latency_ms: float = math.nan
    histogram: tuple[int, ...] = (0,) * HISTOGRAM_BINS
    labelled: int = 0
    correct: int = 0

    @property
    def error_rate(self) -> float:
        return self.errors / self.requests if self.requests else math.nan

    @property
    def accuracy(self) -> float:
        return self.correct / self.labelled if self.labelled else math.nan

    @property
    def predictions(self) -> int:
        return sum(self.histogram)

    def to_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "errors": self.errors,
            "p99_latency_ms": None if math.isnan(self.p99_latency_ms) else self.p99_latency_ms,
            "histogram": list(self.histogram),
            "labelled": self.labelled,
            "correct": self.correct,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> VersionWindow:
        p99 = data.get("p99_latency_ms")
        return cls(
            requests=int(data["requests"]),
            errors=int(data["errors"]),
            p99_latency_ms=math.nan if p99 is None else float(p99),
            histogram=tuple(int(c) for c in data["histogram"]),
            labelled=int(data.get("labelled", 0)),
            correct=int(data.get("correct", 0)),
        )


@dataclass(frozen=True)
class TrafficWindow:
    """Every version's traffic between ``since`` and ``until`` (Unix seconds)."""

    since: float
    until: float
    versions: Mapping[str, VersionWindow]

    def of(self, version: str) -> VersionWindow:
        """The version's window; an empty one when it saw no traffic."""
        return self.versions.get(version, VersionWindow())

    def to_dict(self) -> dict[str, Any]:
        return {
            "since": self.since,
            "until": self.until,
            "versions": {name: window.to_dict() for name, window in sorted(self.versions.items())},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrafficWindow:
        return cls(
            since=float(data["since"]),
            until=float(data["until"]),
            versions={str(k): VersionWindow.from_dict(v) for k, v in dict(data["versions"]).items()},
        )


class TrafficBook:
    """Exchanges and feedback kept in time order in memory, summarised into windows. Thread-safe.

    Args:
        capacity: Most exchanges (and answers awaiting feedback) kept; the oldest go first (a day at
            ten requests per second).
    """

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self._lock = threading.Lock()
        self._capacity = capacity
        self._exchanges: deque[Exchange] = deque(maxlen=capacity)
        self._times: deque[float] = deque(maxlen=capacity)
        self._truth: dict[str, int] = {}
        self._answered_by: dict[str, Exchange] = {}

    def record(self, exchange: Exchange) -> None:
        """Adds one exchange (they arrive nearly in time order; a window's edges tolerate the rest)."""
        with self._lock:
            self._exchanges.append(exchange)
            self._times.append(exchange.time)
            if exchange.puid and not exchange.mirrored and not exchange.failed:
                self._answered_by[exchange.puid] = exchange
                if len(self._answered_by) > self._capacity:
                    # Dicts keep insertion order: the oldest answer (and its truth) goes first.
                    oldest = next(iter(self._answered_by))
                    del self._answered_by[oldest]
                    self._truth.pop(oldest, None)

    def feedback(self, puid: str, truth: int) -> Exchange | None:
        """Records the ground truth (0 or 1) of an answered request; returns that answer, or None if unknown."""
        with self._lock:
            answer = self._answered_by.get(puid)
            if answer is not None:
                self._truth[puid] = truth
            return answer

    def exchanges(self, since: float = 0.0, until: float = math.inf) -> list[Exchange]:
        """The exchanges whose answer came back within ``[since, until)``."""
        with self._lock:
            times = list(self._times)
            exchanges = list(self._exchanges)
        return exchanges[bisect.bisect_left(times, since) : bisect.bisect_left(times, until)]

    def window(self, since: float, until: float) -> TrafficWindow:
        """Summarises ``[since, until)`` per version."""
        chosen = self.exchanges(since, until)
        with self._lock:
            truth = dict(self._truth)
        return summarise(chosen, truth, since=since, until=until)


def summarise(
    exchanges: Iterable[Exchange], truth: Mapping[str, int], *, since: float, until: float
) -> TrafficWindow:
    """A window from exchanges and the ground truth known by request id."""
    by_version: dict[str, list[Exchange]] = {}
    for exchange in exchanges:
        by_version.setdefault(exchange.version, []).append(exchange)
    return TrafficWindow(
        since=since,
        until=until,
        versions={version: _version_window(items, truth) for version, items in by_version.items()},
    )


def _version_window(exchanges: list[Exchange], truth: Mapping[str, int]) -> VersionWindow:
    histogram = [0] * HISTOGRAM_BINS
    labelled = correct = 0
    for exchange in exchanges:
        for probability in exchange.predictions:
            histogram[min(int(probability * HISTOGRAM_BINS), HISTOGRAM_BINS - 1)] += 1
        label = truth.get(exchange.puid) if exchange.puid else None
        if label is not None and exchange.predictions:
            labelled += 1
            correct += int((exchange.predictions[0] >= DECISION_THRESHOLD) == bool(label))
    return VersionWindow(
        requests=len(exchanges),
        errors=sum(1 for e in exchanges if e.failed),
        p99_latency_ms=percentiles([e.latency_ms for e in exchanges])["p99"],
        histogram=tuple(histogram),
        labelled=labelled,
        correct=correct,
    )
