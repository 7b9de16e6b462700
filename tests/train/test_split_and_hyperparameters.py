"""The time split of the training window, and the hyper-parameter record."""

from __future__ import annotations

import pandas as pd
import pytest

from components.train.hyperparameters import HyperParameters
from components.train.split import split_by_time
from contracts.errors import DataContractError, TrainingError


def test_validation_rows_are_the_latest_and_share_no_hour(train_frame: pd.DataFrame) -> None:
    fitting, validation, window = split_by_time(train_frame, 0.15)
    assert len(fitting) + len(validation) == len(train_frame)
    assert fitting["time_hour"].max() < validation["time_hour"].min() == window.validation_start
    assert 0.13 < len(validation) / len(train_frame) < 0.17
    assert window.months == (1, 2, 3) and window.end == train_frame["time_hour"].max()


def test_a_single_hour_cannot_be_split(train_frame: pd.DataFrame) -> None:
    one_hour = train_frame[train_frame["time_hour"] == train_frame["time_hour"].iloc[0]]
    with pytest.raises(TrainingError, match="more than one hour"):
        split_by_time(one_hour, 0.15)


def test_hyperparameters_round_trip() -> None:
    params = HyperParameters(hidden_units=(16,), learning_rate=0.01)
    assert HyperParameters.from_dict(params.to_dict()) == params


@pytest.mark.parametrize(
    "bad",
    [
        {"learning_rate": 0},
        {"dropout": 1.0},
        {"hidden_units": ()},
        {"validation_fraction": 0.7},
        {"epochs": 0},
    ],
)
def test_invalid_hyperparameters_are_refused(bad: dict) -> None:
    with pytest.raises(TrainingError, match="invalid hyper-parameters"):
        HyperParameters(**bad)


def test_unknown_hyperparameter_is_refused() -> None:
    with pytest.raises(TrainingError, match="learning_rat"):
        HyperParameters.from_dict({"learning_rat": 0.1})


def test_split_needs_the_time_column(train_frame: pd.DataFrame) -> None:
    with pytest.raises(DataContractError, match="time_hour"):
        split_by_time(train_frame.drop(columns=["time_hour"]), 0.15)
