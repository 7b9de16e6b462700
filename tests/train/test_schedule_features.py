"""The in-model feature logic: clock arithmetic, guarded division, imputation and clipping."""

from __future__ import annotations

import math

import numpy as np
import pytest
import tensorflow as tf

from components.train.layers import (
    ImputeAndClip,
    MissingIndicator,
    ScheduleFeatures,
    departure_clock,
    hhmm_to_minutes,
    planned_speed_mph,
    scheduled_duration_minutes,
)


def column(*values: float) -> tf.Tensor:
    return tf.constant(np.array(values, dtype="float32").reshape(-1, 1))


def test_hhmm_to_minutes() -> None:
    assert hhmm_to_minutes(column(0, 59, 100, 1435, 2359)).numpy().ravel().tolist() == [0, 59, 60, 875, 1439]


@pytest.mark.parametrize(
    ("departure", "arrival", "minutes"),
    [
        (515, 819, 184),  # same day
        (2330, 120, 110),  # lands after midnight
        (2359, 1, 2),  # one minute each side of midnight
        (1200, 1200, 0),  # equal clock times: zero, not a day
        (600, 559, 1439),  # arrival clock one minute earlier wraps to almost a day
    ],
)
def test_scheduled_duration_wraps_past_midnight(departure: int, arrival: int, minutes: int) -> None:
    assert scheduled_duration_minutes(column(departure), column(arrival)).numpy().item() == minutes


def test_planned_speed_guards_zero_duration() -> None:
    speed = planned_speed_mph(column(600, 600, 0), column(60, 0, 0)).numpy().ravel()
    assert speed.tolist() == [600, 0, 0]
    assert np.isfinite(speed).all()


def test_departure_clock_is_continuous_over_midnight() -> None:
    sine, cosine = departure_clock(column(2359, 0, 1))
    assert np.allclose(
        sine.numpy().ravel(), [math.sin(-2 * math.pi / 1440), 0, math.sin(2 * math.pi / 1440)], atol=1e-5
    )
    assert np.allclose(cosine.numpy().ravel(), 1, atol=1e-4)


def test_schedule_features_layer_stacks_the_four_features() -> None:
    out = ScheduleFeatures()([column(2330, 1200), column(130, 1200), column(1000, 500)]).numpy()
    assert out.shape == (2, 4)
    assert out[0, 0] == 120 and out[0, 1] == pytest.approx(500)
    assert out[1, 0] == 0 and out[1, 1] == 0  # zero duration: speed 0, not Inf


def test_impute_and_clip_replaces_nan_by_mean_and_clips_extremes() -> None:
    layer = ImputeAndClip(mean=50.0, low=10.0, high=90.0)
    values = column(np.nan, 20, -5, 1e30, np.inf, -np.inf, 3e38)
    assert layer(values).numpy().ravel().tolist() == [50, 20, 10, 90, 90, 10, 90]


def test_missing_indicator_flags_only_nan() -> None:
    assert MissingIndicator()(column(np.nan, 0, np.inf)).numpy().ravel().tolist() == [1, 0, 0]


def test_layers_survive_their_config() -> None:
    layer = ImputeAndClip(mean=1.5, low=-2.0, high=3.0, name="x_imputed")
    clone = ImputeAndClip.from_config(layer.get_config())
    assert (clone.mean, clone.low, clone.high, clone.name) == (1.5, -2.0, 3.0, "x_imputed")
