"""What the Docker runner needs from the project's settings, checked without Docker.

The containerised run itself (every step in the pipeline image) is exercised by `make run-docker`, which
CI runs after building the images.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cli.commands import batch_file_for_steps
from components.settings import ProjectSettings, configured_serving_venv
from contracts.errors import ConfigError
from pipelines.local_runner import Runner, run_pipeline_locally


def _never_called(**_: object) -> None:
    raise AssertionError("the pipeline must not start when the settings cannot work")


def test_docker_runner_refuses_a_lineage_store_outside_the_mounted_state_folder(tmp_path: Path) -> None:
    settings = ProjectSettings(state_dir=tmp_path / "state", metadata_uri="mysql://db:3306/mlmd")
    with pytest.raises(ConfigError, match="must be a SQLite file inside"):
        run_pipeline_locally(_never_called, settings, {}, runner=Runner.DOCKER)


def test_batch_files_outside_the_state_folder_are_copied_where_containers_see_them(tmp_path: Path) -> None:
    settings = ProjectSettings.resolve({}, tmp_path)
    batch = tmp_path / "elsewhere" / "august.csv"
    batch.parent.mkdir()
    batch.write_text("year,month\n2013,8\n")
    seen = batch_file_for_steps(batch, settings, Runner.DOCKER)
    assert seen.is_relative_to(settings.state_dir)
    assert seen.read_text() == batch.read_text()
    assert batch_file_for_steps(batch, settings, Runner.SUBPROCESS) == batch.resolve()


def test_serving_environment_comes_from_the_variable_the_pipeline_image_sets() -> None:
    assert configured_serving_venv({"MLOPS_SERVING_VENV": "/opt/serving-venv"}) == Path("/opt/serving-venv")
    assert configured_serving_venv({}) is None
