"""Runs a pipeline on this machine through ``kfp.local``: the embedded default, no cluster needed.

Steps run as subprocesses of the current interpreter (``use_venv=False``): the pipeline environment
already holds every step's dependencies, and uv-made environments have no ``pip`` to install kfp with.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kfp import local

from components.settings import ProjectSettings


@dataclass(frozen=True)
class LocalRun:
    request_id: str
    succeeded: bool
    error: str | None
    outputs: Mapping[str, Any]


def new_request_id(prefix: str = "run") -> str:
    """A sortable, unique identifier for one requested run."""
    return f"{prefix}-{datetime.now(UTC):%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:6]}"


def run_pipeline_locally(
    pipeline: Callable[..., Any],
    settings: ProjectSettings,
    arguments: Mapping[str, Any],
    *,
    quiet: bool = False,
) -> LocalRun:
    """Runs ``pipeline`` with ``arguments`` plus the lineage settings and a fresh ``request_id``.

    A failed step does not raise: the run's outcome is returned, and its steps' records stay in the
    lineage store for the caller to explain the failure.
    """
    settings.pipeline_root.mkdir(parents=True, exist_ok=True)
    local.init(
        runner=local.SubprocessRunner(use_venv=False),
        pipeline_root=str(settings.pipeline_root),
        raise_on_error=True,
    )
    request_id = str(arguments.get("request_id") or new_request_id())
    full_arguments = {**arguments, "metadata_uri": settings.metadata_uri, "request_id": request_id}
    kfp_logger = logging.getLogger()
    previous_level = kfp_logger.level
    if quiet:
        kfp_logger.setLevel(logging.WARNING)
    try:
        outputs = pipeline(**full_arguments)
    except RuntimeError as exc:
        return LocalRun(request_id=request_id, succeeded=False, error=str(exc), outputs={})
    finally:
        kfp_logger.setLevel(previous_level)
    return LocalRun(request_id=request_id, succeeded=True, error=None, outputs=_as_mapping(outputs))


def _as_mapping(outputs: Any) -> Mapping[str, Any]:
    if outputs is None:
        return {}
    if isinstance(outputs, Mapping):
        return outputs
    return getattr(outputs, "outputs", {}) or {}
