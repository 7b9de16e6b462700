"""The guards refuse models that did not learn or hold NaN/Inf, naming the problem."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from components.train.guards import (
    ConvergenceGuard,
    check_finite_predictions,
    check_finite_weights,
    check_history,
)
from components.train.hyperparameters import HyperParameters
from components.train.logic import TrainedModel, train_model
from components.train.prediction import predict_proba
from contracts.data_contract import LABEL
from contracts.errors import TrainingError


@pytest.mark.parametrize("value", [0, 1])
def test_constant_label_is_refused(small_frame: pd.DataFrame, tiny: HyperParameters, value: int) -> None:
    with pytest.raises(TrainingError, match=f"label is constant \\(every row is {value}\\)"):
        train_model(small_frame.assign(**{LABEL: value}), tiny)


def test_absurd_learning_rate_does_not_converge(small_frame: pd.DataFrame, tiny: HyperParameters) -> None:
    with pytest.raises(TrainingError, match="did not converge"):
        train_model(small_frame, dataclasses.replace(tiny, learning_rate=1e3))


def test_guard_stops_at_a_nan_batch_loss(trained: TrainedModel) -> None:
    guard = ConvergenceGuard(initial_loss=0.7)
    guard.set_model(trained.model)
    try:
        guard.on_train_batch_end(0, {"loss": 0.65})
        guard.on_train_batch_end(1, {"loss": float("nan")})
        assert trained.model.stop_training
    finally:
        trained.model.stop_training = False
    with pytest.raises(TrainingError, match="loss became nan at epoch 1, batch 2"):
        guard.raise_if_failed()


def test_guard_requires_a_decrease_within_the_first_epochs(trained: TrainedModel) -> None:
    passing = ConvergenceGuard(initial_loss=0.7, epochs=2)
    passing.set_model(trained.model)
    passing.on_epoch_end(0, {"loss": 0.71})
    passing.on_epoch_end(1, {"loss": 0.60})
    passing.raise_if_failed()

    failing = ConvergenceGuard(initial_loss=0.7, epochs=2)
    failing.set_model(trained.model)
    try:
        failing.on_epoch_end(0, {"loss": 0.75})
        failing.on_epoch_end(1, {"loss": 0.695})  # below 0.7 but not by the required 1%
        assert trained.model.stop_training
    finally:
        trained.model.stop_training = False
    with pytest.raises(TrainingError, match=r"did not converge: the loss was 0\.6950 after 2 epoch"):
        failing.raise_if_failed()


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
