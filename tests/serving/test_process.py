"""The process manager: a real seldon-core-microservice starts on loopback, answers, and leaves nothing behind;
the managed process under it starts, waits for, reports and stops any server's whole process group."""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
import urllib.request
from pathlib import Path
from typing import Self

import pytest
from doubles import ECHO_CLASS, TESTS_DIR

from components.processes import (
    ManagedProcess,
    ServerConfig,
    first_failing_url,
    free_ports,
    group_members,
    seldon_parameters,
    serve_model,
    start_server,
)
from contracts.errors import FeatureStoreError, MlopsError, ServerProcessError

# 127.0.0.1 as /proc/net/tcp writes it, and as gRPC's dual-stack socket shows it in /proc/net/tcp6.
LOOPBACK = {"0100007F", "0000000000000000FFFF00000100007F"}


def listening_addresses(ports: set[int]) -> dict[int, set[str]]:
    """Local addresses (hex, as in /proc/net/tcp) of the sockets listening on ``ports``."""
    found: dict[int, set[str]] = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as lines:
            for line in list(lines)[1:]:
                fields = line.split()
                address, port = fields[1].rsplit(":", 1)
                if fields[3] == "0A" and int(port, 16) in ports:  # 0A: LISTEN
                    found.setdefault(int(port, 16), set()).add(address)
    return found


