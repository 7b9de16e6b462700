"""The same data and seed give the same model; another seed gives another one."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from components.train.hyperparameters import HyperParameters
from components.train.logic import train_model
from components.train.prediction import predict_proba


def test_same_seed_same_weights_other_seed_other_weights(
    small_frame: pd.DataFrame, tiny: HyperParameters
) -> None:
    first = train_model(small_frame, tiny)
    second = train_model(small_frame, tiny)
    other = train_model(small_frame, dataclasses.replace(tiny, seed=7))
    rows = small_frame.iloc[:100]
    assert all(
        np.array_equal(a, b)
        for a, b in zip(first.model.get_weights(), second.model.get_weights(), strict=True)
    )
    assert first.metadata.history == second.metadata.history
    assert not np.allclose(predict_proba(first.model, rows), predict_proba(other.model, rows))
