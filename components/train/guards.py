"""Checks that refuse to hand on a model that did not learn or is numerically unsound.

Each check raises ``TrainingError`` with a message that names the problem and a likely cause, so a
failed pipeline run says why without anyone opening the logs of Keras.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import keras
import numpy as np

from contracts.errors import TrainingError


def check_labels(labels: np.ndarray) -> None:
    """Refuses a training label with a single class: no loss can decrease on it.

    Raises:
        TrainingError: when every label is 0 or every label is 1, or there are none.
    """
    if labels.size == 0:
        raise TrainingError("no training rows: the training window is empty")
    distinct = np.unique(labels)
    if distinct.size < 2:
        raise TrainingError(
            f"the label is constant (every row is {distinct[0]:g}): the model cannot learn to separate classes"
        )


class ConvergenceGuard(keras.callbacks.Callback):
    """Stops training as soon as the loss turns non-finite or has not decreased after the first epochs.

    The problem is recorded in ``problem`` rather than raised inside Keras, so ``raise_if_failed`` can
    report it as a ``TrainingError`` after ``fit`` has returned cleanly.

    Args:
        initial_loss: Training loss of the untrained model, measured before ``fit``.
        epochs: How many epochs the loss has to go below ``initial_loss``.
        min_relative_decrease: Required relative decrease (0.01 = at least 1% below the initial loss).
    """

    def __init__(self, initial_loss: float, epochs: int = 1, min_relative_decrease: float = 0.01) -> None:
        super().__init__()
        self.initial_loss = initial_loss
        self.epochs = epochs
        self.min_relative_decrease = min_relative_decrease
        self.problem: str | None = None
        self._losses: list[float] = []

    def on_train_batch_end(self, batch: int, logs: Mapping[str, Any] | None = None) -> None:
        loss = float((logs or {}).get("loss", 0.0))
        if self.problem is None and not math.isfinite(loss):
            self.problem = (
                f"the training loss became {loss} at epoch {len(self._losses) + 1}, batch {batch + 1}: "
                "numeric overflow (too high a learning rate, or unscaled inputs)"
            )
            self.model.stop_training = True

    def on_epoch_end(self, epoch: int, logs: Mapping[str, Any] | None = None) -> None:
        if self.problem is not None:
            return
        self._losses.append(float((logs or {}).get("loss", math.nan)))
        if len(self._losses) != self.epochs:
            return
        best = min(self._losses)
        required = self.initial_loss * (1 - self.min_relative_decrease)
        if not best < required:
            self.problem = (
                f"training did not converge: the loss was {best:.4f} after {self.epochs} epoch(s), not below "
                f"{required:.4f} (the untrained model's {self.initial_loss:.4f} less "
                f"{self.min_relative_decrease:.0%}); check the learning rate and the label"
            )
            self.model.stop_training = True

    def raise_if_failed(self) -> None:
        """Raises the recorded problem, if any.

        Raises:
            TrainingError: naming the problem.
        """
        if self.problem is not None:
            raise TrainingError(self.problem)


def check_history(history: Mapping[str, Sequence[float]]) -> None:
    """Refuses a training history with a non-finite loss in any epoch, training or validation.

    Raises:
        TrainingError: naming the metric and epoch.
    """
    for key in ("loss", "val_loss"):
        for epoch, value in enumerate(history.get(key, ()), start=1):
            if not math.isfinite(value):
                raise TrainingError(f"{key} is {value} at epoch {epoch}: the model diverged")


def check_finite_weights(model: keras.Model) -> None:
    """Refuses a model with NaN or Inf in any weight.

    Raises:
        TrainingError: naming the offending weights.
    """
    bad = [
        weight.path
        for weight in model.weights
        if _is_float(weight) and not np.isfinite(np.asarray(weight)).all()
    ]
    if bad:
        raise TrainingError(f"the model has NaN/Inf in its weights: {bad}")


def check_finite_predictions(probabilities: np.ndarray, what: str) -> None:
    """Refuses predictions that are NaN, Inf or outside [0, 1].

    Args:
        probabilities: The model's outputs.
        what: Which rows they belong to, for the message (``"validation rows"``).

    Raises:
        TrainingError: with the count of bad predictions.
    """
    finite = np.isfinite(probabilities)
    if not finite.all():
        raise TrainingError(
            f"{int((~finite).sum())} of {probabilities.size} predictions on {what} are NaN/Inf"
        )
    if (probabilities < 0).any() or (probabilities > 1).any():
        raise TrainingError(f"predictions on {what} fall outside [0, 1]")


def _is_float(weight: Any) -> bool:
    return str(weight.dtype).startswith("float")
