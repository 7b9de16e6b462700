"""Session fixtures: one feature store built from the real 2013 data, materialised up to July, and its
feature server on 127.0.0.1. Building it costs about half a minute, so every test shares it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from components.features.environment import FeatureEnvironment, features_venv
from components.features.server import FeatureServer, start_feature_server

# The online store holds what was known at this instant: the start of July 2013.
MATERIALIZED_UNTIL = datetime(2013, 7, 1, tzinfo=UTC)


@pytest.fixture(scope="session")
def feature_env(tmp_path_factory: pytest.TempPathFactory) -> FeatureEnvironment:
    python = features_venv() / "bin" / "python"
    if not python.exists():
        pytest.fail(f"the features environment is missing ({python}): run `make env`")
    env = FeatureEnvironment(repo=tmp_path_factory.mktemp("feature-repo"))
    env.apply()
    env.materialize(MATERIALIZED_UNTIL)
    return env


@pytest.fixture(scope="session")
def feature_server(
    feature_env: FeatureEnvironment, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FeatureServer]:
    with start_feature_server(feature_env.repo, log_dir=tmp_path_factory.mktemp("feature-server")) as server:
        yield server


@pytest.fixture(scope="session")
def repo_dir(feature_env: FeatureEnvironment) -> Path:
    return feature_env.repo
