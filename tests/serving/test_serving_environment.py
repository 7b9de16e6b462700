"""The serving environment holds seldon-core 1.17.1 beside TensorFlow, and nothing of the pipeline set."""

from __future__ import annotations

import importlib
from importlib.metadata import version

import pytest


def test_pinned_versions() -> None:
    assert version("seldon-core") == "1.17.1"
    assert version("tensorflow").startswith("2.16.")
    # seldon-core 1.17 generates its gRPC code for protobuf 3; 4.x breaks it.
    assert version("protobuf").startswith("3.20.")
    assert int(version("setuptools").split(".")[0]) < 81


@pytest.mark.parametrize("module", ["seldon_core", "seldon_core.microservice", "tensorflow", "pkg_resources"])
def test_imports(module: str) -> None:
    importlib.import_module(module)


@pytest.mark.parametrize("module", ["kfp", "tensorflow_data_validation", "ml_metadata"])
def test_pipeline_only_packages_are_absent(module: str) -> None:
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module(module)
