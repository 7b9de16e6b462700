"""The SavedModel call: both SavedModel backends agree, a batch equals its rows, the signature contract is
enforced."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from doubles.fixture_model import plain_signature, signature_feeds

from components.serving.backend_kinds import Backend
from components.serving.feature_batch import FeatureBatch
from components.serving.inference import SAVED_MODEL_BACKENDS, load_predictor
from components.serving.validation import parse_request
from contracts.errors import ModelUnavailableError
from contracts.serving_schema import ServingSchema

from ..conftest import varied_records


@pytest.fixture(scope="module")
def records() -> list[dict[str, Any]]:
    return varied_records(64, seed=3)


@pytest.fixture(scope="module")
def batch(schema: ServingSchema, records: list[dict[str, Any]]) -> FeatureBatch:
    return parse_request({"jsonData": records}, schema)


def test_packed_backends_match_the_plain_signature(model_dir: Path, batch: FeatureBatch) -> None:
    (output_name, plain), *_ = plain_signature(model_dir)(**signature_feeds(batch)).items()
    expected = plain.numpy()[:, 0]
    for backend in SAVED_MODEL_BACKENDS:
        predictor = load_predictor(model_dir / "saved_model", backend=backend)
        assert predictor.output_name == output_name
        assert predictor.input_dtypes["carrier"] == "string" and predictor.input_dtypes["day"] == "float32"
        assert set(predictor.input_dtypes) == set(batch.columns)
        got = predictor.predict(batch)
        assert got.shape == (64,)
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-7)
    assert ((expected > 0) & (expected < 1)).all() and np.unique(expected).size > 10


def test_a_batch_equals_its_rows_one_by_one(
    model_dir: Path, schema: ServingSchema, records: list[dict[str, Any]], batch: FeatureBatch
) -> None:
    predictor = load_predictor(model_dir / "saved_model")
    together = predictor.predict(batch)
    single = [predictor.predict(parse_request({"jsonData": record}, schema))[0] for record in records[:8]]
    np.testing.assert_allclose(together[:8], single, rtol=0, atol=1e-6)


def test_a_folder_without_a_savedmodel_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailableError, match="no SavedModel"):
        load_predictor(tmp_path)
    (tmp_path / "saved_model.pb").write_bytes(b"garbage")
    with pytest.raises(ModelUnavailableError, match="is not a SavedModel"):
        load_predictor(tmp_path)


@pytest.mark.parametrize("backend", SAVED_MODEL_BACKENDS)
def test_a_signature_off_contract_is_refused(tmp_path: Path, backend: Backend) -> None:
    import keras

    day = keras.Input(shape=(2,), name="day", dtype="float32")
    keras.Model({"day": day}, keras.layers.Dense(1)(day)).export(str(tmp_path / "sm"), verbose=False)
    with pytest.raises(
        ModelUnavailableError, match=r"input 'day' has shape \[None, 2\]|input 'day' has shape \[-1, 2\]"
    ):
        load_predictor(tmp_path / "sm", backend=backend)


def test_a_backend_that_runs_no_savedmodel_is_refused(model_dir: Path) -> None:
    with pytest.raises(ModelUnavailableError, match="does not run a SavedModel"):
        load_predictor(model_dir / "saved_model", backend=Backend.TFLITE)
