"""The exported artifact: SavedModel, Keras file and model.json agree with the trained model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from components.train.artifact import export_model, load_metadata, load_model
from components.train.features import NUMERIC_FEATURES, to_model_inputs
from components.train.logic import TrainedModel
from components.train.prediction import predict_proba
from contracts.data_contract import FEATURE_NAMES
from contracts.errors import TrainingError
from contracts.names import OUTPUT_NAME


def test_layout(artifact_dir: Path) -> None:
    assert sorted(path.name for path in artifact_dir.iterdir()) == [
        "model.json",
        "model.keras",
        "model.tflite",
        "saved_model",
    ]
    assert (artifact_dir / "saved_model" / "saved_model.pb").is_file()


def test_saved_model_signature_matches_keras(
    artifact_dir: Path, trained: TrainedModel, later_month: pd.DataFrame
) -> None:
    rows = later_month.iloc[:200]
    signature = tf.saved_model.load(str(artifact_dir / "saved_model")).signatures["serving_default"]
    _, inputs = signature.structured_input_signature
    assert set(inputs) == set(FEATURE_NAMES)
    assert all(
        inputs[name].dtype == (tf.float32 if name in NUMERIC_FEATURES else tf.string) for name in inputs
    )
    assert all(spec.shape.as_list() == [None, 1] for spec in inputs.values())
    assert list(signature.structured_outputs) == [OUTPUT_NAME]

    served = signature(**{name: tf.constant(values) for name, values in to_model_inputs(rows).items()})
    np.testing.assert_allclose(
        served[OUTPUT_NAME].numpy().ravel(), predict_proba(trained.model, rows), rtol=0, atol=1e-5
    )


def test_keras_file_reloads_with_the_same_predictions(
    artifact_dir: Path, trained: TrainedModel, later_month: pd.DataFrame
) -> None:
    rows = later_month.iloc[:200]
    np.testing.assert_allclose(
        predict_proba(load_model(artifact_dir), rows), predict_proba(trained.model, rows), rtol=0, atol=1e-6
    )


def test_model_json_round_trips(artifact_dir: Path, trained: TrainedModel) -> None:
    document = json.loads((artifact_dir / "model.json").read_text())
    assert document["output"]["name"] == OUTPUT_NAME
    assert [item["name"] for item in document["inputs"]] == [
        *NUMERIC_FEATURES,
        "carrier",
        "origin",
        "dest",
        "plane_engine",
    ]
    assert document["seed"] == trained.metadata.hyperparameters.seed
    assert load_metadata(artifact_dir) == trained.metadata


def test_export_never_overwrites(artifact_dir: Path, trained: TrainedModel) -> None:
    with pytest.raises(TrainingError, match="already holds a model"):
        export_model(trained, artifact_dir)


def test_loading_an_empty_folder_names_the_missing_file(tmp_path: Path) -> None:
    with pytest.raises(TrainingError, match=r"model\.keras"):
        load_model(tmp_path)
    with pytest.raises(TrainingError, match=r"model\.json"):
        load_metadata(tmp_path)