def test_echo_server_starts_on_loopback_only_and_stops_with_all_its_processes(tmp_path: Path) -> None:
    server = start_server(
        ServerConfig(
            model_class=ECHO_CLASS, python_path=(TESTS_DIR,), workers=2, grpc_workers=1, log_dir=tmp_path
        )
    )
    try:
        members = group_members(server.pid)
        assert server.pid in members and len(members) >= 5  # master, 2 workers, gRPC, metrics, manager
        request = urllib.request.Request(
            f"{server.http_url}/api/v1.0/predictions",
            data=json.dumps({"jsonData": {"echo": 1}}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            assert json.loads(response.read())["jsonData"] == {"echo": 1}
        ports = {server.http_port, server.grpc_port, server.metrics_port}
        listening = listening_addresses(ports)
        assert set(listening) == ports
        assert all(addresses <= LOOPBACK for addresses in listening.values()), listening
    finally:
        server.stop()
    assert group_members(server.pid) == []
    assert not any(os.path.exists(f"/proc/{pid}") and pid in group_members(server.pid) for pid in members)
    assert "--bind-host" in server.command() and "127.0.0.1" in server.command()


@pytest.mark.parametrize(
    ("broken_file", "content", "cause"),
    [
        # read by the model's constructor, in Seldon's main process
        ("serving_schema.json", b'{"format_version": 99}', "format_version 99 is not 1"),
        # read by ``load`` in each gunicorn worker: gunicorn gives up with "Worker failed to boot"
        ("model.tflite", b"garbage", "cannot load the TFLite core"),
    ],
    ids=["constructor", "worker-load-tflite"],
)
def test_a_server_that_dies_while_starting_reports_the_cause(
    model_copy: Path, tmp_path: Path, broken_file: str, content: bytes, cause: str
) -> None:
    (model_copy / broken_file).write_bytes(content)
    with pytest.raises(ServerProcessError) as caught:
        serve_model(model_copy, log_dir=tmp_path, grpc_workers=0, startup_timeout=60)
    first_line = str(caught.value).splitlines()[0]
    assert "exited with status" in first_line
    assert cause in first_line  # the exception line, lifted from the server's log


def test_a_savedmodel_backend_stops_the_start_with_what_to_install(model_dir: Path, tmp_path: Path) -> None:
    # The serving set leaves TensorFlow out; its workers refuse the SavedModel backends and say why.
    with pytest.raises(ServerProcessError) as caught:
        serve_model(model_dir, log_dir=tmp_path, grpc_workers=0, startup_timeout=60, backend="session")
    assert "needs TensorFlow" in str(caught.value).splitlines()[0]


def test_a_missing_serving_environment_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ServerProcessError, match="no serving interpreter"):
        start_server(ServerConfig(model_class=ECHO_CLASS, serving_venv=tmp_path))


def test_constructor_parameters_are_typed_for_seldon() -> None:
    assert seldon_parameters({"a": "x", "b": 3, "c": 0.5, "d": True}) == [
        {"name": "a", "value": "x", "type": "STRING"},
        {"name": "b", "value": "3", "type": "INT"},
        {"name": "c", "value": "0.5", "type": "FLOAT"},
        {"name": "d", "value": "true", "type": "BOOL"},
    ]


# Serves HTTP on 127.0.0.1 after forking a worker that ignores SIGTERM (as a worker stuck in a request
# would), so only the escalation to SIGKILL stops the whole group. The worker says when it ignores it.
STUBBORN_SERVER = """
import http.server, subprocess, sys
worker = subprocess.Popen([sys.executable, "-c", (
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ignoring', flush=True); "
    "time.sleep(600)")], stdout=subprocess.PIPE)
worker.stdout.readline()
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), http.server.SimpleHTTPRequestHandler).serve_forever()
"""


class ScriptServer(ManagedProcess):
    """A Python script run as a managed server; ready once ``http://127.0.0.1:PORT/`` answers."""

    def __init__(self, script: str, *, error: type[MlopsError] = ServerProcessError) -> None:
        super().__init__(label="script server", error=error, log_name="script.log")
        self.script = script
        self.port = free_ports("127.0.0.1", [0])[0]

    def start(self, startup_timeout: float = 30.0) -> Self:
        url = f"http://127.0.0.1:{self.port}/"
        self.launch(
            [sys.executable, "-c", self.script, str(self.port)],
            ready=lambda: first_failing_url([url]),
            startup_timeout=startup_timeout,
        )
        return self


def test_a_managed_process_group_is_stopped_whole_even_when_a_member_ignores_sigterm() -> None:
    with ScriptServer(STUBBORN_SERVER).start() as server:
        members = group_members(server.pid)
        assert server.pid in members and len(members) == 2
        assert set(listening_addresses({server.port})[server.port]) <= LOOPBACK
        log_dir = server.log_dir
        began = time.monotonic()
        server.stop(grace=1.0)
        took = time.monotonic() - began
    assert group_members(server.pid) == []
    assert 1.0 <= took < 5.0  # the grace period, then SIGKILL
    assert not log_dir.exists()  # a temporary log folder goes with a clean stop


def test_a_managed_process_that_exits_raises_its_error_type_with_the_cause_and_keeps_its_log() -> None:
    server = ScriptServer("raise RuntimeError('the port table is corrupt')", error=FeatureStoreError)
    try:
        with pytest.raises(FeatureStoreError) as caught:
            server.start()
        first_line = str(caught.value).splitlines()[0]
        assert first_line.startswith("the script server exited with status 1 while starting")
        assert "(RuntimeError: the port table is corrupt)" in first_line
        assert str(server.log_path) in first_line
        assert str(caught.value).endswith("RuntimeError: the port table is corrupt")  # the log's tail
        assert server.log_path.is_file()
        assert group_members(server.pid) == []
    finally:
        shutil.rmtree(server.log_dir, ignore_errors=True)


def test_a_managed_process_that_never_answers_names_what_failed_and_is_stopped() -> None:
    server = ScriptServer("import time; print('still warming up', flush=True); time.sleep(600)")
    try:
        with pytest.raises(ServerProcessError) as caught:
            server.start(startup_timeout=1.0)
        message = str(caught.value)
        assert message.startswith(
            f"the script server was not healthy after 1 s (http://127.0.0.1:{server.port}/: "
        )
        assert message.endswith("still warming up")
        assert group_members(server.pid) == []
    finally:
        shutil.rmtree(server.log_dir, ignore_errors=True)


def test_free_ports_keeps_chosen_ports_and_picks_distinct_free_ones() -> None:
    ports = free_ports("127.0.0.1", [0, 8123, 0, 0])
    assert ports[1] == 8123
    picked = [ports[0], *ports[2:]]
    assert len(set(picked)) == 3 and all(port > 0 for port in picked)
