"""Runs the feature store's commands in the features environment; standard library only.

The pipeline set cannot import Feast, so its steps and ``mlops features`` start
``components.features.worker`` with the features environment's interpreter and read the one JSON object
it prints. Data goes back and forth as files.

Example:
    >>> store = FeatureEnvironment(repo=Path(".mlops/features"))  # doctest: +SKIP
    >>> store.apply()["rows"]["weather_hourly"]  # doctest: +SKIP
    26115
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from components.settings import PROJECT_ROOT, configured_features_venv
from contracts.errors import FeatureStoreError

DEFAULT_FEATURES_VENV = PROJECT_ROOT / ".venv-features"
WORKER_MODULE = "components.features.worker"
STDERR_TAIL_LINES = 30


def features_venv(explicit: Path | None = None) -> Path:
    """The features environment: ``explicit``, else ``MLOPS_FEATURES_VENV``, else the project's own."""
    return explicit or configured_features_venv() or DEFAULT_FEATURES_VENV


@dataclass(frozen=True)
class FeatureEnvironment:
    """The feature store in ``repo``, worked on by the interpreter of ``venv``.

    Attributes:
        repo: Folder of the rendered Feast repository (``feature_store.yaml``, ``data/``).
        venv: The features environment; None means ``features_venv()``.
        timeout: Seconds one command may take.
    """

    repo: Path
    venv: Path | None = None
    timeout: float = 900.0

    @property
    def python(self) -> Path:
        return features_venv(self.venv) / "bin" / "python"

    def apply(self, raw_data: Path | None = None) -> dict[str, Any]:
        """Builds the offline Parquet files and registers every entity and view (``feast apply``)."""
        extra = ["--raw-data", str(raw_data)] if raw_data else []
        return self.run("apply", *extra)

    def materialize(self, end: datetime, start: datetime | None = None) -> dict[str, Any]:
        """Loads the online store up to ``end``: incrementally, or over ``[start, end)`` when given."""
        extra = ["--start", start.isoformat()] if start else []
        return self.run("materialize", "--end", end.isoformat(), *extra)

    def historical(self, entities: Path, out: Path, chunk_rows: int | None = None) -> dict[str, Any]:
        """Point-in-time features for the entity rows in a Parquet file, written to ``out``.

        ``chunk_rows`` bounds the rows joined at once (the worker's default when None); the result does
        not depend on it, only the worker's memory and time do.
        """
        extra = ["--chunk-rows", str(chunk_rows)] if chunk_rows is not None else []
        return self.run("historical", "--entities", str(entities), "--out", str(out), *extra)

    def run(self, command: str, *args: str) -> dict[str, Any]:
        """Runs one worker command and returns what it printed.

        Raises:
            FeatureStoreError: when the interpreter is missing, the command fails or times out, or it
                prints no JSON result.
        """
        if not self.python.exists():
            raise FeatureStoreError(f"no features interpreter at {self.python}: run `make env`")
        argv = [str(self.python), "-m", WORKER_MODULE, command, "--repo", str(self.repo.resolve()), *args]
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [_source_checkout(), os.environ.get("PYTHONPATH")])),
            "PYTHONWARNINGS": "ignore",
        }
        try:
            done = subprocess.run(
                argv, capture_output=True, text=True, timeout=self.timeout, env=env, stdin=subprocess.DEVNULL
            )
        except subprocess.TimeoutExpired as exc:
            raise FeatureStoreError(f"`features {command}` took longer than {self.timeout:.0f} s") from exc
        result = _last_json(done.stdout)
        if done.returncode != 0 or result is None or "error" in result:
            reason = (result or {}).get("error") or _tail(done.stderr)
            raise FeatureStoreError(f"`features {command}` failed (exit {done.returncode}): {reason}")
        return result


def _source_checkout() -> str | None:
    # From a checkout the features interpreter imports this same code; an installed copy (an image)
    # carries the project in the features environment itself.
    return str(PROJECT_ROOT) if (PROJECT_ROOT / "pyproject.toml").is_file() else None


def _last_json(stdout: str) -> dict[str, Any] | None:
    # Feast prints progress bars on stdout; the worker's result is the last line.
    for line in reversed(stdout.strip().splitlines()):
        if line.startswith("{"):
            try:
                value = json.loads(line)
            except json.JSONDecodeError:
                return None
            return value if isinstance(value, dict) else None
    return None


def _tail(text: str) -> str:
    return "\n".join(text.strip().splitlines()[-STDERR_TAIL_LINES:]) or "no output"
