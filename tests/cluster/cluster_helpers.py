"""Helpers of the cluster smoke tests: kubectl, polling, and pods built from the test image."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException


def kubectl(
    kubeconfig: str, *args: str, check: bool = True, input: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Runs kubectl against the test cluster and returns the finished process (stdin from ``input``).

    With ``check`` a non-zero exit fails the test, showing kubectl's error.
    """
    done = subprocess.run(
        ["kubectl", "--kubeconfig", kubeconfig, *args],
        input=input,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if check and done.returncode != 0:
        pytest.fail(f"kubectl {' '.join(args)} failed: {done.stderr.strip()}")
    return done


def wait_until(what: str, probe: Callable[[], Any], timeout: float = 120, every: float = 1) -> Any:
    """Polls ``probe`` until it returns something truthy, which is returned; fails after ``timeout``."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(every)
    pytest.fail(f"{what}: not reached in {timeout:.0f}s (last seen: {last!r})")


def pod(
    name: str,
    image: str,
    command: list[str],
    *,
    labels: dict[str, str] | None = None,
    restart: str = "Never",
    volumes: list[client.V1Volume] | None = None,
    mounts: list[client.V1VolumeMount] | None = None,
    port: int | None = None,
) -> client.V1Pod:
    """A one-container pod running ``command`` from ``image``."""
    container = client.V1Container(
        name="main",
        image=image,
        command=command,
        volume_mounts=mounts,
        ports=[client.V1ContainerPort(container_port=port)] if port else None,
        readiness_probe=(
            client.V1Probe(tcp_socket=client.V1TCPSocketAction(port=port), period_seconds=1) if port else None
        ),
        resources=client.V1ResourceRequirements(
            requests={"cpu": "10m", "memory": "32Mi"}, limits={"memory": "256Mi"}
        ),
    )
    return client.V1Pod(
        metadata=client.V1ObjectMeta(name=name, labels=labels or {}),
        spec=client.V1PodSpec(
            containers=[container],
            restart_policy=restart,
            volumes=volumes,
            termination_grace_period_seconds=1,
            enable_service_links=False,
        ),
    )


def pod_phase(core: client.CoreV1Api, namespace: str, name: str) -> str:
    try:
        return str(core.read_namespaced_pod(name, namespace).status.phase)
    except ApiException as exc:
        if exc.status == 404:
            return "Absent"
        raise


def wait_finished(core: client.CoreV1Api, namespace: str, name: str, timeout: float = 180) -> str:
    """Waits for a pod to succeed and returns its log; fails with the log if it failed."""
    phase = wait_until(
        f"pod {namespace}/{name} finished",
        lambda: (p := pod_phase(core, namespace, name)) in ("Succeeded", "Failed") and p,
        timeout,
    )
    log = str(core.read_namespaced_pod_log(name, namespace))
    assert phase == "Succeeded", f"pod {name} {phase}:\n{log}"
    return log


def wait_ready(core: client.CoreV1Api, namespace: str, name: str, timeout: float = 180) -> client.V1Pod:
    def ready() -> client.V1Pod | None:
        p = core.read_namespaced_pod(name, namespace)
        conditions = p.status.conditions or []
        return p if any(c.type == "Ready" and c.status == "True" for c in conditions) else None

    result: client.V1Pod = wait_until(f"pod {namespace}/{name} Ready", ready, timeout)
    return result
