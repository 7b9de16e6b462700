"""Custom Prometheus metrics of the model server, in Seldon Core's metric-dict format.

Seldon's Python wrapper turns the dicts a response carries in ``meta.metrics`` into Prometheus series
on the metrics port (``/prometheus`` as the operator configures it), one series per worker process.
Each request adds its deltas here and the response drains them, so a COUNTER is exact even when two
threads of one worker interleave. Exposed series (Prometheus appends ``_total`` to counters):

- ``flight_delay_requests{outcome, reason}`` COUNTER: requests by outcome (``ok``, ``rejected``,
  ``error``) and reason code (``OK``, ``UNKNOWN_CATEGORY``, ...; a small fixed set).
- ``flight_delay_rows`` COUNTER: rows predicted.
- ``flight_delay_score{bin}`` COUNTER: predicted probabilities per tenth, ``bin`` the upper edge
  ``0.1`` ... ``1.0``: the score distribution, comparable between model versions and over time.
- ``flight_delay_request_log_dropped`` COUNTER: log records dropped because the log queue was full.

Every response makes Seldon copy this worker's whole metric table through its multiprocessing
manager and back (~120 µs even with no metrics, measured), and the copy grows with each series: one
TIMER, stored as 51 numpy floats, added ~180 µs to every request, so there is none. Request latency is
what the Seldon executor's own histograms measure in a cluster. One COUNTER per score bin keeps a
1,000-row batch at ten metric dicts.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

SCORE_BINS = 10
_PYTHON_BINNING_ROWS = 32
_BIN_LABELS = tuple(f"{(index + 1) / SCORE_BINS:.1f}" for index in range(SCORE_BINS))


class Telemetry:
    """Thread-safe accumulator of metric deltas since the last ``drain``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counters: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}

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

    def dropped_log_records(self, count: int) -> None:
        """Counts request-log records the full queue could not take."""
        if count:
            with self._lock:
                self._add("flight_delay_request_log_dropped", count)

    def drain(self) -> list[dict[str, Any]]:
        """The deltas since the last call as Seldon metric dicts, and a fresh start."""
        with self._lock:
            counters, self._counters = self._counters, {}
        return [
            {"type": "COUNTER", "key": key, "value": value, "tags": dict(tags)}
            for (key, tags), value in counters.items()
        ]

    def _add(self, key: str, value: float, **tags: str) -> None:
        slot = (key, tuple(sorted(tags.items())))
        self._counters[slot] = self._counters.get(slot, 0.0) + value
