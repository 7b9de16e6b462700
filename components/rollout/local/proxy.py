"""The local traffic proxy: a SeldonDeployment's traffic rules in front of local Seldon microservices.

In a cluster Istio splits traffic between predictors and Seldon's executor runs each predictor's graph;
on one machine this proxy does both, from the ``routes.json`` the local actuator writes (``routes.py``):

- ``POST /api/v1.0/predictions``: draws a predictor by traffic, runs its graph (a model; a
  ``RANDOM_ABTEST`` router; our bandit router, asked over HTTP), forwards the request and returns the
  answer. A copy goes to a shadow predictor, whose answer is recorded and dropped. A request without
  ``meta.puid`` gets one, so feedback and shadow answers can refer to it.
- A candidate that answers 5xx or cannot be reached is recorded as failing and the request is sent
  again to the main version, so clients see no failure a bad candidate caused (Istio's retry policy
  plays this part in a cluster). 4xx answers are the client's and pass through.
- ``POST /api/v1.0/feedback`` (Seldon's ``Feedback``: ``response.meta.puid``, ``truth``, ``reward``):
  records the ground truth against the answer it refers to and, for a bandit, hands the reward to the
  router with the branch that answered.
- ``GET /rollout/window?since=&until=``: every version's traffic in a window (``traffic.py``), which the
  controller judges. ``GET /rollout/health``: the routes generation in force.

Every exchange and feedback is also appended to a JSON-lines traffic log (the A/B report reads it).
Routes are re-read within 50 ms of a change; a swap never drops a request. Standard library only.

    python -m components.rollout.local.proxy --routes .mlops/rollout/routes.json --port 9000
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import signal
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any
from urllib.parse import parse_qs, urlsplit

from components.rollout.core.traffic import Exchange, TrafficBook
from components.rollout.local.routes import Predictor, Routes, Unit
from contracts.errors import RolloutError

PREDICTION_PATHS = ("/api/v1.0/predictions", "/api/v0.1/predictions")
FEEDBACK_PATHS = ("/api/v1.0/feedback", "/api/v0.1/feedback")
MAX_BODY_BYTES = 8 * 1024 * 1024
RELOAD_SECONDS = 0.05
FLUSH_SECONDS = 0.2
UPSTREAM_TIMEOUT_SECONDS = 30.0
IDLE_SECONDS = 1.0
ROUTINGS_KEPT = 1_000_000
_REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 411: "Length Required", 413: "Payload Too Large"}


class _Upstream:
    """Keep-alive HTTP/1.1 connections to one server, reused across requests.

    Gunicorn closes a keep-alive connection after 2 idle seconds, and a request written just as it does
    so fails without an answer. Connections idle for longer than ``IDLE_SECONDS`` are therefore not
    reused, and a request that fails on a reused connection is sent once more on a fresh one.
    """

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self._idle: list[tuple[float, asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        """Returns (status, body); status 0 when the server could not be reached or broke the exchange."""
        connection = self._reusable()
        for fresh in (False, True) if connection else (True,):
            if fresh:
                try:
                    connection = await asyncio.open_connection(self.host, self.port)
                except OSError:
                    return 0, b""
            assert connection is not None
            reader, writer = connection
            try:
                status, answer, keep = await asyncio.wait_for(
                    self._exchange(reader, writer, path, body), UPSTREAM_TIMEOUT_SECONDS
                )
            except (
                OSError,
                asyncio.IncompleteReadError,
                asyncio.LimitOverrunError,
                ValueError,
                TimeoutError,
            ):
                writer.close()
                continue
            if keep:
                self._idle.append((time.monotonic(), reader, writer))
            else:
                writer.close()
            return status, answer
        return 0, b""

    def _reusable(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        while self._idle:
            since, reader, writer = self._idle.pop()
            if time.monotonic() - since < IDLE_SECONDS and not reader.at_eof():
                return reader, writer
            writer.close()
        return None

    async def _exchange(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, path: str, body: bytes
    ) -> tuple[int, bytes, bool]:
        writer.write(
            f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        await writer.drain()
        status_line, headers = await _read_head(reader)
        if headers.get("transfer-encoding", "").lower() == "chunked":
            answer = await _read_chunks(reader)
        else:
            answer = await reader.readexactly(int(headers.get("content-length", "0")))
        return int(status_line.split()[1]), answer, headers.get("connection", "").lower() != "close"


class TrafficProxy:
    """The proxy's state: routes in force, upstream pools, the traffic book and log.

    Args:
        routes_path: The ``routes.json`` to follow.
        traffic_log: JSON-lines file for every exchange and feedback; None keeps none.
        seed: Seed of the traffic draws; None draws one.
    """

    def __init__(
        self, routes_path: Path, *, traffic_log: Path | None = None, seed: int | None = None
    ) -> None:
        self.routes_path = routes_path
        self.routes = Routes.read(routes_path)
        self._routes_mtime = routes_path.stat().st_mtime_ns
        self.book = TrafficBook()
        self._rng = random.Random(seed)
        self._upstreams: dict[str, _Upstream] = {}
        self._routing: dict[str, tuple[str, int]] = {}
        self._mirrors: set[asyncio.Task[None]] = set()
        self._pending_log: list[str] = []
        self._log: IO[str] | None = None
        if traffic_log is not None:
            traffic_log.parent.mkdir(parents=True, exist_ok=True)
            self._log = open(traffic_log, "a", encoding="utf-8")  # noqa: SIM115 - closed by serve()

    async def serve(self, host: str, port: int, ready: asyncio.Event | None = None) -> None:
        """Serves until cancelled."""
        server = await asyncio.start_server(self._connection, host, port, limit=MAX_BODY_BYTES + 65536)
        background = [asyncio.create_task(self._reload_loop()), asyncio.create_task(self._flush_loop())]
        if ready is not None:
            ready.set()
        try:
            async with server:
                await server.serve_forever()
        finally:
            for task in background:
                task.cancel()
            self._flush()
            if self._log is not None:
                self._log.close()

    # HTTP -------------------------------------------------------------------------------------------

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    request_line, headers = await _read_head(reader)
                except (asyncio.IncompleteReadError, ConnectionError, ValueError, asyncio.LimitOverrunError):
                    return
                method, target, *_ = request_line.split(" ")
                if "chunked" in headers.get("transfer-encoding", "").lower():
                    await _respond(writer, 411, _error("send the body with a Content-Length"), close=True)
                    return
                length = int(headers.get("content-length", "0") or 0)
                if length > MAX_BODY_BYTES:
                    await _respond(
                        writer, 413, _error(f"bodies are limited to {MAX_BODY_BYTES} bytes"), close=True
                    )
                    return
                if headers.get("expect", "").lower() == "100-continue":
                    writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                body = await reader.readexactly(length)
                status, answer = await self._handle(method, target, body)
                close = headers.get("connection", "").lower() == "close"
                await _respond(writer, status, answer, close=close)
                if close:
                    return
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            writer.close()

    async def _handle(self, method: str, target: str, body: bytes) -> tuple[int, bytes]:
        parts = urlsplit(target)
        if method == "POST" and parts.path in PREDICTION_PATHS:
            return await self._predict(parts.path, body)
        if method == "POST" and parts.path in FEEDBACK_PATHS:
            return await self._feedback(body)
        if method == "GET" and parts.path == "/rollout/window":
            query = parse_qs(parts.query)
            try:
                since = float(query.get("since", ["0"])[0])
                until = float(query.get("until", [str(time.time())])[0])
            except ValueError:
                return 400, _error("since and until are Unix times in seconds")
            return 200, json.dumps(self.book.window(since, until).to_dict()).encode()
        if method == "GET" and parts.path == "/rollout/health":
            return 200, json.dumps({"status": "ok", "generation": self.routes.generation}).encode()
        if method == "GET" and parts.path == "/health/ping":
            return 200, b'"pong"'
        return 404, _error(f"no route for {method} {parts.path}")

    # Predictions ------------------------------------------------------------------------------------

    async def _predict(self, path: str, body: bytes) -> tuple[int, bytes]:
        routes = self.routes  # one generation for the whole request, whatever a reload does meanwhile
        message, body, puid = _with_puid(body)
        segment = _segment(message)
        predictor = routes.choose(self._rng)
        for shadow in routes.shadows():
            mirror = asyncio.get_running_loop().create_task(
                self._mirror(routes, shadow, path, body, puid, segment)
            )
            self._mirrors.add(mirror)  # the loop keeps only weak references to tasks
            mirror.add_done_callback(self._mirrors.discard)
        unit, routing = await self._resolve(routes, predictor, body)
        status, answer = await self._forward(routes, unit, path, body, puid, segment, mirrored=False)
        if (status == 0 or status >= 500) and unit.version != routes.main_version:
            main = routes.main_unit()
            if main is not None:
                unit, routing = main, None
                status, answer = await self._forward(routes, main, path, body, puid, segment, mirrored=False)
        if status == 0:
            return 502, _error(f"model server {unit.name} could not be reached")
        if routing is not None and puid:
            self._routing[puid] = routing
            if len(self._routing) > ROUTINGS_KEPT:
                del self._routing[next(iter(self._routing))]  # the oldest; feedback comes within hours
        return status, answer

    async def _mirror(
        self, routes: Routes, shadow: Predictor, path: str, body: bytes, puid: str, segment: dict[str, str]
    ) -> None:
        unit, _ = await self._resolve(routes, shadow, body)
        await self._forward(routes, unit, path, body, puid, segment, mirrored=True)

    async def _resolve(
        self, routes: Routes, predictor: Predictor, body: bytes
    ) -> tuple[Unit, tuple[str, int] | None]:
        """The model unit that answers, and (router, branch) when a router chose it."""
        unit, routing = predictor.graph, None
        while unit.children:
            if unit.implementation == "RANDOM_ABTEST":
                branch = 0 if self._rng.random() < unit.ratio_a else 1
            else:
                branch = await self._ask_router(routes, unit, body)
            routing = (unit.name, branch)
            unit = unit.children[branch]
        return unit, routing

    async def _ask_router(self, routes: Routes, router: Unit, body: bytes) -> int:
        status, answer = await self._upstream(routes.endpoints[router.name]).post("/route", body)
        try:
            # Seldon answers an ndarray request with an ndarray, anything else (jsonData) with a tensor.
            data = json.loads(answer)["data"] if status == 200 else {}
            branch = int(data["ndarray"][0][0] if "ndarray" in data else data["tensor"]["values"][0])
        except (ValueError, KeyError, IndexError, TypeError):
            branch = 0
        # A router that fails or names no child sends the request to the first child (the main version).
        return branch if 0 <= branch < len(router.children) else 0

    async def _forward(
        self,
        routes: Routes,
        unit: Unit,
        path: str,
        body: bytes,
        puid: str,
        segment: dict[str, str],
        *,
        mirrored: bool,
    ) -> tuple[int, bytes]:
        started = time.perf_counter()
        status, answer = await self._upstream(routes.endpoints[unit.name]).post(path, body)
        latency_ms = (time.perf_counter() - started) * 1000.0
        exchange = Exchange(
            time=time.time(),
            version=unit.version,
            status=status,
            latency_ms=latency_ms,
            predictions=_predictions(answer) if status == 200 else (),
            puid=puid,
            mirrored=mirrored,
            segment=segment,
        )
        self.book.record(exchange)
        self._pending_log.append(json.dumps({"exchange": exchange.to_dict()}))
        return status, answer

    def _upstream(self, url: str) -> _Upstream:
        if url not in self._upstreams:
            self._upstreams[url] = _Upstream(url)
        return self._upstreams[url]

    # Feedback ---------------------------------------------------------------------------------------

    async def _feedback(self, body: bytes) -> tuple[int, bytes]:
        try:
            feedback = json.loads(body)
            puid = str(feedback["response"]["meta"]["puid"])
        except (ValueError, KeyError, TypeError):
            return 400, _error("feedback must be Seldon's Feedback message with response.meta.puid")
        truth = _truth(feedback.get("truth"))
        reward = feedback.get("reward")
        if truth is None and reward is None:
            return 400, _error("feedback needs truth (0 or 1 in truth.data.ndarray) or a reward")
        answer = self.book.feedback(puid, truth) if truth is not None else self._answer(puid)
        if answer is None:
            return 404, _error(f"no answered request with puid {puid!r} (the proxy keeps those it answered)")
        if reward is None and truth is not None and answer.predictions:
            reward = float((answer.predictions[0] >= 0.5) == bool(truth))
        self._pending_log.append(
            json.dumps({"feedback": {"puid": puid, "truth": truth, "reward": reward, "time": time.time()}})
        )
        routing = self._routing.get(puid)
        if routing is not None and reward is not None and routing[0] in self.routes.endpoints:
            router, branch = routing
            message = {
                "request": feedback.get("request", {}),
                "response": {"meta": {"routing": {router: branch}}},
                "reward": reward,
            }
            status, text = await self._upstream(self.routes.endpoints[router]).post(
                "/api/v1.0/feedback", json.dumps(message).encode()
            )
            if status != 200:
                return 502, _error(f"the router refused the feedback ({status}): {text[:200]!r}")
        return 200, json.dumps({"recorded": True, "version": answer.version, "reward": reward}).encode()

    def _answer(self, puid: str) -> Exchange | None:
        for exchange in reversed(self.book.exchanges(time.time() - 86_400)):
            if exchange.puid == puid and not exchange.mirrored:
                return exchange
        return None

    # Background -------------------------------------------------------------------------------------

    async def _reload_loop(self) -> None:
        while True:
            await asyncio.sleep(RELOAD_SECONDS)
            try:
                mtime = self.routes_path.stat().st_mtime_ns
                if mtime != self._routes_mtime:
                    self.routes = Routes.read(self.routes_path)
                    self._routes_mtime = mtime
            except (OSError, RolloutError):
                continue  # a half-written or missing file: keep the routes in force and look again

    async def _flush_loop(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_SECONDS)
            self._flush()

    def _flush(self) -> None:
        if self._log is not None and self._pending_log:
            lines, self._pending_log = self._pending_log, []
            self._log.write("\n".join(lines) + "\n")
            self._log.flush()


async def _read_head(reader: asyncio.StreamReader) -> tuple[str, dict[str, str]]:
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
    first, *lines = head.split("\r\n")
    headers = {}
    for line in lines:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    return first, headers


async def _read_chunks(reader: asyncio.StreamReader) -> bytes:
    parts = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        parts.append(await reader.readexactly(size + 2))
        if size == 0:
            return b"".join(p[:-2] for p in parts)


async def _respond(writer: asyncio.StreamWriter, status: int, body: bytes, *, close: bool) -> None:
    reason = _REASONS.get(status, "Error" if status >= 400 else "OK")
    connection = "Connection: close\r\n" if close else ""
    head = f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    writer.write((head + connection + "\r\n").encode() + body)
    await writer.drain()


def _error(message: str) -> bytes:
    return json.dumps({"status": {"status": "FAILURE", "info": message}}).encode()


def _with_puid(body: bytes) -> tuple[Any, bytes, str]:
    """The decoded request, its body with ``meta.puid`` added when it had none, and that request id.

    Seldon answers with the request's ``meta.puid``, so the id is known before the answer comes back.
    """
    try:
        message = json.loads(body)
    except ValueError:
        return None, body, ""  # the model server refuses it with its own 400
    if not isinstance(message, dict):
        return message, body, ""
    meta = message.get("meta")
    if isinstance(meta, dict) and meta.get("puid"):
        return message, body, str(meta["puid"])
    puid = uuid.uuid4().hex
    message["meta"] = {**(meta if isinstance(meta, dict) else {}), "puid": puid}
    return message, json.dumps(message, separators=(",", ":")).encode(), puid


def _segment(message: Any) -> dict[str, str]:
    """``origin`` and ``carrier`` of the request's first row, for per-segment reports."""
    if not isinstance(message, dict):
        return {}
    row: Any = message.get("jsonData")
    if isinstance(row, list):
        row = row[0] if row else None
    if not isinstance(row, dict):
        data = message.get("data")
        try:
            row = dict(zip(data["names"], data["ndarray"][0], strict=False))  # type: ignore[index]
        except (TypeError, KeyError, IndexError):
            return {}
    return {key: str(row[key]) for key in ("origin", "carrier") if row.get(key) is not None}


def _predictions(answer: bytes) -> tuple[float, ...]:
    try:
        rows = json.loads(answer)["data"]["ndarray"]
        return tuple(float(row[0] if isinstance(row, list) else row) for row in rows)
    except (ValueError, KeyError, TypeError, IndexError):
        return ()


def _truth(value: Any) -> int | None:
    try:
        label = value["data"]["ndarray"][0]
        label = label[0] if isinstance(label, list) else label
        return int(bool(float(label)))
    except (TypeError, KeyError, IndexError, ValueError):
        return None


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: serve until SIGTERM or SIGINT."""
    parser = argparse.ArgumentParser(description="Local traffic proxy for rollouts (see module docstring).")
    parser.add_argument(
        "--routes", type=Path, required=True, help="routes.json written by the local actuator"
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--traffic-log", type=Path, default=None)
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args(argv)
    proxy = TrafficProxy(args.routes, traffic_log=args.traffic_log, seed=args.seed)

    async def run() -> None:
        task = asyncio.ensure_future(proxy.serve(args.host, args.port))
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, task.cancel)
        with contextlib.suppress(asyncio.CancelledError):
            await task

    asyncio.run(run())


if __name__ == "__main__":
    main()
