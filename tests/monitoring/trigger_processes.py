"""Starts trigger workers (``trigger_worker.py``) in their own processes and releases them together."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

WORKER = Path(__file__).with_name("trigger_worker.py")


def start_workers(tmp_path: Path, jobs: list[tuple[str, str]], go: str = "go") -> list[subprocess.Popen[str]]:
    """One worker per (action, argument), each past its imports and ready when this returns."""
    uri = f"sqlite:///{tmp_path}/metadata.sqlite"
    workers = [
        subprocess.Popen(
            [sys.executable, str(WORKER), uri, str(tmp_path / "locks"), str(tmp_path / go), action, argument],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        for action, argument in jobs
    ]
    for worker in workers:
        assert worker.stdout is not None
        line = worker.stdout.readline().strip()
        assert line == "ready", (
            f"worker did not start: {line!r} {worker.stderr.read() if worker.stderr else ''}"
        )
    return workers


def release_and_collect(tmp_path: Path, workers: list[subprocess.Popen[str]], go: str = "go") -> list[str]:
    """Lets the workers go at once and returns what each printed last."""
    (tmp_path / go).touch()
    outputs = [worker.communicate(timeout=120) for worker in workers]
    failures = [err for worker, (_, err) in zip(workers, outputs, strict=True) if worker.returncode != 0]
    assert failures == []
    return [out.strip().splitlines()[-1] for out, _ in outputs]
