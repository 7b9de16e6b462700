"""A CronJob's schedule fires (controller-manager's cronjob controller) and its Job runs to completion."""

from __future__ import annotations

import pytest
from cluster_helpers import pod, wait_until
from kubernetes import client

pytestmark = pytest.mark.cluster


def test_a_cronjob_starts_a_job_that_completes(
    api: client.ApiClient, core: client.CoreV1Api, namespace: str, test_image: str
) -> None:
    template = pod("tick", test_image, ["python3", "-c", "print('the cron job ran')"])
    batch = client.BatchV1Api(api)
    batch.create_namespaced_cron_job(
        namespace,
        client.V1CronJob(
            metadata=client.V1ObjectMeta(name="tick"),
            spec=client.V1CronJobSpec(
                schedule="* * * * *",
                concurrency_policy="Forbid",
                job_template=client.V1JobTemplateSpec(
                    spec=client.V1JobSpec(
                        backoff_limit=0,
                        template=client.V1PodTemplateSpec(metadata=template.metadata, spec=template.spec),
                    )
                ),
            ),
        ),
    )

    def succeeded_job() -> str | None:
        jobs = batch.list_namespaced_job(namespace).items
        owned = [j for j in jobs if any(o.name == "tick" for o in j.metadata.owner_references or [])]
        return next((j.metadata.name for j in owned if (j.status.succeeded or 0) >= 1), None)

    # The schedule fires at the next full minute: at most 60 s, then the pod's start and run.
    job = wait_until("a Job of the CronJob succeeded", succeeded_job, timeout=150, every=2)
    pods = core.list_namespaced_pod(namespace, label_selector=f"job-name={job}").items
    assert len(pods) == 1, [p.metadata.name for p in pods]
    assert core.read_namespaced_pod_log(pods[0].metadata.name, namespace).strip() == "the cron job ran"
