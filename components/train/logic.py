"""Training: from a contract frame to a guarded, validated model and its metadata."""

from __future__ import annotations

import math
import platform
import time
from dataclasses import dataclass

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from components.train.features import compute_feature_stats, labels_of, to_model_inputs
from components.train.guards import (
    ConvergenceGuard,
    check_finite_predictions,
    check_finite_weights,
    check_history,
    check_labels,
)
from components.train.hyperparameters import HyperParameters
from components.train.metadata import ModelMetadata
from components.train.model import build_model
from components.train.prediction import as_dataset, predict_inputs
from components.train.split import split_by_time
from components.train.threshold import choose_threshold

# Enough rows to measure the untrained loss and to sanity-check training predictions, cheaply.
GUARD_SAMPLE_ROWS = 20_000


@dataclass(frozen=True)
class TrainedModel:
    """A model that passed every training guard, with its ``model.json`` content."""

    model: keras.Model
    metadata: ModelMetadata


def _seed_everything(hyperparameters: HyperParameters) -> None:
    keras.utils.set_random_seed(hyperparameters.seed)
    if hyperparameters.deterministic_ops:
        tf.config.experimental.enable_op_determinism()


def _sample(inputs: dict[str, np.ndarray], labels: np.ndarray) -> tuple[dict[str, np.ndarray], np.ndarray]:
    # Evenly spaced rows cover the whole window, where the first rows would cover only its start.
    rows = len(labels)
    index = np.unique(np.linspace(0, rows - 1, num=min(rows, GUARD_SAMPLE_ROWS)).astype(int))
    return {name: values[index] for name, values in inputs.items()}, labels[index]


def train_model(frame: pd.DataFrame, hyperparameters: HyperParameters | None = None) -> TrainedModel:
    """Trains the delay model on a training window and refuses it if it is unsound.

    The last ``validation_fraction`` of the window (by ``time_hour``) is held out for early stopping
    and for choosing the decision threshold; statistics, vocabularies and normalisation come from the
    earlier rows only.

    Args:
        frame: Labelled rows following the data contract (``time_hour``, ``month``, every feature and
            ``delayed``), e.g. ``load_months(range(1, 7))``.
        hyperparameters: Defaults to ``HyperParameters()``.

    Returns:
        The model (best validation-loss weights) and its metadata.

    Raises:
        TrainingError: for a constant label, a loss that does not decrease in the first epoch, a
            NaN/Inf loss, NaN/Inf weights, or NaN/Inf predictions on training or validation rows.
        DataContractError: when a required column is absent or malformed.

    Example:
        >>> trained = train_model(load_months(range(1, 7)), HyperParameters(epochs=5))
        >>> trained.metadata.validation["auc"]
    """
    hyperparameters = hyperparameters or HyperParameters()
    started = time.perf_counter()
    fitting, validation, window = split_by_time(frame, hyperparameters.validation_fraction)
    train_labels, validation_labels = labels_of(fitting), labels_of(validation)
    check_labels(train_labels)
    train_inputs, validation_inputs = to_model_inputs(fitting), to_model_inputs(validation)
    stats = compute_feature_stats(fitting)
    # Only the arrays above are used from here on: the frames (the window twice over, ~0.5 GB for a
    # year) are released before TensorFlow makes its own copies, which bounds the step's peak memory.
    del frame, fitting, validation

    _seed_everything(hyperparameters)
    model = build_model(stats, train_inputs, hyperparameters)
    sample_inputs, sample_labels = _sample(train_inputs, train_labels)
    initial_loss = float(
        model.evaluate(as_dataset(sample_inputs, sample_labels), verbose=0, return_dict=True)["loss"]
    )

    guard = ConvergenceGuard(initial_loss)
    training_data = as_dataset(train_inputs, train_labels, hyperparameters.batch_size, hyperparameters.seed)
    history = model.fit(
        training_data,
        validation_data=as_dataset(validation_inputs, validation_labels),
        epochs=hyperparameters.epochs,
        shuffle=False,  # the dataset reshuffles itself, with the seed
        verbose=0,
        callbacks=[
            keras.callbacks.TerminateOnNaN(),
            guard,
            keras.callbacks.EarlyStopping(
                monitor="val_loss",
                patience=hyperparameters.early_stopping_patience,
                restore_best_weights=True,
            ),
        ],
    ).history
    guard.raise_if_failed()
    check_history(history)
    check_finite_weights(model)
    check_finite_predictions(predict_inputs(model, sample_inputs), "training rows")
    validation_probabilities = predict_inputs(model, validation_inputs)
    check_finite_predictions(validation_probabilities, "validation rows")

    scores = model.evaluate(as_dataset(validation_inputs, validation_labels), verbose=0, return_dict=True)
    metadata = ModelMetadata(
        stats=stats,
        window=window,
        hyperparameters=hyperparameters,
        history={key: [float(value) for value in values] for key, values in history.items()},
        decision_threshold=choose_threshold(validation_labels, validation_probabilities),
        validation={key: float(value) for key, value in scores.items() if math.isfinite(float(value))},
        training_seconds=round(time.perf_counter() - started, 2),
        versions={
            "tensorflow": tf.__version__,
            "keras": keras.__version__,
            "python": platform.python_version(),
        },
    )
    return TrainedModel(model=model, metadata=metadata)
