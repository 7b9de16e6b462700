"""Fixtures for the smoke tests of the single-node cluster that ``make cluster-up`` starts.

The tests talk to the cluster named by ``KUBECONFIG`` (``cluster/cluster.sh env`` prints it) and run their
pods from ``CLUSTER_TEST_IMAGE``, an image pushed to the loopback registry and named by digest
(``make cluster-test`` sets both). When either is missing or the API server does not answer, every test
fails with the command to run: asking for ``-m cluster`` without a cluster is an error, not a skip.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client, config

START_HINT = "start it with `make cluster-up`, then run `make cluster-test`"


def _fail_without_cluster(reason: str) -> None:
    pytest.fail(f"no cluster for the `cluster` tests: {reason}; {START_HINT}", pytrace=False)


@pytest.fixture(scope="session")
def kubeconfig() -> str:
    path = os.environ.get("KUBECONFIG", "")
    if not path or not Path(path).is_file():
        _fail_without_cluster(f"KUBECONFIG is {path or 'unset'}")
    return path


@pytest.fixture(scope="session")
def api(kubeconfig: str) -> client.ApiClient:
    config.load_kube_config(config_file=kubeconfig)
    api_client = client.ApiClient()
    try:
        client.VersionApi(api_client).get_code(_request_timeout=10)
    except Exception as exc:  # any failure to reach the API server means there is no cluster
        _fail_without_cluster(f"the API server does not answer ({exc.__class__.__name__}: {exc})")
    return api_client


@pytest.fixture(scope="session")
def core(api: client.ApiClient) -> client.CoreV1Api:
    return client.CoreV1Api(api)


@pytest.fixture(scope="session")
def test_image() -> str:
    image = os.environ.get("CLUSTER_TEST_IMAGE", "")
    if "@sha256:" not in image:
        _fail_without_cluster(
            "CLUSTER_TEST_IMAGE must name an image in the local registry by digest "
            f"(got {image or 'nothing'})"
        )
    return image


@pytest.fixture(scope="module")
def namespace(core: client.CoreV1Api) -> Iterator[str]:
    name = f"smoke-{uuid.uuid4().hex[:8]}"
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    yield name
    core.delete_namespace(name)
