"""Runs a pipeline on this machine through ``kfp.local``: the embedded default, no cluster needed.

Three runners:

- ``forked`` (default): kfp.local's subprocess runner, with every step forked from a warm interpreter
  that has already imported what the step imports (``forked_steps.py``): each step is still a process of
  its own, but TensorFlow and TFDV are imported once per run instead of once per step.
- ``subprocess``: kfp.local's subprocess runner as it is: every step a new interpreter of this
  environment (``use_venv=False``); the pipeline environment already holds every step's dependencies,
  and uv-made environments have no ``pip`` to install kfp with.
- ``docker``: every step runs in the container image its spec names (``kfp.local.DockerRunner``), the
  same images a cluster runs. The runner mounts only the pipeline root into the containers, at the same
  path, so the whole state folder (lineage store, registry lock, artifacts) becomes the pipeline root;
  and the images run as an unprivileged user, so that folder is opened to every user.
"""

from __future__ import annotations

import contextlib
import os
import sys
import uuid
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from components.settings import ProjectSettings
from contracts.errors import ConfigError

MALLOC_ARENAS_VARIABLE = "MALLOC_ARENA_MAX"
MALLOC_ARENAS = "2"


class Runner(StrEnum):
    FORKED = "forked"
    SUBPROCESS = "subprocess"
    DOCKER = "docker"


@dataclass(frozen=True)
class LocalRun:
    request_id: str
    succeeded: bool
    error: str | None
    log_path: Path | None = None


def new_request_id(prefix: str = "run") -> str:
    """A sortable, unique identifier for one requested run."""
    return f"{prefix}-{datetime.now(UTC):%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:6]}"


def run_pipeline_locally(
    pipeline: Callable[..., Any],
    settings: ProjectSettings,
    arguments: Mapping[str, Any],
    *,
    quiet: bool = False,
    runner: Runner = Runner.FORKED,
) -> LocalRun:
    """Runs ``pipeline`` with ``arguments`` plus the lineage settings and a fresh ``request_id``.

    A failed step does not raise: the run's outcome is returned, and its steps' records stay in the
    lineage store for the caller to explain the failure. With ``quiet``, the steps' logs go to a file
    under the state folder instead of the terminal.
    """
    _init_runner(settings, runner)
    request_id = str(arguments.get("request_id") or new_request_id())
    full_arguments = {
        **arguments,
        "metadata_uri": settings.metadata_uri,
        "registry_lock": str(settings.registry_lock),
        "feature_repo": str(settings.feature_repo),
        "request_id": request_id,
    }
    log_path = settings.state_dir / "logs" / f"{request_id}.log" if quiet else None
    with _output_to(log_path), warnings.catch_warnings(), _step_processes(runner):
        # Steps run in this interpreter on purpose; kfp warns because their spec names a container image.
        warnings.filterwarnings("ignore", message=".*custom or non-Python base image.*")
        try:
            pipeline(**full_arguments)
        except RuntimeError as exc:
            return LocalRun(request_id, succeeded=False, error=str(exc), log_path=log_path)
    return LocalRun(request_id, succeeded=True, error=None, log_path=log_path)


def _step_processes(runner: Runner) -> contextlib.AbstractContextManager[object]:
    if runner is not Runner.FORKED:
        return contextlib.nullcontext()
    from pipelines.forked_steps import forked_steps

    return forked_steps()


def _init_runner(settings: ProjectSettings, runner: Runner) -> None:
    # kfp (and the Kubernetes client it imports) costs seconds; only a command that runs a pipeline pays.
    from kfp import local

    if runner is not Runner.DOCKER:
        settings.pipeline_root.mkdir(parents=True, exist_ok=True)
        # The steps inherit this process's environment. TensorFlow's many threads each get a glibc malloc
        # arena (up to 8 per core) that keeps freed memory; two arenas cut a 12-month training step's
        # peak from 1.09 to 1.00 GB resident. A value the user set is kept.
        os.environ.setdefault(MALLOC_ARENAS_VARIABLE, MALLOC_ARENAS)
        local.init(
            runner=local.SubprocessRunner(use_venv=False),
            pipeline_root=str(settings.pipeline_root),
            raise_on_error=True,
        )
        return
    if not settings.metadata_uri.startswith(f"sqlite:///{settings.state_dir}/"):
        raise ConfigError(
            "the docker runner mounts only the state folder into the steps; "
            f"the lineage store {settings.metadata_uri} must be a SQLite file inside {settings.state_dir}"
        )
    _require_docker()
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    _open_to_every_user(settings.state_dir)
    local.init(runner=local.DockerRunner(), pipeline_root=str(settings.state_dir), raise_on_error=True)


def _require_docker() -> None:
    import docker

    try:
        docker.from_env().ping()
    except docker.errors.DockerException as exc:
        raise ConfigError(f"the docker runner needs a running Docker daemon (make docker-up): {exc}") from exc


def _open_to_every_user(state_dir: Path) -> None:
    """Lets the steps' unprivileged user write what this process already made: the lineage store, the
    registry lock, folders of earlier runs (``mlops run`` records its trigger before any step starts)."""
    for path in (state_dir, *state_dir.rglob("*")):
        if path.is_symlink() or path.stat().st_uid != os.getuid():
            continue
        path.chmod(0o777 if path.is_dir() else 0o666)


@contextlib.contextmanager
def _output_to(log_path: Path | None) -> Iterator[None]:
    """Sends this process's and its children's stdout/stderr to ``log_path`` (file descriptors 1 and 2)."""
    if log_path is None:
        yield
        return
    log_path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with log_path.open("ab") as log, open(log.fileno(), "w", closefd=False) as text:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            # kfp.local prints its steps' output through Python's sys.stdout, which need not be fd 1.
            with contextlib.redirect_stdout(text), contextlib.redirect_stderr(text):
                yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])
