"""The warm interpreter that local runs fork their steps from (``Runner.FORKED``).

kfp.local starts every step as a new interpreter, which then imports what the step needs: TensorFlow and
TFDV cost ~8-10 s of CPU each time, more than most steps' own work. This server imports a step's modules
once, then forks one child per step: the child is a new process with the step's own exit code, output,
environment and working folder, exactly as kfp's subprocess would be, but it starts with its imports done.
The server never runs a step's code itself, so every child starts from the same untouched state (no
TensorFlow graph, seed or thread pool exists before the fork), and steps stay as deterministic as before.

Protocol (one connection per step, on a Unix socket only this user can open): the client sends an 8-byte
big-endian length with the write end of the step's output pipe attached (``SCM_RIGHTS``), then that many
bytes of JSON ``{"source", "args", "env", "cwd"}``: the component's module source and the executor's
arguments, as kfp's lightweight-component command carries them. The server answers ``{"exit": CODE}``
once the child has ended.

Usage (started by ``pipelines.forked_steps``, never by hand):
    python -m pipelines.step_server --socket PATH --parent PID
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import ctypes
import gc
import importlib
import json
import os
import signal
import socket
import sys
import tempfile
import traceback
from collections.abc import Sequence

# What every step imports through kfp's executor; the rest is learnt from each step's own source.
BASE_MODULES = ("kfp.dsl.executor_main",)
COMPONENT_FILE = "ephemeral_component.py"
HEADER_BYTES = 8
_PR_SET_PDEATHSIG = 1


def modules_imported_by(source: str) -> list[str]:
    """The absolute imports anywhere in ``source`` (a component's module), in order, each once."""
    names: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
    return list(dict.fromkeys(names))


def preload(modules: Sequence[str]) -> None:
    """Imports ``modules`` here, so children forked later find them imported.

    A module that fails to import is left alone: the step imports it again and reports the real error.
    """
    for name in modules:
        with contextlib.suppress(Exception):
            importlib.import_module(name)
    settle()


def settle() -> None:
    """Makes this process's memory cheap to share with the children forked from it.

    Freezing moves every object imports made out of the collector's reach, so a child's collections
    never write into (and so copy) the pages the server shares with it; trimming hands the heap that
    imports used and freed back to the system instead of keeping it in this process.
    """
    gc.collect()
    gc.freeze()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).malloc_trim(0)


def die_with_parent() -> None:
    """Asks the kernel to end this process when its parent ends (Linux), so nothing outlives a run."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def serve(listener: socket.socket) -> None:
    """Answers one step at a time until the client closes the listener's other end or ends."""
    while True:
        connection, _ = listener.accept()
        with connection:
            header, fds, _, _ = socket.recv_fds(connection, HEADER_BYTES, 1)
            if len(header) < HEADER_BYTES or len(fds) != 1:
                continue  # not a step request (a probe, or a client that gave up)
            request = json.loads(_receive(connection, int.from_bytes(header, "big")))
            preload(modules_imported_by(request["source"]))
            child = os.fork()
            if child == 0:
                listener.close()
                connection.close()
                run_step(request, fds[0])  # never returns
            os.close(fds[0])
            _, status = os.waitpid(child, 0)
            connection.sendall(json.dumps({"exit": os.waitstatus_to_exitcode(status)}).encode() + b"\n")


def _receive(connection: socket.socket, length: int) -> bytes:
    chunks, remaining = [], length
    while remaining:
        chunk = connection.recv(min(remaining, 1 << 20))
        if not chunk:
            raise ConnectionError(f"the client sent {length - remaining} of {length} bytes")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def run_step(request: dict[str, object], output: int) -> None:
    """In the forked child: becomes the step's process, as kfp's ``sh -ec`` command would, and exits."""
    code = 1
    try:
        die_with_parent()
        signal.signal(signal.SIGINT, signal.default_int_handler)
        os.dup2(output, 1)
        os.dup2(output, 2)
        os.close(output)
        cwd = str(request["cwd"])
        os.chdir(cwd)
        os.environ.clear()
        os.environ.update({str(key): str(value) for key, value in dict(request["env"]).items()})  # type: ignore[call-overload]
        os.environ["_KFP_RUNTIME"] = "true"
        sys.path[0] = cwd  # `python -m` puts the working folder first
        for stream in (sys.stdout, sys.stderr):
            stream.reconfigure(line_buffering=True)  # type: ignore[union-attr]
        module_path = os.path.join(tempfile.mkdtemp(), COMPONENT_FILE)
        with open(module_path, "w", encoding="utf-8") as module:
            module.write(str(request["source"]))
        sys.argv = ["kfp.dsl.executor_main", "--component_module_path", module_path, *request["args"]]  # type: ignore[misc]

        from kfp.dsl.executor_main import executor_main

        executor_main()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:  # the step's own failure: reported as a subprocess would report it
        traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipelines.step_server")
    parser.add_argument("--socket", required=True, help="the Unix socket to listen on")
    parser.add_argument(
        "--parent", type=int, required=True, help="the run's process; the server ends with it"
    )
    args = parser.parse_args(argv)
    die_with_parent()
    if os.getppid() != args.parent:  # the run ended before the request to follow it took effect
        return 1
    # Ctrl-C reaches every step directly (same process group); the server waits for the step to end.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
        listener.bind(args.socket)
        listener.listen(8)
        preload(BASE_MODULES)
        serve(listener)
    return 0


if __name__ == "__main__":
    sys.exit(main())
