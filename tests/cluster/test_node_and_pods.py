"""The node is Ready and runs a pod whose image comes from the loopback registry, pulled by digest."""

from __future__ import annotations

import pytest
from cluster_helpers import pod, wait_finished
from kubernetes import client

pytestmark = pytest.mark.cluster


def test_the_single_node_is_ready(core: client.CoreV1Api) -> None:
    nodes = core.list_node().items
    assert len(nodes) == 1, [n.metadata.name for n in nodes]
    conditions = {c.type: c.status for c in nodes[0].status.conditions}
    assert conditions["Ready"] == "True", conditions
    assert nodes[0].spec.pod_cidr, "the controller-manager gave the node no pod CIDR"


def test_system_pods_run(core: client.CoreV1Api) -> None:
    dns = core.list_namespaced_pod("kube-system", label_selector="k8s-app=kube-dns").items
    assert [p.status.phase for p in dns] == ["Running"]


def test_a_pod_from_the_local_registry_runs_and_its_log_is_read(
    core: client.CoreV1Api, namespace: str, test_image: str
) -> None:
    core.create_namespaced_pod(
        namespace,
        pod(
            "hello", test_image, ["python3", "-c", "print('hello from', __import__('sys').version_info[:2])"]
        ),
    )
    log = wait_finished(core, namespace, "hello")
    assert log.startswith("hello from (3,"), log
    status = core.read_namespaced_pod("hello", namespace).status.container_statuses[0]
    # containerd pulled exactly the pushed image: the digest the test named is the one that ran.
    assert status.image_id.endswith(test_image.split("@", 1)[1]), (status.image_id, test_image)
