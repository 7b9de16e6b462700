"""Opportunistic batching: concurrent requests share model calls and each gets exactly its own rows."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence

import numpy as np
import pytest

from components.serving.batching import CoalescingPredictor


class _SlowSum:
    """A stand-in model: 5 ms per call whatever the rows; answers row sums so rows are traceable."""

    def __init__(self, fail_on: float | None = None) -> None:
        self.batch_sizes: list[int] = []
        self.fail_on = fail_on

    def predict(self, columns: Mapping[str, np.ndarray]) -> np.ndarray:
        time.sleep(0.005)
        self.batch_sizes.append(len(columns["a"]))
        if self.fail_on is not None and (columns["a"] == self.fail_on).any():
            raise ValueError("poisoned row")
        return columns["a"] + columns["b"]


def _merge(requests: Sequence[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    return {name: np.concatenate([request[name] for request in requests]) for name in ("a", "b")}


def _coalescing(model: _SlowSum) -> CoalescingPredictor[dict[str, np.ndarray]]:
    return CoalescingPredictor(model, _merge, lambda request: len(request["a"]))


def _request(first: float, rows: int) -> dict[str, np.ndarray]:
    a = np.arange(first, first + rows, dtype=np.float64)
    return {"a": a, "b": a * 1000}


def _concurrently(
    predictor: CoalescingPredictor[dict[str, np.ndarray]], requests: list[dict[str, np.ndarray]]
) -> list[object]:
    results: list[object] = [None] * len(requests)
    start = threading.Barrier(len(requests))

    def run(index: int) -> None:
        start.wait()
        try:
            results[index] = predictor.predict(requests[index])
        except ValueError as exc:
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    return results


def test_concurrent_requests_share_calls_and_get_their_own_rows() -> None:
    model = _SlowSum()
    predictor = _coalescing(model)
    requests = [_request(100.0 * i, rows=1 + i % 3) for i in range(24)]
    results = _concurrently(predictor, requests)
    for request, result in zip(requests, results, strict=True):
        np.testing.assert_array_equal(result, request["a"] * 1001)
    assert predictor.requests == 24
    assert predictor.calls < 12  # 24 requests arriving together cannot need 24 calls of 5 ms each
    assert sum(model.batch_sizes) == sum(len(r["a"]) for r in requests)


def test_a_lone_request_goes_straight_to_the_model() -> None:
    model = _SlowSum()
    predictor = _coalescing(model)
    for i in range(3):
        np.testing.assert_array_equal(predictor.predict(_request(i, 2)), _request(i, 2)["a"] * 1001)
    assert model.batch_sizes == [2, 2, 2] and predictor.calls == 3


def test_a_failing_batch_fails_each_member_and_the_next_batch_runs() -> None:
    model = _SlowSum(fail_on=7.0)
    predictor = _coalescing(model)
    results = _concurrently(predictor, [_request(7.0, 1)] + [_request(10.0 * i + 20, 1) for i in range(7)])
    assert isinstance(results[0], ValueError)
    assert all(isinstance(r, ValueError | np.ndarray) for r in results)
    np.testing.assert_array_equal(predictor.predict(_request(3.0, 1)), [3003.0])
    with pytest.raises(ValueError, match="poisoned"):
        predictor.predict(_request(7.0, 1))
