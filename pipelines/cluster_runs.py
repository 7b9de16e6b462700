"""Kubeflow Pipelines in a cluster: upload a compiled spec as a pipeline version, start and follow runs.

The work is split in two: pure functions that decide names and arguments (tested without a cluster), and
a few calls through ``kfp.Client`` whose failures are translated into ``DeploymentError`` naming what to
do next. Only this module talks to the Kubeflow Pipelines API.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from components.images import IMAGE_NAMES, package_version
from components.lineage import SqliteConfig, parse_metadata_uri
from contracts.errors import ConfigError, DeploymentError

HEALTHZ_PATH = "/apis/v2beta1/healthz"
FINISHED_STATES = ("SUCCEEDED", "FAILED", "SKIPPED", "CANCELED")
PORT_FORWARD_HINT = "kubectl -n kubeflow port-forward svc/ml-pipeline 8888:8888"


@dataclass(frozen=True)
class PipelineVersion:
    """A pipeline version stored in Kubeflow Pipelines.

    Attributes:
        pipeline_id: The pipeline's id.
        version_id: The version's id.
        name: The version's display name (``PACKAGE_VERSION-SPEC_HASH``).
    """

    pipeline_id: str
    version_id: str
    name: str


@dataclass(frozen=True)
class StartedRun:
    """A run Kubeflow Pipelines accepted.

    Attributes:
        run_id: The run's id.
        name: The run's display name.
        experiment: The experiment it belongs to.
        version: The pipeline version it runs.
        state: The last state read (``PENDING`` right after the start).
    """

    run_id: str
    name: str
    experiment: str
    version: str
    state: str = "PENDING"


def version_name(package: Path) -> str:
    """Names a compiled spec's version after the package version and the spec's content.

    The same spec (same code, same image digests) always gets the same name, so deploying twice reuses
    the version; any change to the spec, an image digest included, makes a new one.

    Example:
        >>> version_name(Path("build/pipelines/continuous-training.yaml"))  # doctest: +SKIP
        '0.1.0-3f2a9c41d0be'
    """
    try:
        digest = hashlib.sha256(package.read_bytes()).hexdigest()[:12]
    except OSError as exc:
        raise DeploymentError(
            f"cannot read the compiled pipeline {package}: {exc}; run `make compile`"
        ) from exc
    return f"{package_version()}-{digest}"


def pipeline_image(spec: Mapping[str, Any]) -> str:
    """The pipeline dependency set's image a compiled spec runs, as the spec names it.

    Raises:
        DeploymentError: when no executor of the spec uses the pipeline image.
    """
    repository = IMAGE_NAMES["pipeline"]
    executors = spec.get("deploymentSpec", {}).get("executors", {})
    for executor in executors.values():
        image = str(executor.get("container", {}).get("image", ""))
        if image.split("@")[0].rsplit("/", 1)[-1].split(":")[0] == repository:
            return image
    raise DeploymentError(f"the compiled spec runs no {repository} image; recompile it with `make compile`")


def read_spec(package: Path) -> dict[str, Any]:
    """The pipeline spec (first YAML document) of a compiled package."""
    try:
        document = next(yaml.safe_load_all(package.read_text(encoding="utf-8")))
    except (OSError, yaml.YAMLError, StopIteration) as exc:
        raise DeploymentError(
            f"cannot read the compiled pipeline {package}: {exc}; run `make compile`"
        ) from exc
    if not isinstance(document, dict) or "pipelineInfo" not in document:
        raise DeploymentError(f"{package} is not a compiled KFP pipeline spec; run `make compile`")
    return document


def parse_params(pairs: Sequence[str]) -> dict[str, Any]:
    """Parses ``KEY=VALUE`` pipeline arguments; a VALUE that is JSON (``7``, ``[1,2]``) is decoded.

    Raises:
        ConfigError: for a pair without ``=`` or with an empty key.

    Example:
        >>> parse_params(["eval_month=8", "train_months=[2,3]", "trigger=drift"])
        {'eval_month': 8, 'train_months': [2, 3], 'trigger': 'drift'}
    """
    params: dict[str, Any] = {}
    for pair in pairs:
        key, separator, raw = pair.partition("=")
        if not separator or not key.strip():
            raise ConfigError(f"pipeline argument {pair!r} is not KEY=VALUE")
        try:
            params[key.strip()] = json.loads(raw)
        except json.JSONDecodeError:
            params[key.strip()] = raw
    return params


def run_arguments(
    *,
    metadata_uri: str,
    code_version: str,
    trigger: str,
    request_id: str,
    params: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The arguments of a cluster run of the continuous-training pipeline.

    Args:
        metadata_uri: The cluster's lineage store; a SQLite file cannot be shared by pods, so it is refused.
        code_version: What the run's steps execute (the pipeline image's digest reference).
        trigger: Why the run starts (``deploy``, ``schedule``, ...), recorded in lineage.
        request_id: The caller's identifier of the run, recorded on its first steps.
        params: Further pipeline arguments; they cannot override the four above.

    Raises:
        ConfigError: for a SQLite or malformed store URI, or params that repeat a fixed argument.
    """
    store = parse_metadata_uri(metadata_uri)
    if isinstance(store, SqliteConfig):
        raise ConfigError(
            "a cluster run needs a shared lineage store (mysql://... or grpc://...), not a SQLite file: "
            "set MLOPS_METADATA_URI (make deploy takes it from the overlay's generated metadata-store.env)"
        )
    fixed = {
        "metadata_uri": metadata_uri,
        "code_version": code_version,
        "trigger": trigger,
        "request_id": request_id,
    }
    clashes = sorted(set(fixed) & set(params or {}))
    if clashes:
        raise ConfigError(
            f"pipeline arguments {clashes} are set by the command itself; drop them from --param"
        )
    return {**dict(params or {}), **fixed}


