"""A PVC on the default StorageClass binds and a pod writes to it; a ServiceAccount may do exactly what
its Role grants."""

from __future__ import annotations

import os
import subprocess

import pytest
from cluster_helpers import kubectl, pod, wait_finished, wait_until
from kubernetes import client

pytestmark = pytest.mark.cluster


def test_a_claim_on_the_default_storage_class_binds_and_a_pod_writes_to_it(
    api: client.ApiClient, core: client.CoreV1Api, namespace: str, test_image: str
) -> None:
    classes = client.StorageV1Api(api).list_storage_class().items
    defaults = [
        c.metadata.name
        for c in classes
        if (c.metadata.annotations or {}).get("storageclass.kubernetes.io/is-default-class") == "true"
    ]
    assert len(defaults) == 1, defaults
    core.create_namespaced_persistent_volume_claim(
        namespace,
        client.V1PersistentVolumeClaim(
            metadata=client.V1ObjectMeta(name="data"),
            spec=client.V1PersistentVolumeClaimSpec(
                access_modes=["ReadWriteOnce"],
                resources=client.V1VolumeResourceRequirements(requests={"storage": "16Mi"}),
            ),
        ),
    )
    wait_until(
        "the claim is Bound",
        lambda: core.read_namespaced_persistent_volume_claim("data", namespace).status.phase == "Bound",
        60,
    )
    claim = core.read_namespaced_persistent_volume_claim("data", namespace)
    assert claim.spec.storage_class_name == defaults[0]
    script = "echo written > /data/file && cat /data/file"
    core.create_namespaced_pod(
        namespace,
        pod(
            "writer",
            test_image,
            ["sh", "-c", script],
            volumes=[
                client.V1Volume(
                    name="data",
                    persistent_volume_claim=client.V1PersistentVolumeClaimVolumeSource(claim_name="data"),
                )
            ],
            mounts=[client.V1VolumeMount(name="data", mount_path="/data")],
        ),
    )
    assert wait_finished(core, namespace, "writer").strip() == "written"


ROLE = """
apiVersion: v1
kind: ServiceAccount
metadata: {name: reader}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: pod-reader}
rules:
- apiGroups: [""]
  resources: [pods, pods/log]
  verbs: [get, list, watch]
- apiGroups: [""]
  resources: [configmaps]
  resourceNames: [settings]
  verbs: [get]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: reader-reads-pods}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: pod-reader}
subjects: [{kind: ServiceAccount, name: reader}]
"""

# (verb, resource, whether the Role allows it)
EXPECTED = [
    ("get", "pods", True),
    ("list", "pods", True),
    ("watch", "pods", True),
    ("get", "pods/log", True),
    ("get", "configmaps/settings", True),
    ("get", "configmaps/other", False),
    ("list", "configmaps", False),
    ("create", "pods", False),
    ("delete", "pods", False),
    ("create", "pods/exec", False),
    ("get", "secrets", False),
    ("list", "nodes", False),
]


@pytest.fixture(scope="module")
def reader(kubeconfig: str, namespace: str) -> str:
    kubectl(kubeconfig, "-n", namespace, "apply", "-f", "-", input=ROLE)
    return f"system:serviceaccount:{namespace}:reader"


@pytest.mark.parametrize(("verb", "resource", "allowed"), EXPECTED)
def test_a_service_account_may_do_exactly_what_its_role_grants(
    kubeconfig: str, namespace: str, reader: str, verb: str, resource: str, allowed: bool
) -> None:
    answer = kubectl(
        kubeconfig, "-n", namespace, "auth", "can-i", verb, resource, "--as", reader, check=False
    )
    assert answer.stdout.strip() == ("yes" if allowed else "no"), (answer.stdout, answer.stderr)


def test_the_service_account_token_is_held_to_the_role(
    api: client.ApiClient, kubeconfig: str, namespace: str, reader: str
) -> None:
    token = kubectl(
        kubeconfig, "-n", namespace, "create", "token", "reader", "--duration", "10m"
    ).stdout.strip()
    # Only the token authenticates: an empty kubeconfig, so no client certificate of the admin's is sent.
    as_reader = [
        "kubectl",
        "--kubeconfig",
        os.devnull,
        "--server",
        str(api.configuration.host),
        "--certificate-authority",
        str(api.configuration.ssl_ca_cert),
        "--token",
        token,
        "-n",
        namespace,
    ]
    listed = subprocess.run([*as_reader, "get", "pods"], capture_output=True, text=True, timeout=60)
    assert listed.returncode == 0, listed.stderr
    refused = subprocess.run([*as_reader, "get", "secrets"], capture_output=True, text=True, timeout=60)
    assert refused.returncode != 0 and "forbidden" in refused.stderr, refused.stderr
    assert reader in refused.stderr, refused.stderr
