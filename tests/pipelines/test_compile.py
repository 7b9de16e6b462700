"""The compiled pipeline spec matches its golden copy (regenerate with `make golden`)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from pipelines.compile import compile_pipelines

GOLDEN_DIR = Path(__file__).parent / "golden"
UPDATE_VARIABLE = "UPDATE_GOLDEN"


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return compile_pipelines(tmp_path_factory.mktemp("compiled"))


def test_compiled_specs_match_golden(compiled: list[Path]) -> None:
    for path in compiled:
        golden = GOLDEN_DIR / path.name
        if os.environ.get(UPDATE_VARIABLE) == "1":
            golden.write_text(path.read_text())
        assert golden.is_file(), f"no golden spec {golden.name}: run `make golden`"
        assert yaml.safe_load(path.read_text()) == yaml.safe_load(golden.read_text()), (
            f"{path.name} differs from its golden copy; review the change, then run `make golden`"
        )


def test_every_step_uses_the_pipeline_image(compiled: list[Path]) -> None:
    for path in compiled:
        spec = yaml.safe_load(path.read_text())
        executors = spec["deploymentSpec"]["executors"]
        assert executors, path.name
        for name, executor in executors.items():
            assert "flights-mlops-pipeline" in executor["container"]["image"], name
