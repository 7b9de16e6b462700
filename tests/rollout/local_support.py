"""Shared by the local end-to-end rollout tests: real request bodies and a steady open-loop load."""

from __future__ import annotations

import functools
import threading
from collections import Counter

from default_data import default_months

from components.ingest.records import feature_records
from components.rollout.core.http_json import post_json
from components.serving.loadtest import LoadResult, encode_payloads, run_load

CHUNK_SECONDS = 2.0


@functools.cache
def _records(limit: int) -> tuple[dict[str, object], ...]:
    frame = default_months([8])
    labels = frame["delayed"].tolist()
    return tuple(
        {**record, "delayed": int(label)}
        for record, label in zip(feature_records(frame, limit=limit), labels, strict=False)
    )


def flight_records(limit: int = 3_000) -> tuple[dict[str, object], ...]:
    """Real August 2013 flights as feature records, each with its label under ``delayed`` (loaded once)."""
    return _records(limit)


@functools.cache
def payloads() -> list[bytes]:
    """Prediction request bodies of ``flight_records`` (without the label)."""
    return encode_payloads([{k: v for k, v in r.items() if k != "delayed"} for r in flight_records()])


class SteadyLoad:
    """Constant-rate load on a URL in back-to-back chunks until ``stop``; counts every status seen."""

    def __init__(self, url: str, *, rate: float) -> None:
        self.bodies = payloads()
        self.url = url
        self.rate = rate
        self.results: list[LoadResult] = []
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="steady-load", daemon=True)

    def start(self) -> SteadyLoad:
        self._thread.start()
        return self

    def stop(self) -> Counter[str]:
        self._stop.set()
        self._thread.join(CHUNK_SECONDS + 30)
        if self.error is not None:
            raise AssertionError(f"the load generator itself failed: {self.error!r}") from self.error
        return self.statuses

    @property
    def statuses(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for result in self.results:
            total.update(result.statuses)
        return total

    @property
    def sent(self) -> int:
        return sum(result.sent for result in self.results)

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                result = run_load(
                    self.url, self.bodies, rate=self.rate, duration=CHUNK_SECONDS, concurrency=64
                )
                self.results.append(result)
        except BaseException as exc:  # reported by stop(), in the test's thread
            self.error = exc


def predict_with_feedback(proxy_url: str, count: int, *, tag: str) -> Counter[str]:
    """Sends ``count`` real flights one by one with a known request id, then their ground truth as feedback.

    Returns:
        Statuses seen: ``predict:<status>`` and ``feedback:<status>``.
    """
    seen: Counter[str] = Counter()
    for index, record in enumerate(flight_records()[:count]):
        features = {k: v for k, v in record.items() if k != "delayed"}
        puid = f"{tag}-{index}"
        status, answer = post_json(
            f"{proxy_url}/api/v1.0/predictions", {"jsonData": features, "meta": {"puid": puid}}
        )
        seen[f"predict:{status}"] += 1
        feedback = {
            "request": {"jsonData": features},
            "response": {"meta": {"puid": answer["meta"]["puid"]}},
            "truth": {"data": {"ndarray": [[record["delayed"]]]}},
        }
        seen[f"feedback:{post_json(f'{proxy_url}/api/v1.0/feedback', feedback)[0]}"] += 1
    return seen
