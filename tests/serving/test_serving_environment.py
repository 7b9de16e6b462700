"""The serving environment holds seldon-core 1.17.1 and the TFLite runtime, no TensorFlow, and nothing of
the pipeline set."""

from __future__ import annotations

import importlib
import subprocess
import sys
import tomllib
from importlib.metadata import version

import pytest

from .conftest import PROJECT_ROOT


def test_pinned_versions() -> None:
    assert version("seldon-core") == "1.17.1"
    assert version("ai-edge-litert") == "2.3.0"
    # seldon-core 1.17 generates its gRPC code for protobuf 3; 4.x breaks it.
    assert version("protobuf").startswith("3.20.")
    assert int(version("setuptools").split(".")[0]) < 81


@pytest.mark.parametrize(
    "module", ["seldon_core", "seldon_core.microservice", "ai_edge_litert", "pkg_resources"]
)
def test_imports(module: str) -> None:
    importlib.import_module(module)


@pytest.mark.parametrize(
    "module", ["kfp", "tensorflow_data_validation", "ml_metadata", "tensorflow", "keras"]
)
def test_pipeline_only_packages_are_absent(module: str) -> None:
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module(module)


def _closure(lock: dict, roots: set[str]) -> set[str]:
    dependencies: dict[str, set[str]] = {}
    for package in lock["package"]:
        names = {item["name"] for item in package.get("dependencies", [])}
        dependencies.setdefault(package["name"], set()).update(names)
    seen, pending = set(), list(roots)
    while pending:
        name = pending.pop()
        if name not in seen:
            seen.add(name)
            pending.extend(dependencies.get(name, ()))
    return seen


def test_the_locked_serving_set_pulls_in_no_tensorflow() -> None:
    # What the images install (`uv sync --extra serving`), read from the lock rather than this environment.
    lock = tomllib.loads((PROJECT_ROOT / "uv.lock").read_text(encoding="utf-8"))
    (project,) = [package for package in lock["package"] if package["name"] == "flights-mlops"]
    extras = project["optional-dependencies"]
    serving = _closure(lock, {item["name"] for item in extras["serving"]})
    assert {"seldon-core", "ai-edge-litert", "protobuf"} <= serving
    assert serving & {"tensorflow", "tensorflow-cpu", "keras", "tf-keras"} == set()
    assert "tensorflow" in _closure(lock, {item["name"] for item in extras["savedmodel"]})


def test_the_seldon_microservice_starts_without_tensorflow() -> None:
    # Seldon imports TensorFlow into every worker whenever it is installed; here it cannot be.
    script = (
        "import sys, seldon_core.microservice, components.serving.model; print('tensorflow' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=PROJECT_ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "False"
