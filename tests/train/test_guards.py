"""The guards refuse models that did not learn or hold NaN/Inf, naming the problem."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from components.errors import TrainingError
from components.ingest.contract import LABEL
from components.train.guards import check_finite_predictions, check_finite_weights, check_history
from components.train.hyperparameters import HyperParameters
from components.train.logic import TrainedModel, train_model
from components.train.prediction import predict_proba

TINY = HyperParameters(epochs=2, batch_size=256, hidden_units=(8,), embedding_dim=2)


@pytest.fixture(scope="module")
def small_frame(train_frame: pd.DataFrame) -> pd.DataFrame:
    return train_frame.iloc[::4].reset_index(drop=True)


@pytest.mark.parametrize("value", [0, 1])
def test_constant_label_is_refused(small_frame: pd.DataFrame, value: int) -> None:
    with pytest.raises(TrainingError, match=f"label is constant \\(every row is {value}\\)"):
        train_model(small_frame.assign(**{LABEL: value}), TINY)


def test_absurd_learning_rate_does_not_converge(small_frame: pd.DataFrame) -> None:
    with pytest.raises(TrainingError, match="did not converge"):
        train_model(
            small_frame, HyperParameters(**{**TINY.to_dict(), "hidden_units": (8,), "learning_rate": 1e3})
        )


def test_non_finite_loss_in_history_is_refused() -> None:
    with pytest.raises(TrainingError, match="val_loss is nan at epoch 2"):
        check_history({"loss": [0.6, 0.5], "val_loss": [0.6, float("nan")]})


def test_nan_weight_is_found_and_named(trained: TrainedModel) -> None:
    model = trained.model
    kernel = model.get_layer("hidden_0").kernel
    original = np.asarray(kernel).copy()
    try:
        poisoned = original.copy()
        poisoned[0, 0] = np.nan
        kernel.assign(poisoned)
        with pytest.raises(TrainingError, match="hidden_0/kernel"):
            check_finite_weights(model)
    finally:
        kernel.assign(original)
    check_finite_weights(model)


def test_nan_weight_would_poison_predictions(trained: TrainedModel, later_month: pd.DataFrame) -> None:
    kernel = trained.model.get_layer("delay_probability").kernel
    original = np.asarray(kernel).copy()
    try:
        kernel.assign(np.full_like(original, np.nan))
        probabilities = predict_proba(trained.model, later_month.iloc[:10])
        with pytest.raises(TrainingError, match="10 of 10 predictions on test rows are NaN/Inf"):
            check_finite_predictions(probabilities, "test rows")
    finally:
        kernel.assign(original)


def test_predictions_outside_unit_interval_are_refused() -> None:
    with pytest.raises(TrainingError, match=r"outside \[0, 1\]"):
        check_finite_predictions(np.array([0.2, 1.5]), "rows")
