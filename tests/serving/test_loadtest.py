"""The load generator against a stdlib server of known capacity: open loop, honest latencies, bounds."""

from __future__ import annotations

import json
import socket
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from components.serving.loadtest import encode_payloads, main, percentiles, run_load
from contracts.errors import ConfigError

SERVICE_SECONDS = 0.01  # one request at a time, 10 ms each: capacity 100 requests per second


class _SlowHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the load generator expects
    lock = threading.Lock()
    bodies: ClassVar[list[bytes]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with self.lock:
            time.sleep(SERVICE_SECONDS)
            self.bodies.append(body)
        status = 500 if b"fail" in body else 200
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: object) -> None:
        pass


class _QuietOnHangUpServer(ThreadingHTTPServer):
    def handle_error(
        self, request: socket.socket | tuple[bytes, socket.socket], client_address: object
    ) -> None:
        # The timeout test abandons requests on purpose; the late reply then meets a closed socket.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@pytest.fixture()
def url() -> Iterator[str]:
    _SlowHandler.bodies = []
    server = _QuietOnHangUpServer(("127.0.0.1", 0), _SlowHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/api/v1.0/predictions"
    server.shutdown()
    server.server_close()


def test_below_capacity_the_offered_rate_is_achieved(url: str) -> None:
    result = run_load(url, [b'{"a":1}', b'{"a":2}'], rate=40, duration=1.0, concurrency=4)
    assert result.sent == 40 and result.ok == 40 and result.errors == 0
    assert 34 <= result.achieved_rate <= 46
    assert result.latency_ms["p50"] < 50
    assert _SlowHandler.bodies[:2] == [b'{"a":1}', b'{"a":2}']


def test_above_capacity_queueing_shows_in_latency_from_the_due_time(url: str) -> None:
    # Offered 300/s against 100/s: a closed-loop tester would report ~10 ms; the backlog grows to ~2 s.
    result = run_load(url, [b"{}"], rate=300, duration=1.0, concurrency=8, timeout=10)
    assert result.ok == 300
    assert result.achieved_rate < 150
    assert result.latency_ms["p99"] > 1000
    assert result.service_ms["p50"] < result.latency_ms["p50"] / 5


def test_bounds_errors_and_timeouts_are_counted(url: str) -> None:
    result = run_load(url, [b'{"x":"fail"}', b"{}"], rate=50, duration=10.0, max_requests=10, concurrency=2)
    assert result.sent == 10 and result.statuses == {"200": 5, "500": 5} and result.errors == 5
    slow = run_load(url, [b"{}"], rate=400, duration=0.5, concurrency=1, timeout=0.2)
    assert slow.statuses.get("timeout", 0) > 0 and slow.sent == 200


def test_non_loopback_targets_are_refused_unless_allowed() -> None:
    with pytest.raises(ConfigError, match="non-loopback"):
        run_load("http://192.0.2.1:9000/api/v1.0/predictions", [b"{}"], rate=1, duration=1)
    with pytest.raises(ConfigError, match="http:// URL"):
        run_load("https://127.0.0.1/x", [b"{}"], rate=1, duration=1)


def test_payload_layouts_and_percentiles() -> None:
    records = [{"day": 1, "carrier": "UA"}, {"day": 2, "carrier": "B6"}, {"day": 3, "carrier": "AA"}]
    assert json.loads(encode_payloads(records)[1]) == {"jsonData": records[1]}
    batched = [json.loads(body) for body in encode_payloads(records, batch=2, layout="ndarray")]
    assert batched[0] == {"data": {"names": ["day", "carrier"], "ndarray": [[1, "UA"], [2, "B6"]]}}
    assert batched[1]["data"]["ndarray"] == [[3, "AA"], [1, "UA"]]  # cycles
    assert percentiles([float(v) for v in range(1, 101)]) == {
        "p50": 50,
        "p95": 95,
        "p99": 99,
        "max": 100,
        "mean": 50.5,
    }


def test_command_line_writes_json(url: str, tmp_path: Path) -> None:
    records = tmp_path / "rows.jsonl"
    records.write_text('{"day": 1}\n{"day": 2}\n')
    out = tmp_path / "result.json"
    code = main(
        ["--url", url, "--records", str(records), "--rate", "20", "--duration", "0.5", "--json-out", str(out)]
    )
    assert code == 0
    assert json.loads(out.read_text())["sent"] == 10