def check_reachable(host: str, timeout: float = 5.0) -> None:
    """Fails fast, with the fix, when the Kubeflow Pipelines API does not answer at ``host``.

    ``kfp.Client`` would retry for half a minute and then raise a bare ``TimeoutError``.

    Raises:
        DeploymentError: when nothing answers, or something other than the KFP API does.
    """
    url = host.rstrip("/") + HEALTHZ_PATH
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            body = response.read(65536)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise DeploymentError(
            f"Kubeflow Pipelines does not answer at {host} ({exc}); from a workstation, forward its API "
            f"first ({PORT_FORWARD_HINT}) and pass --host http://127.0.0.1:8888"
        ) from exc
    try:
        json.loads(body)
    except json.JSONDecodeError as exc:
        raise DeploymentError(
            f"{url} answered, but not as the Kubeflow Pipelines API does (not JSON)"
        ) from exc


@contextlib.contextmanager
def _quiet_stdout() -> Iterator[None]:
    # kfp.Client prints links on stdout; this command's stdout is its own (--json must stay parseable).
    with contextlib.redirect_stdout(sys.stderr):
        yield


@contextlib.contextmanager
def _translated(action: str) -> Iterator[None]:
    import kfp_server_api

    try:
        with _quiet_stdout():
            yield
    except kfp_server_api.ApiException as exc:
        reason = (exc.body or exc.reason or "").strip()[:500]
        raise DeploymentError(f"Kubeflow Pipelines refused to {action}: HTTP {exc.status} {reason}") from exc
    except (OSError, ValueError) as exc:
        raise DeploymentError(f"cannot {action}: {exc}") from exc


def connect(host: str) -> Any:
    """A ``kfp.Client`` for ``host`` once its API answers (see ``check_reachable``)."""
    check_reachable(host)
    import kfp

    with _translated(f"connect to {host}"):
        return kfp.Client(host=host)


