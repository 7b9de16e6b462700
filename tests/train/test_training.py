"""Training on real flights: it converges, generalises to a later month, and stays finite."""

from __future__ import annotations

import numpy as np
import pandas as pd

from components.evaluate.metrics import roc_auc
from components.train.features import CATEGORICAL_FEATURES, INDICATED_FEATURES, NUMERIC_FEATURES
from components.train.logic import TrainedModel
from components.train.prediction import predict_proba
from contracts.data_contract import LABEL


def test_loss_decreases_and_validation_is_measured(trained: TrainedModel) -> None:
    history = trained.metadata.history
    assert history["loss"][-1] < history["loss"][0]
    assert len(history["val_loss"]) == len(history["loss"]) >= 2
    assert 0.6 < trained.metadata.validation["auc"] < 1


def test_auc_on_a_later_month_beats_chance(trained: TrainedModel, later_month: pd.DataFrame) -> None:
    probabilities = predict_proba(trained.model, later_month)
    assert probabilities.shape == (len(later_month),)
    auc = roc_auc(later_month[LABEL].to_numpy(), probabilities)
    assert auc is not None and auc > 0.6


def test_metadata_records_window_vocabularies_and_threshold(
    trained: TrainedModel, train_frame: pd.DataFrame
) -> None:
    metadata = trained.metadata
    assert metadata.window.months == (1, 2, 3)
    assert metadata.window.train_rows + metadata.window.validation_rows == len(train_frame)
    assert set(metadata.stats.vocabularies) == set(CATEGORICAL_FEATURES)
    assert "JFK" in metadata.stats.vocabularies["origin"]
    assert 0.05 <= metadata.decision_threshold <= 0.95
    assert metadata.versions["tensorflow"].startswith("2.16")


def test_missing_and_unseen_values_still_predict(trained: TrainedModel, later_month: pd.DataFrame) -> None:
    rows = later_month.iloc[:20].copy()
    rows[list(NUMERIC_FEATURES)] = np.nan
    rows["carrier"] = "ZZ"  # a carrier never seen in training goes to the out-of-vocabulary bucket
    rows["plane_engine"] = None
    probabilities = predict_proba(trained.model, rows)
    assert np.isfinite(probabilities).all() and ((probabilities > 0) & (probabilities < 1)).all()


def test_an_indicator_constant_in_training_is_centred_not_blown_up(
    trained: TrainedModel, train_frame: pd.DataFrame
) -> None:
    # January-March has no weather gap, so "temp is missing" never fires in training; scaling it by its
    # zero spread would turn a serving-time gap into a saturated prediction.
    assert train_frame["temp"].notna().all()
    column = len(NUMERIC_FEATURES) + INDICATED_FEATURES.index("temp")
    variance = np.asarray(trained.model.get_layer("normalize").variance).reshape(-1)
    assert variance[column] == 1.0


def test_extreme_inputs_give_finite_predictions(trained: TrainedModel, later_month: pd.DataFrame) -> None:
    rows = pd.concat([later_month.iloc[:1]] * 8, ignore_index=True)
    extremes = [1e30, 3e38, np.inf, -1e30, -3e38, -np.inf]
    stats = trained.metadata.stats.numeric
    for name in NUMERIC_FEATURES:
        rows[name] = np.array([*extremes, stats[name].high, stats[name].low], dtype="float64")
    rows.loc[0, "distance"], rows.loc[0, "temp"] = 1e30, 1e38
    probabilities = predict_proba(trained.model, rows)
    assert np.isfinite(probabilities).all()
    assert ((probabilities >= 0) & (probabilities <= 1)).all()
    # Beyond the training range the model sees the range's edge: huge inputs act like the largest seen.
    assert np.all(probabilities[:3] == probabilities[6]) and np.all(probabilities[3:6] == probabilities[7])


def test_predictions_are_clipped_like_the_nearest_training_value(
    trained: TrainedModel, later_month: pd.DataFrame
) -> None:
    high = trained.metadata.stats.numeric["distance"].high
    rows = pd.concat([later_month.iloc[:1]] * 2, ignore_index=True)
    rows["distance"] = [high, 1e30]
    probabilities = predict_proba(trained.model, rows)
    assert probabilities[0] == probabilities[1]
