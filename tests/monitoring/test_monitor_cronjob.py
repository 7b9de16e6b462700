"""The monitor CronJob as rendered from the kustomize base: its command is one acting `mlops monitor check`
that the CLI accepts, aimed at the cluster's Kubeflow Pipelines, with the state folder on the
serving-records volume. (Rendering and argument parsing only; the CronJob is not run here.)"""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

import pytest
import yaml
from monitor_support import PROJECT_ROOT

from cli import monitor_commands
from cli.main import build_parser


def render(folder: str = "base") -> list[dict[str, Any]]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.fail(
            "kubectl is not installed: install kubectl 1.32 (it bundles kustomize 5.5) to render the manifests"
        )
    out = subprocess.run(
        [kubectl, "kustomize", str(PROJECT_ROOT / "manifests" / folder)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc]


def test_the_monitor_cronjob_runs_one_acting_check_against_the_cluster() -> None:
    objects = render()
    cronjob = next(o for o in objects if o["kind"] == "CronJob" and o["metadata"]["name"] == "model-monitor")
    pod = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    [container] = pod["containers"]
    settings: dict[str, str] = {}
    for ref in container["envFrom"]:
        name = ref["configMapRef"]["name"]
        settings |= next(
            o for o in objects if o["kind"] == "ConfigMap" and o["metadata"]["name"].startswith(name)
        )["data"]
    args = [arg.replace("$(", "{").replace(")", "}").format(**settings) for arg in container["args"]]

    parsed = build_parser().parse_args([*container["command"][1:], *args])

    assert container["command"][0] == "mlops"
    assert parsed.handler is monitor_commands.monitor_check
    assert parsed.act and parsed.promotion == "blessed"
    assert parsed.kfp_host == "http://ml-pipeline.kubeflow.svc.cluster.local:8888"
    assert parsed.pushgateway.startswith("http://")
    state = {e["name"]: e.get("value") for e in container["env"]}["MLOPS_STATE_DIR"]
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    assert mounts[state] == "serving-records"
    for folder in (parsed.requests, parsed.feedback, parsed.inbox, parsed.reports):
        assert str(folder).startswith(state)
    claim = next(v for v in pod["volumes"] if v["name"] == "serving-records")["persistentVolumeClaim"][
        "claimName"
    ]
    assert any(o["kind"] == "PersistentVolumeClaim" and o["metadata"]["name"] == claim for o in objects)


def test_the_alert_rules_and_the_dashboard_ship_as_config_maps() -> None:
    objects = render("monitoring")
    assert {o["metadata"]["namespace"] for o in objects} == {"monitoring"}
    maps = {o["metadata"]["name"].rsplit("-", 1)[0]: o for o in objects if o["kind"] == "ConfigMap"}
    rules = yaml.safe_load(maps["model-health-alert-rules"]["data"]["alert-rules.yaml"])
    assert rules["groups"][0]["rules"]
    dashboard = maps["model-health-dashboard"]
    assert dashboard["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert "model-health-dashboard.json" in dashboard["data"]