def _find_version(client: Any, pipeline_id: str, name: str) -> str | None:
    predicate = {"predicates": [{"operation": "EQUALS", "key": "display_name", "stringValue": name}]}
    listed = client.list_pipeline_versions(pipeline_id, page_size=1, filter=json.dumps(predicate))
    versions = listed.pipeline_versions or []
    return str(versions[0].pipeline_version_id) if versions else None


def upload_version(client: Any, package: Path, pipeline_name: str, name: str) -> PipelineVersion:
    """Stores ``package`` as version ``name`` of ``pipeline_name``, creating the pipeline when new.

    A version of that name already there is reused: the name is derived from the spec's content.
    """
    with _translated(f"upload {package} as {pipeline_name} {name}"):
        pipeline_id = client.get_pipeline_id(pipeline_name)
        if pipeline_id is None:
            created = client.upload_pipeline(
                str(package),
                pipeline_name=pipeline_name,
                description="Validate a batch of flights, train, evaluate, bless, register.",
            )
            pipeline_id = str(created.pipeline_id)
        version_id = _find_version(client, pipeline_id, name)
        if version_id is None:
            uploaded = client.upload_pipeline_version(
                str(package), pipeline_version_name=name, pipeline_id=pipeline_id
            )
            version_id = str(uploaded.pipeline_version_id)
    return PipelineVersion(pipeline_id=pipeline_id, version_id=version_id, name=name)


def latest_version(client: Any, pipeline_name: str) -> PipelineVersion:
    """The newest uploaded version of ``pipeline_name``.

    Raises:
        DeploymentError: when the pipeline or any version of it is missing (nothing deployed yet).
    """
    with _translated(f"look up pipeline {pipeline_name}"):
        pipeline_id = client.get_pipeline_id(pipeline_name)
        if pipeline_id is None:
            raise DeploymentError(
                f"no pipeline named {pipeline_name} in Kubeflow Pipelines; upload it first (make deploy)"
            )
        listed = client.list_pipeline_versions(pipeline_id, page_size=1, sort_by="created_at desc")
    versions = listed.pipeline_versions or []
    if not versions:
        raise DeploymentError(f"pipeline {pipeline_name} has no version; upload one (make deploy)")
    newest = versions[0]
    return PipelineVersion(
        pipeline_id=str(pipeline_id),
        version_id=str(newest.pipeline_version_id),
        name=str(newest.display_name),
    )


def start_run(
    client: Any,
    version: PipelineVersion,
    *,
    experiment: str,
    run_name: str,
    arguments: Mapping[str, Any],
    service_account: str,
) -> StartedRun:
    """Starts a run of ``version`` in ``experiment`` (created when missing) as ``service_account``."""
    with _translated(f"start a run of {version.name}"):
        experiment_id = client.create_experiment(name=experiment).experiment_id
        run = client.run_pipeline(
            experiment_id=experiment_id,
            job_name=run_name,
            params=dict(arguments),
            pipeline_id=version.pipeline_id,
            version_id=version.version_id,
            service_account=service_account or None,
        )
    return StartedRun(run_id=str(run.run_id), name=run_name, experiment=experiment, version=version.name)


def wait_for_run(client: Any, run: StartedRun, timeout_seconds: int) -> StartedRun:
    """Follows ``run`` until it finishes and returns it with its final state.

    Raises:
        DeploymentError: when the run does not finish within ``timeout_seconds``.
    """
    with _translated(f"follow run {run.run_id}"):
        try:
            finished = client.wait_for_run_completion(run.run_id, timeout=timeout_seconds, sleep_duration=10)
        except TimeoutError as exc:
            raise DeploymentError(
                f"run {run.run_id} did not finish within {timeout_seconds}s; it goes on in the cluster: "
                "follow it in the dashboard"
            ) from exc
    state = str(finished.state or "UNKNOWN").upper()
    return StartedRun(
        run_id=run.run_id, name=run.name, experiment=run.experiment, version=run.version, state=state
    )
