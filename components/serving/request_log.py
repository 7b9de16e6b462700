"""Request/response log: one JSON line per answered or rejected request, off the request path.

Each server process appends to its own file, ``<directory>/requests-<pid>.jsonl``. Gunicorn workers and
gRPC workers are separate processes; one file each means no two writers ever share a file offset, so no
line can interleave with another whatever its size (``O_APPEND`` alone is only atomic per ``write`` call,
and a 1,000-row batch makes a line far longer than any size guaranteed to go out in one call). Readers
glob ``requests-*.jsonl`` and sort by ``ts``.

The request thread only puts a record builder on a bounded queue (~1 µs); a daemon thread per process
builds and serialises the records and writes whole batches of lines, flushing whenever the queue runs
dry, so lines reach the file within milliseconds and a burst costs one write. Building the record
(columns to lists, NaN to null) on the writer thread keeps ~25 µs per request off the request's path;
the timestamp is taken on the request thread. When the queue is full the record is dropped
and counted rather than slowing the answer; the count is exported as a metric.

The writer starts lazily in the process that first appends: Seldon builds the model object in the
gunicorn master and forks workers afterwards, and threads do not survive a fork.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import numpy as np

logger = logging.getLogger(__name__)

DEFAULT_QUEUE_SIZE = 10_000
_STOP = object()
_MAX_REJECTED_BODY = 2_000


class RequestLog:
    """Appends request records as JSON lines to a per-process file in ``directory``."""

    def __init__(self, directory: Path, *, queue_size: int = DEFAULT_QUEUE_SIZE) -> None:
        self.directory = directory
        self._queue_size = queue_size
        self._pid: int | None = None
        self._queue: queue.Queue[Any] = queue.Queue(queue_size)
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self.dropped = 0

    @property
    def path(self) -> Path:
        """This process's file."""
        return self.directory / f"requests-{os.getpid()}.jsonl"

    def append(self, build: Callable[[], Mapping[str, Any]]) -> bool:
        """Queues a record builder, called on the writer thread; False (and counted) when the queue is full.

        The builder must only read values nobody changes afterwards (the validated columns are not).
        """
        if self._pid != os.getpid():
            self._start()
        try:
            self._queue.put_nowait(build)
        except queue.Full:
            self.dropped += 1
            return False
        return True

    def close(self, timeout: float = 5.0) -> None:
        """Writes what is queued and stops this process's writer."""
        thread = self._thread
        if thread is None or self._pid != os.getpid() or not thread.is_alive():
            return
        self._queue.put(_STOP)
        thread.join(timeout)

    def _start(self) -> None:
        with self._start_lock:
            if self._pid == os.getpid():
                return
            self.directory.mkdir(parents=True, exist_ok=True)
            # A fresh queue: one inherited through fork may hold a lock taken by a thread that is gone.
            self._queue = queue.Queue(self._queue_size)
            sink = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - the writer thread owns it
            self._thread = threading.Thread(
                target=_write_lines, args=(self._queue, sink), name="request-log", daemon=True
            )
            self._thread.start()
            self._pid = os.getpid()
            atexit.register(self.close)


def _write_lines(records: queue.Queue[Any], sink: IO[str]) -> None:
    with sink:
        while True:
            batch = [records.get()]
            while len(batch) < 1_000:
                try:
                    batch.append(records.get_nowait())
                except queue.Empty:
                    break
            stop = any(build is _STOP for build in batch)
            lines = [_line(build) for build in batch if build is not _STOP]
            sink.write("".join(lines))
            sink.flush()
            if stop:
                return


def _line(build: Callable[[], Mapping[str, Any]]) -> str:
    # The writer thread must outlive any bad record: a failure becomes a line saying so.
    try:
        return json.dumps(build(), separators=(",", ":"), allow_nan=False, default=str) + "\n"
    except Exception as exc:
        logger.warning("request log: unserialisable record: %s", exc)
        return (
            json.dumps({"ts": utc_timestamp(time.time()), "outcome": "unloggable", "error": str(exc)}) + "\n"
        )


def utc_timestamp(seconds: float) -> str:
    """A Unix time as ISO 8601 UTC with milliseconds and a ``Z``."""
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def served_record(
    received: float,
    request_id: str,
    model_version: str,
    columns: Mapping[str, np.ndarray],
    probabilities: np.ndarray,
    *,
    protocol: str,
) -> dict[str, Any]:
    """The log record of an answered request: features as fed to the model (null for NaN), column-wise."""
    features = {}
    for name, column in columns.items():
        values = column.tolist()
        if column.dtype.kind == "f" and np.isnan(column).any():
            values = [None if value != value else value for value in values]
        features[name] = values
    return {
        "ts": utc_timestamp(received),
        "request_id": request_id,
        "model_version": model_version,
        "protocol": protocol,
        "outcome": "ok",
        "rows": len(probabilities),
        "features": features,
        "predictions": probabilities.tolist(),
    }


def rejected_record(
    received: float,
    request_id: str,
    model_version: str,
    message: Any,
    *,
    status: int,
    reason: str,
    error: str,
    protocol: str,
) -> dict[str, Any]:
    """The log record of a refused request: why, and the start of its body for debugging."""
    try:
        body = json.dumps(message, allow_nan=True, default=str)
    except (TypeError, ValueError, RecursionError):
        body = f"<unserialisable {type(message).__name__}>"
    return {
        "ts": utc_timestamp(received),
        "request_id": request_id,
        "model_version": model_version,
        "protocol": protocol,
        "outcome": "rejected" if status < 500 else "error",
        "status": status,
        "reason": reason,
        "error": error,
        "body": body[:_MAX_REJECTED_BODY],
    }
