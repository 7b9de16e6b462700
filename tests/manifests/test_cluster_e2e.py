"""End to end on a real cluster: `make deploy`, the first run succeeds, lineage lands in the cluster's
store, the feature store is ready, and the scheduled run's CronJob starts a run too.

Opt-in (it builds images, creates or uses a cluster and takes 20-40 minutes):

    # needs Docker, kind (or a current kind/minikube context), kubectl 1.32 and Helm 3
    .venv/bin/pytest -m cluster tests/manifests/test_cluster_e2e.py

With no current kube context, `make deploy` creates the kind cluster `flights-mlops` with a registry on
127.0.0.1:5000; `make undeploy` removes both afterwards. CI runs it on main (.github/workflows/ci.yml).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest
from manifest_support import PROJECT

pytestmark = pytest.mark.cluster

RUN_WAIT_SECONDS = 3600
LAST_RUN = PROJECT / "build" / "deploy" / "last-run.json"


def tool(name: str, how: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: {how}")
    return found


def kubectl(*args: str, timeout: int = 120) -> str:
    result = subprocess.run(["kubectl", *args], capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"kubectl {' '.join(args)}: {result.stderr}"
    return result.stdout


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def overlay_env(name: str) -> dict[str, str]:
    path = PROJECT / "manifests" / "overlays" / "kind" / "secrets" / name
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)


@pytest.fixture(scope="module")
def deployed() -> Iterator[dict[str, str]]:
    """The outcome of `make deploy` following its first run to the end."""
    for name, how in [
        ("docker", "install Docker"),
        ("kubectl", "install kubectl 1.32"),
        ("helm", "install Helm 3"),
        ("kind", "install kind v0.27.0"),
    ]:
        tool(name, how)
    result = subprocess.run(
        ["make", "deploy", f"RUN_WAIT={RUN_WAIT_SECONDS}"], cwd=PROJECT, timeout=3 * 3600, text=True
    )
    assert result.returncode == 0, "make deploy failed: its output above names the step and what to do"
    yield json.loads(LAST_RUN.read_text())


def test_the_first_run_succeeds(deployed: dict[str, str]) -> None:
    assert deployed["state"] == "SUCCEEDED", deployed


def test_the_platform_is_up_with_images_pinned_by_digest(deployed: dict[str, str]) -> None:
    kubectl(
        "-n",
        "flights-mlops",
        "wait",
        "--for=condition=Available",
        "deployment/metadata-mysql",
        "--timeout=60s",
    )
    image = kubectl(
        "-n",
        "flights-mlops",
        "get",
        "cronjob/continuous-training",
        "-o",
        "jsonpath={.spec.jobTemplate.spec.template.spec.containers[0].image}",
    )
    assert "@sha256:" in image


@pytest.fixture
def store_uri() -> Iterator[str]:
    """The cluster's metadata store reached from here through a port-forward."""
    port = free_port()
    forward = subprocess.Popen(
        ["kubectl", "-n", "flights-mlops", "port-forward", "svc/metadata-mysql", f"{port}:3306"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.5)
        store = overlay_env("metadata-store.env")
        yield f"mysql://{store['MYSQL_USER']}:{store['MYSQL_PASSWORD']}@127.0.0.1:{port}/{store['MYSQL_DATABASE']}"
    finally:
        forward.terminate()
        forward.wait(timeout=10)


def test_the_run_recorded_its_lineage_and_registered_a_version(
    deployed: dict[str, str], store_uri: str
) -> None:
    env = {**os.environ, "MLOPS_METADATA_URI": store_uri}
    mlops = str(PROJECT / ".venv" / "bin" / "mlops")
    runs = json.loads(
        subprocess.run(
            [mlops, "runs", "list", "--json"], env=env, capture_output=True, text=True, check=True
        ).stdout
    )
    assert runs, "no run in the cluster's lineage store"
    models = subprocess.run(
        [mlops, "models", "list", "--json"], env=env, capture_output=True, text=True, check=True
    )
    assert json.loads(models.stdout), "the run registered no model version"


def test_the_feature_store_is_ready(deployed: dict[str, str]) -> None:
    # Readiness: Redis answers PING with its password, the feature server its /health.
    kubectl(
        "-n",
        "flights-mlops",
        "wait",
        "--for=condition=Available",
        "deployment/feature-redis",
        "deployment/feature-server",
        "--timeout=300s",
        timeout=360,
    )


def test_the_scheduled_run_starts_a_run(deployed: dict[str, str]) -> None:
    job = f"scheduled-e2e-{int(time.time())}"
    kubectl("-n", "flights-mlops", "create", "job", job, "--from=cronjob/continuous-training")
    kubectl(
        "-n", "flights-mlops", "wait", "--for=condition=complete", f"job/{job}", "--timeout=600s", timeout=700
    )
    # The log holds kfp's links (stderr) beside the command's JSON (stdout).
    log = kubectl("-n", "flights-mlops", "logs", f"job/{job}")
    assert '"state": "PENDING"' in log and '"run_id"' in log, log
