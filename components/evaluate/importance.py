"""Permutation importance: how much AUC the model loses when one feature's values are shuffled.

Shuffling within each origin (rather than across all rows) keeps the origin mix of every value and
answers the regional question "what does the model rely on at JFK?".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from components.evaluate.metrics import roc_auc
from components.evaluate.results import FeatureImportance
from components.evaluate.slices import ORIGIN
from contracts.data_contract import FEATURE_NAMES, LABEL, ORIGINS

Predict = Callable[[pd.DataFrame], np.ndarray]
DEFAULT_SAMPLE_ROWS = 5_000


def _drop(baseline: float | None, permuted: float | None) -> float | None:
    return None if baseline is None or permuted is None else baseline - permuted


def _origin_aucs(sample: pd.DataFrame, scores: np.ndarray) -> dict[str, float | None]:
    labels = sample[LABEL].to_numpy()
    aucs: dict[str, float | None] = {}
    for origin in ORIGINS:
        members = (sample[ORIGIN] == origin).to_numpy()
        aucs[origin] = roc_auc(labels[members], scores[members]) if members.any() else None
    return aucs


def permutation_importance(
    predict: Predict,
    frame: pd.DataFrame,
    *,
    features: Sequence[str] = FEATURE_NAMES,
    sample_rows: int = DEFAULT_SAMPLE_ROWS,
    seed: int = 0,
) -> tuple[FeatureImportance, ...]:
    """AUC drop per shuffled feature, overall and per origin, most important first.

    Args:
        predict: Probabilities for a contract frame (e.g. ``partial(predict_proba, model)``).
        frame: Labelled evaluation rows.
        features: Columns to shuffle, one at a time.
        sample_rows: Rows sampled (with ``seed``) to bound the cost: two predictions per feature.
        seed: Fixes the sample and every shuffle, so two runs agree exactly.

    Returns:
        One entry per feature; the drop is None where the AUC is undefined (a single class).

    Example:
        >>> permutation_importance(partial(predict_proba, model), load_months([7]), sample_rows=2000)
    """
    rng = np.random.default_rng(seed)
    take = min(sample_rows, len(frame))
    sample = frame.iloc[np.sort(rng.choice(len(frame), size=take, replace=False))].reset_index(drop=True)
    labels = sample[LABEL].to_numpy()
    baseline_scores = predict(sample)
    baseline = roc_auc(labels, baseline_scores)
    baseline_by_origin = _origin_aucs(sample, baseline_scores)
    groups = [np.flatnonzero((sample[ORIGIN] == origin).to_numpy()) for origin in ORIGINS]

    importances = []
    for feature in features:
        shuffled = sample.copy()
        shuffled[feature] = sample[feature].to_numpy()[rng.permutation(take)]
        overall = _drop(baseline, roc_auc(labels, predict(shuffled)))
        if feature == ORIGIN:
            # Shuffling origin within one origin changes nothing: the drop is zero by construction.
            by_origin = {
                origin: 0.0 if baseline_by_origin[origin] is not None else None for origin in ORIGINS
            }
        else:
            within = sample.copy()
            values = sample[feature].to_numpy().copy()
            for members in groups:
                values[members] = values[rng.permutation(members)]
            within[feature] = values
            permuted_by_origin = _origin_aucs(sample, predict(within))
            by_origin = {
                origin: _drop(baseline_by_origin[origin], permuted_by_origin[origin]) for origin in ORIGINS
            }
        importances.append(FeatureImportance(feature=feature, overall=overall, by_origin=by_origin))
    return tuple(
        sorted(importances, key=lambda item: -(item.overall if item.overall is not None else -np.inf))
    )
