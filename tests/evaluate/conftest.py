"""Fixtures for the evaluation tests: a real evaluation month, and models trained once per session."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from default_data import default_year

from components.evaluate.thresholds import Thresholds, thresholds_to_toml
from components.ingest.logic import select_months
from components.train.artifact import export_model
from components.train.hyperparameters import HyperParameters
from components.train.logic import train_model
from contracts.data_contract import LABEL

FAST = HyperParameters(
    epochs=3, batch_size=256, hidden_units=(32, 16), embedding_dim=4, early_stopping_patience=1
)

# Loose enough for a model trained in seconds, strict enough that shuffled labels (AUC ~0.5) fail.
LENIENT = Thresholds(
    min_auc=0.6,
    max_log_loss=0.7,
    max_expected_calibration_error=0.2,
    min_origin_auc=0.55,
    max_origin_auc_gap=0.15,
    min_carrier_auc=0.5,
    min_slice_rows=400,
    max_auc_drop=0.01,
    max_log_loss_increase=0.01,
    max_origin_auc_drop=0.03,
)


Scorer = Callable[[pd.DataFrame, float], np.ndarray]


def calibrated_scores(frame: pd.DataFrame, signal: float, seed: int = 0) -> np.ndarray:
    """Calibrated probabilities whose AUC grows with ``signal`` (0: chance).

    A noisy score is cut into 20 quantile bins and each row gets its bin's observed delay rate, so the
    probabilities are calibrated by construction and only their ranking power varies.
    """
    labels = frame[LABEL].to_numpy()
    noisy = signal * labels + np.random.default_rng(seed).normal(size=len(frame))
    bins = np.digitize(noisy, np.quantile(noisy, np.linspace(0, 1, 21))[1:-1])
    rates = np.array([labels[bins == index].mean() for index in range(20)])
    return rates[bins]


@pytest.fixture(scope="session")
def scores() -> Scorer:
    return calibrated_scores


@pytest.fixture(scope="session")
def year() -> pd.DataFrame:
    return default_year()


@pytest.fixture(scope="session")
def july(year: pd.DataFrame) -> pd.DataFrame:
    """Every 4th flight of July (~7,000 rows): later than every training window here."""
    return select_months(year, [7]).iloc[::4].reset_index(drop=True)


@pytest.fixture(scope="session")
def training_window(year: pd.DataFrame) -> pd.DataFrame:
    return select_months(year, [4, 5, 6]).iloc[::4].reset_index(drop=True)


@pytest.fixture(scope="session")
def good_model_dir(training_window: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return export_model(train_model(training_window, FAST), tmp_path_factory.mktemp("good") / "model")


@pytest.fixture(scope="session")
def shuffled_model_dir(training_window: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model trained on permuted labels: it learns nothing that holds in another month."""
    labels = np.random.default_rng(11).permutation(training_window[LABEL].to_numpy())
    frame = training_window.assign(**{LABEL: labels})
    return export_model(train_model(frame, FAST), tmp_path_factory.mktemp("shuffled") / "model")


@pytest.fixture(scope="session")
def lenient_thresholds() -> Thresholds:
    return LENIENT


@pytest.fixture(scope="session")
def lenient_thresholds_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("thresholds") / "thresholds.toml"
    path.write_text(thresholds_to_toml(LENIENT))
    return path
