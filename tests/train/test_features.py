"""Frames to model inputs, and the statistics the model is built from."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from components.train.features import (
    CATEGORICAL_FEATURES,
    MISSING_CATEGORY,
    NUMERIC_FEATURES,
    compute_feature_stats,
    labels_of,
    to_model_inputs,
)
from contracts.data_contract import FEATURE_NAMES
from contracts.errors import DataContractError, TrainingError


@pytest.fixture()
def rows(year: pd.DataFrame) -> pd.DataFrame:
    return year.iloc[:50].copy()


def test_feature_split_follows_the_contract() -> None:
    assert set(NUMERIC_FEATURES) | set(CATEGORICAL_FEATURES) == set(FEATURE_NAMES)
    assert CATEGORICAL_FEATURES == ("carrier", "origin", "dest", "plane_engine")


def test_inputs_are_named_columns_of_float32_or_str(rows: pd.DataFrame) -> None:
    inputs = to_model_inputs(rows)
    assert set(inputs) == set(FEATURE_NAMES)
    assert all(
        inputs[name].shape == (50, 1) and inputs[name].dtype == np.float32 for name in NUMERIC_FEATURES
    )
    assert all(isinstance(inputs[name][0, 0], str) for name in CATEGORICAL_FEATURES)


def test_missing_values_become_nan_and_the_missing_category(rows: pd.DataFrame) -> None:
    rows["plane_engine"] = rows["plane_engine"].astype("object")
    rows.loc[0, "plane_engine"] = None
    rows["plane_seats"] = pd.array([pd.NA] + [150] * 49, dtype="Int64")
    inputs = to_model_inputs(rows)
    assert inputs["plane_engine"][0, 0] == MISSING_CATEGORY
    assert np.isnan(inputs["plane_seats"][0, 0]) and inputs["plane_seats"][1, 0] == 150


def test_text_in_a_numeric_column_is_a_contract_error(rows: pd.DataFrame) -> None:
    rows["distance"] = rows["distance"].astype("object")
    rows.loc[3, "distance"] = "far"
    with pytest.raises(DataContractError, match="distance"):
        to_model_inputs(rows)


def test_absent_feature_column_is_named(rows: pd.DataFrame) -> None:
    with pytest.raises(DataContractError, match="humid"):
        to_model_inputs(rows.drop(columns=["humid"]))


def test_labels_must_be_zero_or_one(rows: pd.DataFrame) -> None:
    assert labels_of(rows).shape == (50, 1)
    rows.loc[0, "delayed"] = 2
    with pytest.raises(DataContractError, match="0 or 1"):
        labels_of(rows)


def test_stats_ignore_missing_values_and_cover_all_missing_columns(rows: pd.DataFrame) -> None:
    rows["temp"] = [np.nan] * 10 + [10.0] * 20 + [40.0] * 20
    rows["wind_gust"] = np.nan
    stats = compute_feature_stats(rows)
    assert stats.numeric["temp"].mean == pytest.approx(25.0)
    assert (stats.numeric["temp"].low, stats.numeric["temp"].high) == (10.0, 40.0)
    assert stats.numeric["temp"].missing_share == pytest.approx(0.2)
    assert stats.numeric["wind_gust"].missing_share == 1.0
    assert stats.vocabularies["origin"] == tuple(sorted(set(rows["origin"])))


def test_stats_round_trip_and_refuse_empty_frames(rows: pd.DataFrame) -> None:
    stats = compute_feature_stats(rows)
    assert type(stats).from_dict(stats.to_dict()) == stats
    with pytest.raises(TrainingError, match="empty"):
        compute_feature_stats(rows.iloc[:0])
