"""Open-loop load generator for a model server: constant arrival rate, latency from the intended send time.

Request ``i`` is due at ``t0 + i / rate`` whether or not earlier requests have been answered, and its
latency runs from that due time to the last byte of the answer. A server that falls behind therefore
shows its queue in the latency figures instead of silently lowering the offered rate (the
"coordinated omission" of closed-loop testers). In-flight requests are capped by ``concurrency``
persistent HTTP/1.1 connections; a request waiting for a free connection keeps its clock running.

asyncio sleeps in whole milliseconds (its epoll timeout is rounded up), so a request is released up to
``EARLY_SECONDS`` before it is due rather than up to a millisecond after; the clock of a request sent
early starts when it is sent, never before, so early release cannot flatter a latency. How late the
generator itself sent is reported as ``send_lag_ms``: when its p99 is large, the generator, not the
server, was the bottleneck.

Standard library only (asyncio streams), so it runs in either environment. Targets must be loopback
unless ``allow_remote`` is set: this tool is for measuring a server on this machine, not for loading
someone else's.

Example:
    >>> payloads = encode_payloads(records, batch=1)  # doctest: +SKIP
    >>> result = run_load("http://127.0.0.1:9000/api/v1.0/predictions", payloads, rate=200, duration=5)
    >>> print(result.summary())
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import math
import socket
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from contracts.errors import ConfigError

PREDICTIONS_PATH = "/api/v1.0/predictions"
EARLY_SECONDS = 0.001


@dataclass(frozen=True)
class LoadResult:
    """What one load run measured. Latencies are milliseconds from each request's due time.

    Attributes:
        offered_rate: The requested arrival rate, requests per second.
        achieved_rate: Answers (any status) per second of the run, from the first due time to the last answer.
        sent: Requests scheduled.
        completed: Requests answered with an HTTP status.
        statuses: Answers per HTTP status, plus failures per exception name (``timeout``, ...).
        latency_ms: ``p50``, ``p95``, ``p99``, ``max`` and ``mean`` over answered requests.
        service_ms: The same percentiles from the actual send, without time spent waiting for a connection.
        send_lag_ms: How late the generator released requests after their due time (0 when early),
            before any wait for a free connection.
        duration_s: Wall time of the run.
    """

    offered_rate: float
    achieved_rate: float
    sent: int
    completed: int
    statuses: Mapping[str, int]
    latency_ms: Mapping[str, float]
    service_ms: Mapping[str, float]
    send_lag_ms: Mapping[str, float]
    duration_s: float
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> int:
        """Answers with status 200."""
        return int(self.statuses.get("200", 0))

    @property
    def errors(self) -> int:
        """Requests not answered with 200."""
        return self.sent - self.ok

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready copy."""
        return {
            "offered_rate": self.offered_rate,
            "achieved_rate": self.achieved_rate,
            "sent": self.sent,
            "completed": self.completed,
            "ok": self.ok,
            "errors": self.errors,
            "statuses": dict(self.statuses),
            "latency_ms": dict(self.latency_ms),
            "service_ms": dict(self.service_ms),
            "send_lag_ms": dict(self.send_lag_ms),
            "duration_s": self.duration_s,
            **({"extra": dict(self.extra)} if self.extra else {}),
        }

    def write_json(self, path: Path) -> Path:
        """Writes ``to_dict`` as JSON, creating parent folders."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")
        return path

    def summary(self) -> str:
        """One line for a terminal."""
        lat = self.latency_ms
        return (
            f"offered {self.offered_rate:.0f}/s achieved {self.achieved_rate:.0f}/s sent {self.sent} ok {self.ok} "
            f"errors {self.errors} p50 {lat['p50']:.2f} ms p95 {lat['p95']:.2f} ms p99 {lat['p99']:.2f} ms "
            f"max {lat['max']:.2f} ms"
        )


def encode_payloads(
    records: Sequence[Mapping[str, Any]], *, batch: int = 1, layout: str = "jsonData"
) -> list[bytes]:
    """Request bodies from feature records, ``batch`` rows each, encoded once up front.

    Args:
        records: Feature records (name to value); each body takes the next ``batch`` of them, cycling.
        batch: Rows per request.
        layout: ``jsonData`` (a record or a list of records) or ``ndarray`` (``data.names`` + rows).

    Raises:
        ConfigError: for no records, a batch below 1 or another layout.
    """
    if not records or batch < 1:
        raise ConfigError("encode_payloads needs records and a batch of at least 1")
    if layout not in ("jsonData", "ndarray"):
        raise ConfigError(f"layout must be 'jsonData' or 'ndarray', not {layout!r}")
    bodies = []
    for start in range(0, len(records), batch):
        rows = [records[(start + i) % len(records)] for i in range(batch)]
        if layout == "jsonData":
            message: dict[str, Any] = {"jsonData": rows[0] if batch == 1 else list(rows)}
        else:
            names = list(rows[0])
            message = {"data": {"names": names, "ndarray": [[row.get(n) for n in names] for row in rows]}}
        bodies.append(json.dumps(message, separators=(",", ":")).encode())
    return bodies


def run_load(
    url: str,
    payloads: Sequence[bytes],
    *,
    rate: float,
    duration: float,
    max_requests: int | None = None,
    concurrency: int = 32,
    timeout: float = 5.0,
    allow_remote: bool = False,
) -> LoadResult:
    """Offers ``rate`` requests per second to ``url`` for ``duration`` seconds (or ``max_requests``).

    Args:
        url: ``http://host:port/path`` to POST the payloads to.
        payloads: Request bodies (JSON), cycled in order.
        rate: Arrivals per second.
        duration: Seconds during which requests are due; answers are awaited ``timeout`` longer at most.
        max_requests: An upper bound on the number of requests, whichever bound comes first.
        concurrency: Most requests in flight (one persistent connection each).
        timeout: Seconds one request may take from its due time before it counts as ``timeout``.
        allow_remote: Permit a target that does not resolve to loopback only.

    Raises:
        ConfigError: for a bad URL, rate, bound, empty payloads, or a non-loopback target.
    """
    target = _Target.parse(url)
    if not allow_remote:
        _require_loopback(target.host)
    if rate <= 0 or duration <= 0 or concurrency < 1 or not payloads:
        raise ConfigError("run_load needs a positive rate, duration and concurrency, and payloads")
    count = math.ceil(rate * duration)
    if max_requests is not None:
        count = min(count, max_requests)
    return asyncio.run(_run(target, list(payloads), rate, count, concurrency, timeout))


@dataclass(frozen=True)
class _Target:
    host: str
    port: int
    path: str

    @classmethod
    def parse(cls, url: str) -> _Target:
        parts = urlsplit(url)
        if parts.scheme != "http" or not parts.hostname:
            raise ConfigError(f"load target must be an http:// URL, got {url!r}")
        return cls(parts.hostname, parts.port or 80, parts.path or "/")


def _require_loopback(host: str) -> None:
    try:
        addresses = {str(info[4][0]) for info in socket.getaddrinfo(host, None)}
    except socket.gaierror as exc:
        raise ConfigError(f"cannot resolve load target {host!r}: {exc}") from exc
    remote = sorted(a for a in addresses if not ipaddress.ip_address(a.split("%")[0]).is_loopback)
    if remote:
        raise ConfigError(
            f"load target {host!r} resolves to non-loopback {remote}; pass allow_remote to insist"
        )


class _Connection:
    def __init__(self, target: _Target) -> None:
        self.target = target
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, body: bytes) -> int:
        # A keep-alive connection the server closed while idle fails before any answer byte arrives;
        # that request is sent once more on a new connection, as HTTP clients do.
        fresh = self.writer is None
        try:
            return await self._exchange(body)
        except (ConnectionError, asyncio.IncompleteReadError):
            self.close()
            if fresh:
                raise
            return await self._exchange(body)

    async def _exchange(self, body: bytes) -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.target.host, self.target.port)
        assert self.reader is not None
        head = (
            f"POST {self.target.path} HTTP/1.1\r\nHost: {self.target.host}:{self.target.port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode()
        self.writer.write(head + body)
        await self.writer.drain()
        status_line, *header_lines = (
            (await self.reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        )
        headers = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if headers.get("transfer-encoding", "").lower() == "chunked":
            await self._skip_chunks()
        else:
            await self.reader.readexactly(int(headers.get("content-length", "0")))
        if headers.get("connection", "").lower() == "close":
            self.close()
        return int(status_line.split()[1])

    async def _skip_chunks(self) -> None:
        assert self.reader is not None
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await self.reader.readexactly(size + 2)
            if size == 0:
                return

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def _run(
    target: _Target, payloads: list[bytes], rate: float, count: int, concurrency: int, timeout: float
) -> LoadResult:
    idle: asyncio.Queue[_Connection] = asyncio.Queue()
    for _ in range(concurrency):
        idle.put_nowait(_Connection(target))
    latencies: list[float] = []
    services: list[float] = []
    lags: list[float] = []
    statuses: Counter[str] = Counter()
    finished_at = [0.0]

    async def one(index: int, due: float) -> None:
        lags.append(max(0.0, time.perf_counter() - due) * 1000.0)  # before any wait for a connection
        connection = await idle.get()
        sent = time.perf_counter()
        start_clock = min(due, sent)
        try:
            status = await asyncio.wait_for(
                connection.request(payloads[index % len(payloads)]), max(timeout - (sent - due), 0.001)
            )
        except TimeoutError:
            connection.close()
            statuses["timeout"] += 1
        except asyncio.CancelledError:
            connection.close()  # cut off mid-exchange: the connection's state is unknown
            raise
        except (
            OSError,
            asyncio.IncompleteReadError,
            asyncio.LimitOverrunError,
            ValueError,
            IndexError,
        ) as exc:
            connection.close()
            statuses[type(exc).__name__] += 1
        else:
            done = time.perf_counter()
            statuses[str(status)] += 1
            latencies.append((done - start_clock) * 1000.0)
            services.append((done - sent) * 1000.0)
            finished_at[0] = max(finished_at[0], done)
        finally:
            idle.put_nowait(connection)

    async def waiting(index: int, due: float) -> None:
        try:
            await asyncio.wait_for(one(index, due), timeout + 1.0)
        except TimeoutError:
            statuses["timeout"] += 1

    tasks = []
    start = time.perf_counter() + 0.05
    for index in range(count):
        due = start + index / rate
        delay = due - time.perf_counter() - EARLY_SECONDS
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(waiting(index, due)))
    await asyncio.gather(*tasks)
    while not idle.empty():
        idle.get_nowait().close()
    end = time.perf_counter()
    completed = len(latencies)
    span = max((finished_at[0] or end) - start, 1e-9)
    return LoadResult(
        offered_rate=rate,
        achieved_rate=completed / span,
        sent=count,
        completed=sum(v for k, v in statuses.items() if k.isdigit()),
        statuses=dict(sorted(statuses.items())),
        latency_ms=percentiles(latencies),
        service_ms=percentiles(services),
        send_lag_ms=percentiles(lags),
        duration_s=end - start,
    )


def percentiles(values: Sequence[float]) -> dict[str, float]:
    """Nearest-rank p50/p95/p99, max and mean; NaN for no values."""
    if not values:
        return {key: math.nan for key in ("p50", "p95", "p99", "max", "mean")}
    ordered = sorted(values)

    def rank(q: float) -> float:
        return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]

    return {
        "p50": rank(0.50),
        "p95": rank(0.95),
        "p99": rank(0.99),
        "max": ordered[-1],
        "mean": sum(ordered) / len(ordered),
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m components.serving.loadtest --records rows.jsonl --rate 200 ...``."""
    parser = argparse.ArgumentParser(description="Open-loop load test of a Seldon model server.")
    parser.add_argument("--url", default=f"http://127.0.0.1:9000{PREDICTIONS_PATH}")
    parser.add_argument("--records", type=Path, required=True, help="JSON lines, one feature record each")
    parser.add_argument("--batch", type=int, default=1, help="rows per request")
    parser.add_argument("--layout", choices=["jsonData", "ndarray"], default="jsonData")
    parser.add_argument("--rate", type=float, required=True, help="requests per second")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds")
    parser.add_argument("--max-requests", type=int, default=None)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--timeout", type=float, default=5.0)
    parser.add_argument("--json-out", type=Path, default=None)
    parser.add_argument("--allow-remote", action="store_true", help="permit a non-loopback target")
    args = parser.parse_args(argv)
    records = [
        json.loads(line) for line in args.records.read_text(encoding="utf-8").splitlines() if line.strip()
    ]
    result = run_load(
        args.url,
        encode_payloads(records, batch=args.batch, layout=args.layout),
        rate=args.rate,
        duration=args.duration,
        max_requests=args.max_requests,
        concurrency=args.concurrency,
        timeout=args.timeout,
        allow_remote=args.allow_remote,
    )
    print(result.summary())
    if args.json_out is not None:
        result.write_json(args.json_out)
    return 0 if result.errors == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
