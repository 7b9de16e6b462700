"""Local steps forked from a warm interpreter (``pipelines.step_server``) instead of started cold.

kfp.local's subprocess runner hands each task's command to one function,
``kfp.local.subprocess_task_handler.run_local_subprocess``; kfp 2.13 offers no other place to choose how
a task's process starts. While ``forked_steps()`` is active that function is this module's
``StepServer.run``: a lightweight Python component's command (``sh -ec <script> <source> <args>``) goes to
the server, which forks the step; any other command goes to kfp's own function. kfp still orchestrates
the DAG, writes every executor input and reads every output, so the run, its artifacts and its lineage
are those of the subprocess runner; only the processes start warm.

Example:
    >>> with forked_steps():  # doctest: +SKIP
    ...     continuous_training(**arguments)  # kfp.local, initialised with a SubprocessRunner
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from contracts.errors import ConfigError
from pipelines.step_server import COMPONENT_FILE, HEADER_BYTES

EXECUTOR_MODULE = "kfp.dsl.executor_main"
# The server binds its socket before it imports anything, so this only covers a machine under load.
CONNECT_TIMEOUT_SECONDS = 60.0
_active = threading.Lock()


@dataclass(frozen=True)
class LightweightStep:
    """What kfp's command for a lightweight Python component carries: its module source and arguments."""

    source: str
    args: list[str]


def lightweight_step(full_command: list[str]) -> LightweightStep | None:
    """The step in ``full_command`` when it is kfp's lightweight-component command, else None.

    That command is ``sh -ec SCRIPT SOURCE ARGS...``, where the script writes SOURCE to
    ``ephemeral_component.py`` and runs kfp's executor on it with ARGS.
    """
    if len(full_command) < 4 or full_command[:2] != ["sh", "-ec"]:
        return None
    script = full_command[2]
    if EXECUTOR_MODULE not in script or COMPONENT_FILE not in script:
        return None
    return LightweightStep(source=full_command[3], args=full_command[4:])


class StepServer:
    """A started ``pipelines.step_server`` process and the socket it listens on."""

    def __init__(self, process: subprocess.Popen[bytes], socket_path: Path, fallback: Callable[..., int]):
        self.process = process
        self.socket_path = socket_path
        self.fallback = fallback

    @classmethod
    def start(cls, socket_path: Path, fallback: Callable[..., int]) -> StepServer:
        """Starts the server with this process's environment; it imports in the background."""
        environment = {**os.environ, "_KFP_RUNTIME": "true"}
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "pipelines.step_server",
                "--socket",
                str(socket_path),
                "--parent",
                str(os.getpid()),
            ],
            env=environment,
            stdin=subprocess.DEVNULL,
        )
        return cls(process, socket_path, fallback)

    def run(self, full_command: list[str]) -> int:
        """Runs one task's command like kfp's ``run_local_subprocess``: prints its output, returns its exit code."""
        step = lightweight_step(full_command)
        if step is None:
            return self.fallback(full_command=full_command)
        read_end, write_end = os.pipe()
        try:
            with self._connect() as connection:
                payload = json.dumps(
                    {"source": step.source, "args": step.args, "env": dict(os.environ), "cwd": os.getcwd()}
                ).encode()
                socket.send_fds(connection, [len(payload).to_bytes(HEADER_BYTES, "big")], [write_end])
                connection.sendall(payload)
                os.close(write_end)
                write_end = -1
                with open(read_end, encoding="utf-8", errors="replace", closefd=True) as output:
                    read_end = -1
                    for line in output:
                        print(line, end="")
                print("\n")
                answer = connection.makefile("rb").readline()
        finally:
            for fd in (read_end, write_end):
                if fd >= 0:
                    os.close(fd)
        if not answer:
            print(f"the step server (pid {self.process.pid}) ended before the step did: {self._ended()}")
            return 1
        return int(json.loads(answer)["exit"])

    def stop(self) -> None:
        """Ends the server (it runs no step between requests) and waits for it."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def _connect(self) -> socket.socket:
        deadline = time.monotonic() + CONNECT_TIMEOUT_SECONDS
        while True:
            connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                connection.connect(str(self.socket_path))
                return connection
            except (FileNotFoundError, ConnectionRefusedError) as exc:
                connection.close()
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise ConfigError(
                        f"the step server never listened on {self.socket_path}: {self._ended()}"
                    ) from exc
                time.sleep(0.01)

    def _ended(self) -> str:
        code = self.process.poll()
        return "it is still running" if code is None else f"it exited with code {code}"


@contextlib.contextmanager
def forked_steps() -> Iterator[StepServer]:
    """Routes kfp.local's subprocess tasks through a step server for the ``with`` block.

    Raises:
        ConfigError: when kfp has no ``run_local_subprocess`` to route (a kfp other than the pinned one),
            or another forked run is active in this process.
    """
    from kfp.local import subprocess_task_handler

    original = getattr(subprocess_task_handler, "run_local_subprocess", None)
    if original is None:
        raise ConfigError(
            "this kfp has no kfp.local.subprocess_task_handler.run_local_subprocess to fork steps from; "
            "run with --runner subprocess"
        )
    if not _active.acquire(blocking=False):
        raise ConfigError("another forked run is active in this process; runs here go one at a time")
    try:
        with tempfile.TemporaryDirectory(prefix="mlops-steps-") as scratch:
            server = StepServer.start(Path(scratch) / "steps.sock", fallback=original)
            subprocess_task_handler.run_local_subprocess = server.run
            try:
                yield server
            finally:
                subprocess_task_handler.run_local_subprocess = original
                server.stop()
    finally:
        _active.release()
