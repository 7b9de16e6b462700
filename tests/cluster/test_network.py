"""Pods find a Service by its DNS name (CoreDNS), reach it through its ClusterIP (kube-proxy), and
NetworkPolicies decide who gets through (kube-router's policy controller)."""

from __future__ import annotations

import pytest
from cluster_helpers import kubectl, pod, wait_finished, wait_ready, wait_until
from kubernetes import client

pytestmark = pytest.mark.cluster

SERVER_LABELS = {"app": "web"}
# Prints the address the name resolved to, then the HTTP status; exits non-zero when unreachable. Tries
# again for argv[3] seconds: kube-proxy programs a new Service's endpoints a moment after the pod is Ready.
FETCH = """
import socket, sys, time, urllib.request
name, timeout, deadline = sys.argv[1], float(sys.argv[2]), time.monotonic() + float(sys.argv[3])
print(socket.gethostbyname(name))
while True:
    try:
        print(urllib.request.urlopen(f"http://{name}/", timeout=timeout).status)
        break
    except OSError:
        if time.monotonic() > deadline:
            raise
        time.sleep(0.5)
"""


@pytest.fixture(scope="module")
def web(core: client.CoreV1Api, namespace: str, test_image: str) -> str:
    """A web server pod behind the Service ``web`` (port 80); returns the Service's ClusterIP."""
    server = pod(
        "web",
        test_image,
        ["python3", "-m", "http.server", "8080", "--directory", "/etc"],
        labels=SERVER_LABELS,
        restart="Always",
        port=8080,
    )
    core.create_namespaced_pod(namespace, server)
    service = core.create_namespaced_service(
        namespace,
        client.V1Service(
            metadata=client.V1ObjectMeta(name="web"),
            spec=client.V1ServiceSpec(
                selector=SERVER_LABELS,
                ports=[client.V1ServicePort(port=80, target_port=8080)],
            ),
        ),
    )
    wait_ready(core, namespace, "web")
    return str(service.spec.cluster_ip)


def test_a_pod_resolves_a_service_by_name_and_reaches_it_over_its_cluster_ip(
    core: client.CoreV1Api, namespace: str, test_image: str, web: str
) -> None:
    name = f"web.{namespace}.svc.cluster.local"
    core.create_namespaced_pod(namespace, pod("fetch", test_image, ["python3", "-c", FETCH, name, "5", "30"]))
    resolved, status = wait_finished(core, namespace, "fetch").split()
    assert resolved == web, f"{name} resolved to {resolved}, the Service's ClusterIP is {web}"
    assert status == "200"


@pytest.fixture(scope="module")
def clients(core: client.CoreV1Api, namespace: str, test_image: str, web: str) -> dict[str, str]:
    """Two idle client pods, one carrying the label the allow policy names; probes run in them by exec."""
    names = {"plain": "client-plain", "allowed": "client-allowed"}
    for kind, name in names.items():
        labels = {"role": "client", **({"access": "allowed"} if kind == "allowed" else {})}
        core.create_namespaced_pod(
            namespace, pod(name, test_image, ["sleep", "infinity"], labels=labels, restart="Always")
        )
    for name in names.values():
        wait_ready(core, namespace, name)
    return names


def reaches_web(kubeconfig: str, namespace: str, client_pod: str) -> bool:
    """Whether the client pod gets an answer from the Service ``web`` (by DNS name) within 3 seconds."""
    probe = kubectl(
        kubeconfig,
        "-n",
        namespace,
        "exec",
        client_pod,
        "--",
        "python3",
        "-c",
        FETCH,
        "web",
        "3",
        "0",
        check=False,
    )
    return probe.returncode == 0 and probe.stdout.split()[-1:] == ["200"]


def apply(kubeconfig: str, namespace: str, manifest: str) -> None:
    kubectl(kubeconfig, "-n", namespace, "apply", "-f", "-", input=manifest)


DENY_ALL_INGRESS = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny-ingress}
spec:
  podSelector: {}
  policyTypes: [Ingress]
"""

ALLOW_LABELLED = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-from-allowed}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Ingress]
  ingress:
  - from: [{podSelector: {matchLabels: {access: allowed}}}]
    ports: [{port: 8080, protocol: TCP}]
"""


def test_network_policies_block_and_allow(kubeconfig: str, namespace: str, clients: dict[str, str]) -> None:
    plain, allowed = clients["plain"], clients["allowed"]
    # Before any policy both clients get through.
    wait_until("both clients reach web", lambda: reaches_web(kubeconfig, namespace, plain), 60)
    assert reaches_web(kubeconfig, namespace, allowed)

    apply(kubeconfig, namespace, DENY_ALL_INGRESS)
    wait_until(
        "default-deny blocks the plain client", lambda: not reaches_web(kubeconfig, namespace, plain), 60
    )
    assert not reaches_web(kubeconfig, namespace, allowed), "default-deny let the labelled client through"

    apply(kubeconfig, namespace, ALLOW_LABELLED)
    wait_until(
        "the allow rule lets the labelled client through",
        lambda: reaches_web(kubeconfig, namespace, allowed),
        60,
    )
    assert not reaches_web(kubeconfig, namespace, plain), "the allow rule let the unlabelled client through"
