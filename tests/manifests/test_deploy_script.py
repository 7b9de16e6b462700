"""manifests/deploy.sh without a cluster: it pins images by digest, and each refusal says what to do."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from manifest_support import MANIFESTS, SCHEMAS, SchemaChecker, containers, copy_with_secrets, kubectl

SCRIPT = MANIFESTS / "deploy.sh"
BASH = shutil.which("bash") or "/bin/bash"
PIPELINE_PIN = "registry.example:5000/team/flights-mlops-pipeline@sha256:" + "1" * 64
SERVING_PIN = "registry.example:5000/team/flights-mlops-serving@sha256:" + "2" * 64
FEATURES_PIN = "registry.example:5000/team/flights-mlops-features@sha256:" + "3" * 64


def run(args: list[str], env: dict[str, str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [BASH, str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=120, cwd=cwd
    )


@pytest.fixture
def render_env(tmp_path: Path) -> dict[str, str]:
    images = tmp_path / "images.json"
    images.write_text(
        json.dumps(
            {
                "pipeline": {"pinned": PIPELINE_PIN},
                "serving": {"pinned": SERVING_PIN},
                "features": {"pinned": FEATURES_PIN},
            }
        )
    )
    kubectl()
    return {
        **os.environ,
        "MANIFESTS": str(copy_with_secrets(tmp_path / "manifests")),
        "WORK": str(tmp_path / "work"),
        "IMAGES_JSON": str(images),
    }


def test_the_script_parses_and_explains_itself() -> None:
    subprocess.run([BASH, "-n", str(SCRIPT)], check=True)
    usage = run([], dict(os.environ))
    assert usage.returncode == 2
    for word in ("deploy", "undeploy", "render", "OVERLAY", "REGISTRY", "SKIP_BUILD"):
        assert word in usage.stdout


@pytest.mark.parametrize("overlay", ["kind", "production"])
def test_render_pins_our_images_by_the_pushed_digests(render_env: dict[str, str], overlay: str) -> None:
    result = run(["render", overlay], render_env)
    assert result.returncode == 0, result.stderr
    objects: list[dict[str, Any]] = [doc for doc in yaml.safe_load_all(result.stdout) if doc]
    images = {container["image"] for obj in objects for container in containers(obj)}
    assert images == {PIPELINE_PIN, FEATURES_PIN, "mysql:8.0.40", "redis:7.2.11-alpine"}
    checker = SchemaChecker(SCHEMAS / "kubernetes-v1.32")
    assert not [v for obj in objects for v in checker.violations(obj)]


def test_render_refuses_incomplete_digests(render_env: dict[str, str], tmp_path: Path) -> None:
    Path(render_env["IMAGES_JSON"]).write_text(json.dumps({"pipeline": {"pinned": PIPELINE_PIN}}))
    result = run(["render", "kind"], render_env)
    assert result.returncode == 1
    assert "no digest for the serving image" in result.stderr
    assert "what to do: run make push" in result.stderr


def test_an_unknown_overlay_is_refused(render_env: dict[str, str]) -> None:
    result = run(["render", "qa"], render_env)
    assert result.returncode == 1
    assert "no overlay named 'qa'" in result.stderr and "OVERLAY=kind" in result.stderr


def test_deploy_names_a_missing_tool(tmp_path: Path) -> None:
    # A PATH with the basics and kubectl but no helm: the first step stops and says what to install.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("dirname", "basename", "kubectl"):
        found = shutil.which(tool)
        assert found, f"{tool} is needed for this test"
        (bin_dir / tool).symlink_to(found)
    result = run(["deploy"], {"PATH": str(bin_dir), "HOME": str(tmp_path)})
    assert result.returncode == 1
    assert "helm is not installed" in result.stderr
    assert "what to do: install Helm" in result.stderr
