"""Request/response log: one JSON line per answered or rejected request, off the request path.

Each server process appends to its own file, ``<directory>/requests-<host>-<pid>.jsonl``. Gunicorn
workers and gRPC workers are separate processes, and in a cluster the pods of every model share one
volume (the host name is the pod's name, and process ids repeat from pod to pod); one file each means
no two writers ever share a file offset, so no
line can interleave with another whatever its size (``O_APPEND`` alone is only atomic per ``write`` call,
and a 1,000-row batch makes a line far longer than any size guaranteed to go out in one call). Readers
glob ``requests-*.jsonl`` and sort by ``ts``.

The request thread builds and serialises its record (~20 µs for one row, in a hot loop) and appends the line to an in-memory
deque; a daemon thread per process wakes every ``flush_seconds`` (50 ms) and writes everything pending
in one call. Measured, this costs far less than a writer woken per record: each wake-up is a GIL
hand-over between threads, and a writer that builds records holds the GIL in bursts that stall request
threads (it cut peak throughput by a quarter). When ``max_pending`` lines wait, further records are
dropped and counted rather than slowing answers; the count is exported as a metric. A crash loses at
most the last ``flush_seconds`` of lines. A write that fails (a full disk) loses that flush's lines,
whole: the file is cut back to where the flush began, the lines are counted as dropped, and the writer
carries on, so logging resumes once the disk has room and no half line is ever left behind.

The writer starts lazily in the process that first appends: Seldon builds the model object in the
gunicorn master and forks workers afterwards, and threads do not survive a fork.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import math
import os
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from components.serving.validation import FeatureBatch

logger = logging.getLogger(__name__)

DEFAULT_MAX_PENDING = 10_000
FLUSH_SECONDS = 0.05
_MAX_REJECTED_BODY = 2_000


class RequestLog:
    """Appends request records as JSON lines to a per-process file in ``directory``.

    Args:
        directory: Folder of the ``requests-<host>-<pid>.jsonl`` files (created on first use).
        max_pending: Most lines held in memory between writes; more are dropped and counted.
        flush_seconds: How often the writer thread writes pending lines.
    """

    def __init__(
        self, directory: Path, *, max_pending: int = DEFAULT_MAX_PENDING, flush_seconds: float = FLUSH_SECONDS
    ) -> None:
        self.directory = directory
        self.max_pending = max_pending
        self.flush_seconds = flush_seconds
        self._pid: int | None = None
        self._lines: deque[str] = deque()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._count_lock = threading.Lock()
        self.dropped = 0

    @property
    def path(self) -> Path:
        """This process's file."""
        return self.directory / f"requests-{socket.gethostname()}-{os.getpid()}.jsonl"

    def append(self, record: Mapping[str, Any]) -> bool:
        """Serialises ``record`` and queues the line; False (and counted) when too many lines wait."""
        if self._pid != _process_id:
            self._start()
        if len(self._lines) >= self.max_pending:
            self._lost(1)
            return False
        self._lines.append(_line(record))  # deque.append is atomic: no lock on the request path
        return True

    def close(self, timeout: float = 5.0) -> None:
        """Writes what is pending and stops this process's writer."""
        thread = self._thread
        if thread is None or self._pid != os.getpid() or not thread.is_alive():
            return
        self._stop.set()
        thread.join(timeout)

    def _start(self) -> None:
        with self._start_lock:
            if self._pid == _process_id:
                return
            self.directory.mkdir(parents=True, exist_ok=True)
            # Fresh state: lines and events inherited through fork belong to the parent's writer.
            self._lines = deque()
            self._stop = threading.Event()
            sink = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)  # the writer owns it
            self._thread = threading.Thread(
                target=_write_lines,
                args=(self._lines, self._stop, sink, self.flush_seconds, self._lost),
                name="request-log",
                daemon=True,
            )
            self._thread.start()
            self._pid = _process_id
            atexit.register(self.close)

    def _lost(self, count: int) -> None:
        with self._count_lock:  # the request threads and the writer both count
            self.dropped += count


# This process's id, kept current across forks: ``append`` compares it on every request, and
# ``os.getpid`` there showed in profiles of a loaded worker (~2% of the samples holding the GIL).
_process_id = os.getpid()


def _forked() -> None:
    global _process_id
    _process_id = os.getpid()


os.register_at_fork(after_in_child=_forked)


def _write_lines(
    lines: deque[str], stop: threading.Event, sink: int, flush_seconds: float, lost: Callable[[int], None]
) -> None:
    try:
        while True:
            stopping = stop.wait(flush_seconds)
            pending = []
            while lines:
                pending.append(lines.popleft())
            if pending:
                try:
                    _write_whole(sink, "".join(pending).encode("utf-8"))
                except OSError as exc:
                    lost(len(pending))
                    logger.warning("request log: %d lines lost: %s", len(pending), exc)
            if stopping:
                return
    finally:
        os.close(sink)


def _write_whole(sink: int, data: bytes) -> None:
    # All or nothing: a write that fails part-way is cut back, so the file only ever holds whole lines.
    start = os.lseek(sink, 0, os.SEEK_END)
    written = 0
    try:
        while written < len(data):
            written += os.write(sink, data[written:])
    except OSError:
        if written:
            with contextlib.suppress(OSError):
                os.ftruncate(sink, start)
        raise


# Built once: ``json.dumps`` with options builds a new encoder for every record.
_ENCODER = json.JSONEncoder(separators=(",", ":"), allow_nan=False, default=str)


def _line(record: Mapping[str, Any]) -> str:
    # A record that cannot be strict JSON must not fail the request: it becomes a line saying so.
    try:
        return _ENCODER.encode(record) + "\n"
    except (TypeError, ValueError, RecursionError) as exc:
        logger.warning("request log: unserialisable record: %s", exc)
        return (
            json.dumps({"ts": utc_timestamp(time.time()), "outcome": "unloggable", "error": str(exc)}) + "\n"
        )


def utc_timestamp(seconds: float) -> str:
    """A Unix time as ISO 8601 UTC with milliseconds (truncated, as ``isoformat`` does) and a ``Z``."""
    # Rounded to microseconds as ``datetime.fromtimestamp`` does, so both give the same text.
    fraction, integral = math.modf(seconds)
    whole, micros = divmod(int(integral) * 1_000_000 + round(fraction * 1_000_000), 1_000_000)
    # Every record formats a time; the date and time of day change once a second, so that part is
    # kept (one tuple, replaced whole: threads that race only format it twice).
    cached_second, prefix = _last_second
    if whole != cached_second:
        prefix = datetime.fromtimestamp(whole, UTC).strftime("%Y-%m-%dT%H:%M:%S.")
        _set_last_second(whole, prefix)
    return f"{prefix}{micros // 1000:03d}Z"


_last_second: tuple[int, str] = (-1, "")


def _set_last_second(whole: int, prefix: str) -> None:
    global _last_second
    _last_second = (whole, prefix)


def served_record(
    received: float,
    request_id: str,
    model_version: str,
    batch: FeatureBatch,
    probabilities: np.ndarray,
    *,
    protocol: str,
) -> dict[str, Any]:
    """The log record of an answered request: features as fed to the model (null for NaN), column-wise."""
    return {
        "ts": utc_timestamp(received),
        "request_id": request_id,
        "model_version": model_version,
        "protocol": protocol,
        "outcome": "ok",
        "rows": len(probabilities),
        "features": batch.plain_columns(),
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
