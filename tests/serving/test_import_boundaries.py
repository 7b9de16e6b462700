"""Import boundaries: the modules the pipeline environment runs use the standard library only, nothing
in the serving package reaches for the pipeline set (kfp, TFDV, ML Metadata, pandas), and the TFLite
path imports no TensorFlow (and loads none: ``savedmodel/test_savedmodel_environment.py``, where it could)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from .conftest import PROJECT_ROOT

PACKAGE = PROJECT_ROOT / "components" / "serving"
STDLIB_ONLY = (
    PROJECT_ROOT / "contracts" / "serving_schema.py",
    PROJECT_ROOT / "components" / "processes.py",
    PACKAGE / "loadtest.py",
)
PROJECT_PURE = {
    "contracts.errors",
    "contracts.data_contract",
    "contracts.serving_schema",
    "contracts.names",
    "components.settings",
}
PIPELINE_ONLY = {"kfp", "tensorflow_data_validation", "ml_metadata", "pandas", "apache_beam", "pyarrow"}
# The TFLite inference path: what it imports must not pull TensorFlow in (at import or at load).
TFLITE_PATH = (
    PACKAGE / "backends.py",
    PACKAGE / "tflite_predictor.py",
    PROJECT_ROOT / "contracts" / "vocabulary.py",
    PROJECT_ROOT / "contracts" / "core_contract.py",
)
TENSORFLOW = {"tensorflow", "keras", "tf_keras"}


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", STDLIB_ONLY, ids=lambda p: p.name)
def test_pipeline_side_modules_need_only_the_standard_library(path: Path) -> None:
    foreign = {
        module
        for module in _imports(path)
        if module.split(".")[0] not in sys.stdlib_module_names and module not in PROJECT_PURE
    }
    assert foreign == set(), f"{path.name} imports {sorted(foreign)}"


# Everything a model server, the router or the echo doubles load in the serving environment.
SERVING_SIDE = sorted(
    [
        *PACKAGE.glob("*.py"),
        *(PROJECT_ROOT / "contracts").glob("*.py"),
        *(PROJECT_ROOT / "components" / "rollout" / "routing").glob("*.py"),
        PROJECT_ROOT / "components" / "processes.py",
        PROJECT_ROOT / "tests" / "doubles" / "echo.py",
        PROJECT_ROOT / "tests" / "doubles" / "echo_atomic.py",
    ]
)


@pytest.mark.parametrize("path", SERVING_SIDE, ids=lambda p: str(p.relative_to(PROJECT_ROOT)))
def test_no_serving_module_imports_the_pipeline_set(path: Path) -> None:
    assert {module.split(".")[0] for module in _imports(path)} & PIPELINE_ONLY == set()


@pytest.mark.parametrize("path", TFLITE_PATH, ids=lambda p: p.name)
def test_the_tflite_path_imports_no_tensorflow(path: Path) -> None:
    assert {module.split(".")[0] for module in _imports(path)} & TENSORFLOW == set()
