"""Permutation importance with a scorer whose dependencies are known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from components.evaluate.importance import permutation_importance
from contracts.data_contract import LABEL, ORIGINS


@pytest.fixture(scope="module")
def rows(july: pd.DataFrame) -> pd.DataFrame:
    """Labels that depend on the hour, strongly at JFK and not at all elsewhere."""
    frame = july.iloc[:3000].copy()
    late = (frame["hour"] >= 15).to_numpy()
    at_jfk = (frame["origin"] == "JFK").to_numpy()
    coin = np.random.default_rng(4).random(len(frame)) < 0.3
    frame[LABEL] = np.where(at_jfk, late, coin).astype(int)
    return frame


def hour_scorer(frame: pd.DataFrame) -> np.ndarray:
    return frame["hour"].to_numpy() / 24.0


def test_only_the_used_feature_matters_and_only_where_it_matters(rows: pd.DataFrame) -> None:
    importance = {
        item.feature: item for item in permutation_importance(hour_scorer, rows, sample_rows=2000, seed=1)
    }
    assert next(iter(importance)) == "hour"
    jfk, ewr = importance["hour"].by_origin["JFK"], importance["hour"].by_origin["EWR"]
    assert jfk is not None and jfk > 0.3
    assert ewr is not None and abs(ewr) < 0.1
    for feature in ("temp", "carrier", "distance"):
        assert importance[feature].overall == 0.0
        assert all(importance[feature].by_origin[origin] == 0.0 for origin in ORIGINS)
    assert importance["origin"].by_origin == {"EWR": 0.0, "JFK": 0.0, "LGA": 0.0}


def test_same_seed_same_answer_and_sample_is_bounded(rows: pd.DataFrame) -> None:
    seen: list[int] = []

    def counting_scorer(frame: pd.DataFrame) -> np.ndarray:
        seen.append(len(frame))
        return hour_scorer(frame)

    first = permutation_importance(counting_scorer, rows, features=("hour", "temp"), sample_rows=500, seed=3)
    assert set(seen) == {500} and len(seen) == 1 + 2 * 2
    assert (
        permutation_importance(hour_scorer, rows, features=("hour", "temp"), sample_rows=500, seed=3) == first
    )
