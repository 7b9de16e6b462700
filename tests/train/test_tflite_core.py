"""The TFLite core predicts what the Keras model predicts (within 1e-5) on real flights, missing values and
unknown categories included: with TensorFlow's interpreter here, and through the model server's whole
optimised path (validation, the shared lookup, LiteRT) in the serving environment."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import pytest

from components.ingest.records import feature_records
from components.processes import DEFAULT_SERVING_VENV
from components.schema.logic import load_schema
from components.schema.serving import write_serving_schema
from components.settings import PROJECT_ROOT
from components.train.artifact import load_metadata, load_model
from components.train.features import CATEGORICAL_FEATURES, NUMERIC_FEATURES, to_model_inputs
from components.train.logic import TrainedModel
from components.train.prediction import predict_inputs, predict_proba
from components.train.tflite_core import PARITY_TOLERANCE, CoreRunner, numeric_core, write_core
from contracts.core_contract import SECTION, CoreContract
from contracts.data_contract import FEATURE_NAMES
from contracts.errors import ModelContractError
from contracts.names import OUTPUT_NAME

UNSEEN_DEST = "QQQ"  # no airport has this code: out of every vocabulary
UNSEEN_CARRIER = "ZZ"


@pytest.fixture(scope="module")
def contract(artifact_dir: Path) -> CoreContract:
    document = json.loads((artifact_dir / "model.json").read_text())
    core = CoreContract.from_metadata(document)
    assert core is not None
    return core


@pytest.fixture(scope="module")
def runner(artifact_dir: Path, contract: CoreContract) -> CoreRunner:
    return CoreRunner((artifact_dir / contract.file).read_bytes(), contract)


@pytest.fixture(scope="module")
def hard_rows(later_month: pd.DataFrame) -> pd.DataFrame:
    """Real April flights, with extra gaps and categories the model never saw written into some rows."""
    rows = later_month.copy()
    rows.loc[rows.index[::5], "dest"] = UNSEEN_DEST
    rows.loc[rows.index[1::7], "temp"] = np.nan
    rows.loc[rows.index[2::9], ["plane_year", "plane_seats", "plane_engines"]] = np.nan
    rows.loc[rows.index[3::11], "plane_engine"] = None
    return rows.reset_index(drop=True)


def test_real_rows_keep_their_own_gaps_and_unseen_categories(
    hard_rows: pd.DataFrame, contract: CoreContract
) -> None:
    # The parity below is only worth as much as the rows are hard: check they are.
    inputs = to_model_inputs(hard_rows)
    assert len(hard_rows) > 5000
    assert np.isnan(inputs["wind_gust"]).mean() > 0.3  # real gaps, not only the written ones
    assert np.isnan(inputs["temp"]).sum() >= len(hard_rows) // 7
    unknown_dest = ~np.isin(inputs["dest"][:, 0], contract.vocabularies["dest"])
    assert unknown_dest.sum() >= len(hard_rows) // 5
    assert "" in inputs["plane_engine"][:, 0] and "" not in contract.vocabularies["carrier"]


def test_core_matches_keras_on_real_rows(
    trained: TrainedModel, runner: CoreRunner, hard_rows: pd.DataFrame
) -> None:
    inputs = to_model_inputs(hard_rows)
    inputs["carrier"][::13] = UNSEEN_CARRIER  # the serving schema refuses it; the core must still agree
    keras_probabilities = predict_inputs(trained.model, inputs)
    core_probabilities = runner.predict(inputs)
    np.testing.assert_allclose(core_probabilities, keras_probabilities, rtol=0, atol=PARITY_TOLERANCE)
    assert np.unique(keras_probabilities).size > 1000  # a model that answers, not a constant


def test_core_matches_the_reloaded_keras_file(
    artifact_dir: Path, runner: CoreRunner, hard_rows: pd.DataFrame
) -> None:
    rows = hard_rows.iloc[:1000]
    np.testing.assert_allclose(
        runner.predict(to_model_inputs(rows)),
        predict_proba(load_model(artifact_dir), rows),
        rtol=0,
        atol=PARITY_TOLERANCE,
    )


def test_served_tflite_path_matches_keras_on_real_rows(
    artifact_dir: Path, trained: TrainedModel, hard_rows: pd.DataFrame, tmp_path: Path
) -> None:
    python = DEFAULT_SERVING_VENV / "bin" / "python"
    assert python.exists(), f"no serving environment at {DEFAULT_SERVING_VENV}: run `make env`"
    model_dir = tmp_path / "model"
    shutil.copytree(artifact_dir, model_dir)
    write_serving_schema(load_schema(), FEATURE_NAMES, model_dir)
    rows = hard_rows.iloc[:3000]
    (tmp_path / "records.json").write_text(json.dumps(feature_records(rows)))
    completed = subprocess.run(
        [str(python), "-c", _SERVE_RECORDS, str(model_dir), str(tmp_path / "records.json")],
        cwd=PROJECT_ROOT,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "TF_CPP_MIN_LOG_LEVEL": "2"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    answer = json.loads(completed.stdout.strip().splitlines()[-1])
    assert answer["backend"] == "tflite"
    expected = predict_proba(trained.model, rows)
    # Batches of 1,000 (the 1,024-row interpreter, padded) and one-row requests (the 1-row one).
    np.testing.assert_allclose(answer["batched"], expected, rtol=0, atol=PARITY_TOLERANCE)
    np.testing.assert_allclose(
        answer["single"], expected[: len(answer["single"])], rtol=0, atol=PARITY_TOLERANCE
    )


_SERVE_RECORDS = """
import json, sys
from components.serving.model import FlightDelayModel

