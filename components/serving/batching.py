"""Opportunistic batching: requests that meet in one server process share one model call.

A gunicorn worker serves several requests at once on its threads. One model call costs about the same
for 1 row as for 50 (the per-call overhead dominates), so while one call runs, the requests that arrive
wait, and when it ends one of them runs the next call for all of them. Nothing waits for company: a
lone request goes straight to the model, so latency at low load is unchanged, and under load the
batches grow by themselves with the queue. The thread that runs a batch is always one of its members,
so no extra thread exists and every thread returns as soon as its own rows are answered.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Generic, Protocol, TypeVar

import numpy as np

from components.serving.feature_batch import FeatureBatch

Rows = TypeVar("Rows")
Rows_contra = TypeVar("Rows_contra", contravariant=True)


class RowPredictor(Protocol[Rows_contra]):
    def predict(self, rows: Rows_contra) -> np.ndarray: ...


class _Job(Generic[Rows]):
    __slots__ = ("error", "result", "rows")

    def __init__(self, rows: Rows) -> None:
        self.rows = rows
        self.result: np.ndarray | None = None
        self.error: BaseException | None = None


class CoalescingPredictor(Generic[Rows]):
    """Wraps a predictor so concurrent ``predict`` calls in one process share model calls.

    Args:
        predictor: The model; ``predict(rows)`` answers one probability per row.
        merge: Joins several requests' rows into one request, in order.
        count: The number of rows of one request.

    Attributes:
        calls: Model calls made.
        requests: ``predict`` calls answered; ``requests / calls`` is the mean batch size.
    """

    def __init__(
        self,
        predictor: RowPredictor[Rows],
        merge: Callable[[Sequence[Rows]], Rows],
        count: Callable[[Rows], int],
    ) -> None:
        self._predictor = predictor
        self._merge = merge
        self._count = count
        self._ready = threading.Condition()
        self._pending: list[_Job[Rows]] = []
        self._busy = False
        self.calls = 0
        self.requests = 0

    def predict(self, rows: Rows) -> np.ndarray:
        """The probability per row of ``rows``, computed alone or together with concurrent requests.

        Raises:
            Whatever the wrapped predictor raises for the batch this request was part of.
        """
        job = _Job(rows)
        with self._ready:
            self._pending.append(job)
            while self._busy and job.result is None and job.error is None:
                self._ready.wait()
            if job.result is None and job.error is None:
                self._busy = True
                batch, self._pending = self._pending, []
        if job.result is None and job.error is None:
            try:
                self._run(batch)
            finally:
                with self._ready:
                    self._busy = False
                    self._ready.notify_all()
        if job.error is not None:
            raise job.error
        assert job.result is not None
        return job.result

    def _run(self, batch: list[_Job[Rows]]) -> None:
        self.calls += 1
        self.requests += len(batch)
        try:
            if len(batch) == 1:
                batch[0].result = self._predictor.predict(batch[0].rows)
                return
            probabilities = self._predictor.predict(self._merge([job.rows for job in batch]))
        except BaseException as exc:  # every member re-raises it on its own thread
            for job in batch:
                job.error = exc
            if not isinstance(exc, Exception):
                raise
            return
        start = 0
        for job in batch:
            rows = self._count(job.rows)
            job.result = probabilities[start : start + rows]
            start += rows


def coalescing(predictor: RowPredictor[FeatureBatch]) -> CoalescingPredictor[FeatureBatch]:
    """A ``CoalescingPredictor`` over validated request batches."""
    return CoalescingPredictor(predictor, FeatureBatch.concatenate, lambda batch: batch.rows)
