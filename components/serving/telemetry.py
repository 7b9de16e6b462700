"""Custom Prometheus metrics of the model server, in Seldon Core's metric-dict format.

Seldon's Python wrapper turns the dicts a response carries in ``meta.metrics`` into Prometheus series
on the metrics port (``/prometheus`` as the operator configures it), one series per worker process.
Requests count here, exactly, under this process's lock; the counts reach Seldon as COUNTER increments
in the ``meta.metrics`` of one response per flush interval (``drain_due``), so most responses carry
none and cost Seldon nothing (``components/serving/metric_table.py``). Exposed series (Prometheus
appends ``_total`` to counters):

- ``flight_delay_requests{outcome, reason}`` COUNTER: requests by outcome (``ok``, ``rejected``,
  ``error``) and reason code (``OK``, ``UNKNOWN_CATEGORY``, ...; a small fixed set).
- ``flight_delay_rows`` COUNTER: rows predicted.
- ``flight_delay_score{bin}`` COUNTER: predicted probabilities per tenth, ``bin`` the upper edge
  ``0.1`` ... ``1.0``: the score distribution, comparable between model versions and over time.
- ``flight_delay_request_log_dropped`` COUNTER: log records dropped because the log queue was full.

Every update copies the worker's whole metric table through Seldon's multiprocessing manager and back,
and the copy grows with each series: one TIMER (Seldon's histogram, stored as 51 numpy floats) cost
~180 µs per update, so there is none, and one COUNTER per score bin keeps a 1,000-row batch at ten
metric dicts. Request latency is what the Seldon executor's own histograms measure in a cluster.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from contracts.errors import ConfigError

DEFAULT_FLUSH_SECONDS = 0.5
SCORE_BINS = 10
_PYTHON_BINNING_ROWS = 32
_BIN_LABELS = tuple(f"{(index + 1) / SCORE_BINS:.1f}" for index in range(SCORE_BINS))


class Telemetry:
    """Thread-safe accumulator of metric deltas since the last ``drain``.

    Args:
        flush_seconds: Least time between two non-empty ``drain_due`` results; 0 drains on every call.
        clock: Monotonic seconds (a parameter so tests can move time).

    Raises:
        ConfigError: for a negative or non-finite ``flush_seconds``.
    """

    def __init__(
        self, flush_seconds: float = DEFAULT_FLUSH_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if not 0.0 <= flush_seconds < float("inf"):
            raise ConfigError(f"the metrics flush interval must be >= 0 seconds, not {flush_seconds!r}")
        self.flush_seconds = flush_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._counters: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
        self._next_drain = float("-inf")  # the first request of a process publishes at once
        self._dropped_seen = 0

    def served(self, probabilities: Sequence[float]) -> None:
        """Counts an answered request, its rows and their score distribution."""
        if len(probabilities) <= _PYTHON_BINNING_ROWS:
            # A numpy call costs more than this loop for the one-row requests that dominate.
            counts = [0] * SCORE_BINS
            for probability in probabilities:
                counts[min(int(probability * SCORE_BINS), SCORE_BINS - 1)] += 1
        else:
            scaled = np.asarray(probabilities, dtype=np.float64) * SCORE_BINS
            counts = np.bincount(
                np.minimum(scaled.astype(np.int64), SCORE_BINS - 1), minlength=SCORE_BINS
            ).tolist()
        with self._lock:
            self._add("flight_delay_requests", 1, outcome="ok", reason="OK")
            self._add("flight_delay_rows", len(probabilities))
            for label, count in zip(_BIN_LABELS, counts, strict=True):
                if count:
                    self._add("flight_delay_score", count, bin=label)

    def refused(self, reason: str, *, status: int) -> None:
        """Counts a request refused (4xx, ``rejected``) or failed (5xx, ``error``)."""
        with self._lock:
            self._add(
                "flight_delay_requests", 1, outcome="rejected" if status < 500 else "error", reason=reason
            )

    def log_records_dropped(self, total: int) -> None:
        """Counts the increase of the request log's running total of records its full queue refused."""
        with self._lock:
            # Taken as a running total under the lock, so two threads draining at once count it once.
            if total > self._dropped_seen:
                self._add("flight_delay_request_log_dropped", total - self._dropped_seen)
                self._dropped_seen = total

    def due(self) -> bool:
        """Whether the flush interval has passed since the last ``drain``."""
        # Read without the lock: a stale answer only moves one flush by one request.
        return self._clock() >= self._next_drain

    def drain_due(self) -> list[dict[str, Any]]:
        """``drain()`` once the flush interval has passed since the last drain, else nothing."""
        return self.drain() if self.due() else []

    def drain(self) -> list[dict[str, Any]]:
        """The deltas since the last drain as Seldon metric dicts, and a fresh start."""
        with self._lock:
            counters, self._counters = self._counters, {}
            self._next_drain = self._clock() + self.flush_seconds
        return [
            {"type": "COUNTER", "key": key, "value": value, "tags": dict(tags)}
            for (key, tags), value in counters.items()
        ]

    def _add(self, key: str, value: float, **tags: str) -> None:
        slot = (key, tuple(sorted(tags.items())))
        self._counters[slot] = self._counters.get(slot, 0.0) + value
