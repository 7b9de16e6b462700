"""Preprocessing that lives inside the model, so serving takes raw features and cannot skew.

The schedule arithmetic is plain TensorFlow functions (tested on their own) wrapped by small Keras
layers that Keras can save in ``model.keras`` and trace into the SavedModel.
"""

from __future__ import annotations

from typing import Any

import keras
import tensorflow as tf

MINUTES_PER_DAY = 1440.0
_PACKAGE = "flights"


def hhmm_to_minutes(hhmm: tf.Tensor) -> tf.Tensor:
    """Minutes after local midnight of an HHMM clock time (``1435`` -> ``875``)."""
    hours = tf.math.floordiv(hhmm, 100.0)
    return hours * 60.0 + (hhmm - hours * 100.0)


def scheduled_duration_minutes(sched_dep_time: tf.Tensor, sched_arr_time: tf.Tensor) -> tf.Tensor:
    """Scheduled block time in minutes, from HHMM departure and arrival clock times.

    An arrival clock time before the departure one means the flight lands after midnight, so the
    difference wraps around a day (``2330 -> 0120`` is 110 minutes). Both are local times, so the result
    includes any time-zone change; the model learns that per destination.
    """
    difference = hhmm_to_minutes(sched_arr_time) - hhmm_to_minutes(sched_dep_time)
    return tf.math.floormod(difference, MINUTES_PER_DAY)


def planned_speed_mph(distance_miles: tf.Tensor, duration_minutes: tf.Tensor) -> tf.Tensor:
    """Distance over scheduled duration in miles per hour; 0 (not Inf or NaN) when the duration is 0."""
    return tf.math.divide_no_nan(distance_miles, duration_minutes / 60.0)


def departure_clock(sched_dep_time: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """Sine and cosine of the departure time of day, so 23:59 and 00:01 are neighbours."""
    angle = hhmm_to_minutes(sched_dep_time) * (2.0 * 3.141592653589793 / MINUTES_PER_DAY)
    return tf.sin(angle), tf.cos(angle)


@keras.saving.register_keras_serializable(package=_PACKAGE)
class ImputeAndClip(keras.layers.Layer):
    """Replaces NaN by the training mean and clips to the training range.

    Clipping is what keeps predictions finite on absurd inputs (a distance of 1e30, an infinite
    temperature): nothing downstream ever sees a value the training rows did not span.
    """

    def __init__(self, mean: float, low: float, high: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.mean = float(mean)
        self.low = float(low)
        self.high = float(high)

    def call(self, inputs: tf.Tensor) -> tf.Tensor:
        values = tf.cast(inputs, tf.float32)
        filled = tf.where(tf.math.is_nan(values), tf.constant(self.mean, tf.float32), values)
        return tf.clip_by_value(filled, self.low, self.high)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "mean": self.mean, "low": self.low, "high": self.high}


@keras.saving.register_keras_serializable(package=_PACKAGE)
class MissingIndicator(keras.layers.Layer):
    """1.0 where the raw value is missing (NaN), else 0.0."""

    def call(self, inputs: tf.Tensor) -> tf.Tensor:
        return tf.cast(tf.math.is_nan(tf.cast(inputs, tf.float32)), tf.float32)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape


@keras.saving.register_keras_serializable(package=_PACKAGE)
class ScheduleFeatures(keras.layers.Layer):
    """Derived schedule features from imputed, clipped inputs.

    Takes ``[sched_dep_time, sched_arr_time, distance]``, each (batch, 1), and returns (batch, 4):
    scheduled duration (minutes), planned speed (mph), and sine and cosine of the departure clock.
    """

    def call(self, inputs: list[tf.Tensor]) -> tf.Tensor:
        sched_dep_time, sched_arr_time, distance = inputs
        duration = scheduled_duration_minutes(sched_dep_time, sched_arr_time)
        speed = planned_speed_mph(distance, duration)
        sine, cosine = departure_clock(sched_dep_time)
        return tf.concat([duration, speed, sine, cosine], axis=-1)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return (input_shape[0][0], 4)


SCHEDULE_FEATURE_NAMES: tuple[str, ...] = (
    "scheduled_duration_minutes",
    "planned_speed_mph",
    "departure_clock_sin",
    "departure_clock_cos",
)
