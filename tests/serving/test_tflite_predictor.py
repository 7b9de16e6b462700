"""The TFLite backend: same answers as the Keras model, any batch size, safe under threads, chosen by default
when the folder has a core, and refused with a reason when the core breaks its contract."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from components.serving.backend_kinds import Backend
from components.serving.feature_batch import FeatureBatch
from components.serving.model import FlightDelayModel
from components.serving.tflite_predictor import MAX_BUCKET, TflitePredictor
from components.serving.validation import parse_request
from contracts.core_contract import CoreContract
from contracts.errors import ModelUnavailableError
from contracts.serving_schema import ServingSchema

from .conftest import keras_predictions, remove_core, varied_records

PARITY_TOLERANCE = 1e-5


def _contract(model_dir: Path) -> CoreContract:
    contract = CoreContract.from_metadata(json.loads((model_dir / "model.json").read_text()))
    assert contract is not None
    return contract


@pytest.fixture(scope="module")
def predictor(model_dir: Path) -> TflitePredictor:
    return TflitePredictor(model_dir, _contract(model_dir))


@pytest.fixture(scope="module")
def records() -> list[dict[str, Any]]:
    return varied_records(1500, seed=5)


def _batch(schema: ServingSchema, records: list[dict[str, Any]]) -> FeatureBatch:
    return parse_request({"jsonData": records}, schema, max_rows=len(records))


@pytest.fixture(scope="module")
def expected(
    model_dir: Path, records: list[dict[str, Any]], tmp_path_factory: pytest.TempPathFactory
) -> np.ndarray:
    """The Keras model's own answers, through the SavedModel it exported."""
    return keras_predictions(model_dir, records, tmp_path_factory.mktemp("keras"))


def test_matches_the_keras_model_with_gaps_and_unknown_categories(
    predictor: TflitePredictor, schema: ServingSchema, records: list[dict[str, Any]], expected: np.ndarray
) -> None:
    batch = _batch(schema, records)
    assert np.isnan(batch.columns["temp"]).any() and "XNA" in set(batch.columns["dest"])
    got = predictor.predict(batch)
    assert got.dtype == np.float64 and got.shape == (1500,)
    np.testing.assert_allclose(got, expected, rtol=0, atol=PARITY_TOLERANCE)
    assert np.unique(expected).size > 100


@pytest.mark.parametrize("rows", [1, 2, 3, 7, 8, 9, 63, 64, 65, 1000, MAX_BUCKET, MAX_BUCKET + 1, 1500])
def test_every_batch_size_answers_each_row_as_alone(
    predictor: TflitePredictor,
    schema: ServingSchema,
    records: list[dict[str, Any]],
    expected: np.ndarray,
    rows: int,
) -> None:
    start = 1500 - rows
    np.testing.assert_allclose(
        predictor.predict(_batch(schema, records[start:])), expected[start:], rtol=0, atol=PARITY_TOLERANCE
    )


def test_threads_sharing_one_predictor_get_their_own_answers(
    predictor: TflitePredictor, schema: ServingSchema, records: list[dict[str, Any]], expected: np.ndarray
) -> None:
    failures: list[str] = []

    def client(index: int) -> None:
        for call in range(200):
            start = (index * 37 + call * 11) % 1400
            rows = 1 + (call + index) % 5
            got = predictor.predict(_batch(schema, records[start : start + rows]))
            if not np.allclose(got, expected[start : start + rows], rtol=0, atol=PARITY_TOLERANCE):
                failures.append(f"thread {index} call {call}")

    threads = [threading.Thread(target=client, args=(index,)) for index in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


def test_auto_serves_the_core_when_the_folder_has_one(model_dir: Path) -> None:
    model = FlightDelayModel(model_uri=str(model_dir))
    assert model.backend is Backend.TFLITE
    assert model.init_metadata()["platform"] == "tflite"


def test_a_folder_without_a_core_needs_the_savedmodel_extra(model_copy: Path) -> None:
    remove_core(model_copy)
    model = FlightDelayModel(model_uri=str(model_copy))
    assert model.backend is Backend.SESSION
    with pytest.raises(ModelUnavailableError, match=r"needs TensorFlow.*install the 'savedmodel' extra"):
        model.load()
    with pytest.raises(ModelUnavailableError, match=r"backend 'tflite' needs model\.tflite"):
        FlightDelayModel(model_uri=str(model_copy), backend="tflite")


def test_a_record_without_its_file_falls_back_unless_tflite_is_asked_for(model_copy: Path) -> None:
    (model_copy / "model.tflite").unlink()
    assert FlightDelayModel(model_uri=str(model_copy)).backend is Backend.SESSION
    with pytest.raises(ModelUnavailableError, match=r"has no model\.tflite"):
        FlightDelayModel(model_uri=str(model_copy), backend="tflite")


def test_an_unknown_backend_is_refused(model_dir: Path) -> None:
    with pytest.raises(ModelUnavailableError, match="backend must be one of"):
        FlightDelayModel(model_uri=str(model_dir), backend="onnx")


def test_a_malformed_record_stops_the_start(model_copy: Path) -> None:
    metadata = json.loads((model_copy / "model.json").read_text())
    metadata["tflite"]["inputs"]["numbers"] = "day"
    (model_copy / "model.json").write_text(json.dumps(metadata))
    with pytest.raises(ModelUnavailableError, match=r"'tflite' section of model\.json is incomplete"):
        FlightDelayModel(model_uri=str(model_copy))


def test_a_core_that_disagrees_with_its_record_is_refused(model_dir: Path) -> None:
    contract = _contract(model_dir)
    one_short = CoreContract(
        numeric=contract.numeric[:-1],
        categorical=contract.categorical,
        vocabularies=contract.vocabularies,
        output=contract.output,
    )
    expected = rf"breaks its contract: .*expected float32 \[-1, {len(one_short.numeric)}\]"
    with pytest.raises(ModelUnavailableError, match=expected):
        TflitePredictor(model_dir, one_short)
    renamed = CoreContract(
        numeric=contract.numeric,
        categorical=contract.categorical,
        vocabularies=contract.vocabularies,
        output="probability",
    )
    with pytest.raises(ModelUnavailableError, match="gives \\['delay_probability'\\]"):
        TflitePredictor(model_dir, renamed)


def test_a_file_that_is_not_a_model_is_refused(model_copy: Path) -> None:
    (model_copy / "model.tflite").write_bytes(b"not a flatbuffer")
    with pytest.raises(ModelUnavailableError, match="cannot load the TFLite core"):
        TflitePredictor(model_copy, _contract(model_copy))