model = FlightDelayModel(model_uri=sys.argv[1], model_version="parity")
model.load()
records = json.load(open(sys.argv[2]))

def probabilities(body):
    answer = model.predict_raw(body)
    if "status" in answer:
        raise SystemExit(f"refused: {answer['status']}")
    return [row[0] for row in answer["data"]["ndarray"]]

batched = [p for start in range(0, len(records), 1000) for p in probabilities({"jsonData": records[start:start + 1000]})]
single = [probabilities({"jsonData": record})[0] for record in records[:200]]
print(json.dumps({"backend": str(model.backend), "batched": batched, "single": single}))
"""


def test_model_json_records_the_core(
    artifact_dir: Path, contract: CoreContract, trained: TrainedModel
) -> None:
    document = json.loads((artifact_dir / "model.json").read_text())
    assert document[SECTION]["file"] == "model.tflite" and (artifact_dir / "model.tflite").is_file()
    assert document[SECTION]["out_of_vocabulary_id"] == 0
    assert contract.numeric == NUMERIC_FEATURES and contract.categorical == CATEGORICAL_FEATURES
    assert contract.output == OUTPUT_NAME
    assert dict(contract.vocabularies) == dict(trained.metadata.stats.vocabularies)
    assert CoreContract.from_dict(contract.to_dict()) == contract
    assert load_metadata(artifact_dir) == trained.metadata  # the extra section leaves model.json readable


def test_a_malformed_record_is_refused(contract: CoreContract) -> None:
    broken = contract.to_dict()
    del broken["vocabularies"]["dest"]
    with pytest.raises(ModelContractError, match="vocabularies"):
        CoreContract.from_dict(broken)
    with pytest.raises(ModelContractError, match="incomplete"):
        CoreContract.from_dict({**contract.to_dict(), "inputs": {"numbers": ["day"]}})
    with pytest.raises(ModelContractError, match="plain file name"):
        CoreContract.from_dict({**contract.to_dict(), "file": "../model.tflite"})
    assert CoreContract.from_metadata({"inputs": []}) is None


def _tiny_model(lookup: keras.layers.Layer, *, string_elsewhere: bool = False) -> keras.Model:
    day = keras.Input(shape=(1,), name="day", dtype="float32")
    carrier = keras.Input(shape=(1,), name="carrier", dtype="string")
    parts = [day, keras.layers.Flatten()(keras.layers.Embedding(4, 2)(lookup(carrier)))]
    if string_elsewhere:
        parts.append(keras.layers.StringLookup(vocabulary=["AA"], output_mode="one_hot")(carrier))
    output = keras.layers.Dense(1, activation="sigmoid")(keras.layers.Concatenate()(parts))
    return keras.Model({"day": day, "carrier": carrier}, {OUTPUT_NAME: output})


def test_a_model_whose_lookup_numbers_otherwise_is_refused() -> None:
    lookup = keras.layers.StringLookup(vocabulary=["AA", "UA"], num_oov_indices=2, mask_token=None)
    with pytest.raises(ModelContractError, match="num_oov_indices=1"):
        numeric_core(_tiny_model(lookup), ["day"], ["carrier"], OUTPUT_NAME)


def test_a_model_that_reads_strings_beyond_its_lookup_is_refused() -> None:
    lookup = keras.layers.StringLookup(vocabulary=["AA", "UA"], num_oov_indices=1, mask_token=None)
    with pytest.raises(ModelContractError, match="one StringLookup and nothing else"):
        numeric_core(_tiny_model(lookup, string_elsewhere=True), ["day"], ["carrier"], OUTPUT_NAME)


def test_inputs_that_are_not_the_features_are_refused(tmp_path: Path) -> None:
    lookup = keras.layers.StringLookup(vocabulary=["AA", "UA"], num_oov_indices=1, mask_token=None)
    with pytest.raises(ModelContractError, match="are not the features"):
        write_core(
            _tiny_model(lookup),
            tmp_path,
            numeric=["day", "hour"],
            categorical=["carrier"],
            output_name=OUTPUT_NAME,
        )
    assert list(tmp_path.iterdir()) == []
