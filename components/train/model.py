"""The Keras model: named raw inputs, preprocessing inside, one delay probability out."""

from __future__ import annotations

from collections.abc import Mapping

import keras
import numpy as np
import tensorflow as tf

from components.train.features import (
    CATEGORICAL_FEATURES,
    INDICATED_FEATURES,
    NUMERIC_FEATURES,
    FeatureStats,
)
from components.train.hyperparameters import HyperParameters
from components.train.layers import ImputeAndClip, MissingIndicator, ScheduleFeatures
from contracts.names import OUTPUT_NAME

# Below this a block column is taken as constant over the training rows.
CONSTANT_VARIANCE = 1e-12
MODEL_NAME = "flight_delay"


def _model_inputs() -> dict[str, keras.KerasTensor]:
    inputs = {name: keras.Input(shape=(1,), name=name, dtype="float32") for name in NUMERIC_FEATURES}
    inputs.update({name: keras.Input(shape=(1,), name=name, dtype="string") for name in CATEGORICAL_FEATURES})
    return inputs


def _numeric_block(inputs: Mapping[str, keras.KerasTensor], stats: FeatureStats) -> keras.KerasTensor:
    imputed = {}
    for name in NUMERIC_FEATURES:
        numeric = stats.numeric[name]
        imputed[name] = ImputeAndClip(numeric.mean, numeric.low, numeric.high, name=f"{name}_imputed")(
            inputs[name]
        )
    indicators = [MissingIndicator(name=f"{name}_missing")(inputs[name]) for name in INDICATED_FEATURES]
    schedule = ScheduleFeatures(name="schedule_features")(
        [imputed["sched_dep_time"], imputed["sched_arr_time"], imputed["distance"]]
    )
    return keras.layers.Concatenate(name="numeric_block")([*imputed.values(), *indicators, schedule])


def _adapted_normalization(
    inputs: Mapping[str, keras.KerasTensor], block: keras.KerasTensor, train_inputs: Mapping[str, np.ndarray]
) -> keras.layers.Normalization:
    # The statistics are taken from the block as the model itself computes it (after imputation,
    # clipping and the schedule arithmetic), so there is no second implementation to keep in step.
    numeric_inputs = {name: inputs[name] for name in NUMERIC_FEATURES}
    block_model = keras.Model(numeric_inputs, block)
    values = np.asarray(block_model({name: tf.constant(train_inputs[name]) for name in NUMERIC_FEATURES}))
    variance = values.var(axis=0)
    # A column constant in training (a missing-indicator that never fired: no weather gap in the window)
    # would be divided by ~1e-3 the first time it moves at serving time and saturate the output; it is
    # centred and left unscaled instead.
    variance = np.where(variance > CONSTANT_VARIANCE, variance, 1.0)
    return keras.layers.Normalization(mean=values.mean(axis=0), variance=variance, name="normalize")


def _embedded(inputs: Mapping[str, keras.KerasTensor], stats: FeatureStats, embedding_dim: int) -> list:
    embedded = []
    for name in CATEGORICAL_FEATURES:
        vocabulary = list(stats.vocabularies[name])
        # One out-of-vocabulary bucket (index 0) catches carriers or airports first seen at serving time.
        ids = keras.layers.StringLookup(
            vocabulary=vocabulary, num_oov_indices=1, mask_token=None, name=f"{name}_lookup"
        )(inputs[name])
        width = min(embedding_dim, len(vocabulary) + 1)
        vectors = keras.layers.Embedding(len(vocabulary) + 1, width, name=f"{name}_embedding")(ids)
        embedded.append(keras.layers.Flatten(name=f"{name}_flat")(vectors))
    return embedded


def build_model(
    stats: FeatureStats, train_inputs: Mapping[str, np.ndarray], hyperparameters: HyperParameters
) -> keras.Model:
    """Builds and compiles the model, adapting its normalisation to the training rows.

    Args:
        stats: Means, ranges and vocabularies of the training rows.
        train_inputs: The training rows as ``to_model_inputs`` returns them.
        hyperparameters: Layer widths, dropout and learning rate.

    Returns:
        A compiled model with one input per raw feature, shape (None, 1) (float32 numeric, string
        categorical), and a dict output ``{"delay_probability": (None, 1)}``.
    """
    inputs = _model_inputs()
    block = _numeric_block(inputs, stats)
    normalized = _adapted_normalization(inputs, block, train_inputs)(block)
    features = keras.layers.Concatenate(name="features")(
        [normalized, *_embedded(inputs, stats, hyperparameters.embedding_dim)]
    )
    hidden = features
    for index, units in enumerate(hyperparameters.hidden_units):
        hidden = keras.layers.Dense(units, activation="relu", name=f"hidden_{index}")(hidden)
        if hyperparameters.dropout > 0:
            hidden = keras.layers.Dropout(hyperparameters.dropout, name=f"dropout_{index}")(hidden)
    probability = keras.layers.Dense(1, activation="sigmoid", name=OUTPUT_NAME)(hidden)
    model = keras.Model(inputs, {OUTPUT_NAME: probability}, name=MODEL_NAME)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=hyperparameters.learning_rate),
        loss={OUTPUT_NAME: keras.losses.BinaryCrossentropy()},
        metrics={OUTPUT_NAME: [keras.metrics.AUC(name="auc")]},
    )
    return model
