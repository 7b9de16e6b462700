"""Real-data fixtures for the training tests: the year joined once, one small model trained once."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from default_data import default_year

from components.ingest.logic import select_months
from components.train.artifact import export_model
from components.train.hyperparameters import HyperParameters
from components.train.logic import TrainedModel, train_model

# Every 4th flight keeps the time order (the split is by time) at a quarter of the cost.
STRIDE = 4
FAST = HyperParameters(
    epochs=3, batch_size=256, hidden_units=(32, 16), embedding_dim=4, early_stopping_patience=1
)
TINY = HyperParameters(epochs=2, batch_size=256, hidden_units=(8,), embedding_dim=2)


def every_nth(frame: pd.DataFrame, stride: int = STRIDE) -> pd.DataFrame:
    return frame.iloc[::stride].reset_index(drop=True)


@pytest.fixture(scope="session")
def year() -> pd.DataFrame:
    return default_year()


@pytest.fixture(scope="session")
def train_frame(year: pd.DataFrame) -> pd.DataFrame:
    """About 20,000 flights of January to March."""
    return every_nth(select_months(year, [1, 2, 3]))


@pytest.fixture(scope="session")
def later_month(year: pd.DataFrame) -> pd.DataFrame:
    """About 7,000 flights of April: after the training window."""
    return every_nth(select_months(year, [4]))


@pytest.fixture(scope="session")
def tiny() -> HyperParameters:
    """Hyper-parameters for tests that train models only to check the training machinery."""
    return TINY


@pytest.fixture(scope="session")
def small_frame(train_frame: pd.DataFrame) -> pd.DataFrame:
    """About 5,000 flights of January to March, for tests that train several models."""
    return every_nth(train_frame)


@pytest.fixture(scope="session")
def trained(train_frame: pd.DataFrame) -> TrainedModel:
    return train_model(train_frame, FAST)


@pytest.fixture(scope="session")
def artifact_dir(trained: TrainedModel, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return export_model(trained, tmp_path_factory.mktemp("model") / "artifact")
