"""Starts retraining runs in Kubeflow Pipelines: the launcher a cluster's monitor (the CronJob's
``mlops monitor check --kfp-host``) hands its watcher, in place of the local one that runs ``kfp.local``."""

from __future__ import annotations

import contextlib
import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from components.triggers.launch import RetrainRequest, RunOutcome
from components.triggers.lease import Holder, TrainingLease
from contracts.errors import DeploymentError
from pipelines.cluster_runs import latest_version, pipeline_image, read_spec, run_arguments

FINISHED_RUN_STATES = ("SUCCEEDED", "FAILED", "SKIPPED", "CANCELED", "CANCELLED")


def run_finished_probe(client: Any) -> Any:
    """Whether a run has finished, asked of the Kubeflow Pipelines API ``client`` is connected to."""

    def run_finished(run_id: str) -> bool:
        try:
            state = str(client.get_run(run_id).state or "").upper()
        except Exception:  # an unknown or deleted run holds nothing
            return True
        return state in FINISHED_RUN_STATES

    return run_finished


class ClusterLauncher:
    """Starts a run of the compiled pipeline through ``kfp.Client().create_run_from_pipeline_package`` and
    grants the model's training lease to that run.

    Args:
        client: A connected ``kfp.Client``.
        package: The compiled spec; None takes the newest uploaded version's spec from the API.
        lease: The model's training lease.
        metadata_uri: The cluster's lineage store (``mysql://`` or ``grpc://``).
        experiment: The experiment runs go into.
        service_account: The account their pods run as.
    """

    def __init__(
        self,
        client: Any,
        *,
        package: Path | None,
        lease: TrainingLease,
        metadata_uri: str,
        experiment: str,
        service_account: str,
        pipeline_name: str = "continuous-training",
    ) -> None:
        self.client = client
        self.package = package
        self.lease = lease
        self.metadata_uri = metadata_uri
        self.experiment = experiment
        self.service_account = service_account
        self.pipeline_name = pipeline_name

    def start(self, request: RetrainRequest) -> StartedClusterRun:
        with self._package() as (package, code_version):
            arguments = run_arguments(
                metadata_uri=self.metadata_uri,
                code_version=code_version,
                trigger=request.kind.value,
                request_id=request.request_id,
                params={
                    **dict(request.params),
                    **request.window.pipeline_arguments(),
                    "model_name": request.model,
                    "promotion": request.promotion,
                },
            )
            try:
                started = self.client.create_run_from_pipeline_package(
                    str(package),
                    arguments=arguments,
                    run_name=f"{request.kind.value} {request.request_id}",
                    experiment_name=self.experiment,
                    service_account=self.service_account or None,
                )
            except Exception as exc:  # kfp raises its API client's exceptions and plain OSErrors
                raise DeploymentError(
                    f"Kubeflow Pipelines refused the run of {request.request_id}: {exc}"
                ) from exc
        run_id = str(started.run_id)
        self.lease.acquire_for(
            Holder.cluster_run(run_id), request_id=request.request_id, trigger=request.kind.value
        )
        return StartedClusterRun(request, run_id)

    @contextlib.contextmanager
    def _package(self) -> Iterator[tuple[Path, str]]:
        if self.package is not None:
            yield self.package, pipeline_image(read_spec(self.package))
            return
        version = latest_version(self.client, self.pipeline_name)
        try:
            stored = self.client.get_pipeline_version(version.pipeline_id, version.version_id)
        except Exception as exc:
            raise DeploymentError(f"cannot read pipeline version {version.name}: {exc}") from exc
        spec = stored.pipeline_spec or {}
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / f"{self.pipeline_name}.yaml"
            path.write_text(json.dumps(spec), encoding="utf-8")  # JSON is YAML: the client reads either
            yield path, f"{self.pipeline_name}@{version.name}"


class StartedClusterRun:
    """A cluster run: its end is seen by the next tick through the lease (the run's state in the API)."""

    def __init__(self, request: RetrainRequest, run_id: str) -> None:
        self.request = request
        self.run_id = run_id

    def poll(self) -> RunOutcome | None:
        # Never seen ending here: the CronJob's process exits after its tick, and a later tick sees the
        # run finished through its lease (``release_finished_run``).
        return None
