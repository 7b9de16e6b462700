"""A small stand-in model folder with the production artifact contract, for tests and benchmarks.

It has what a trained model folder has - ``saved_model/`` (one (None, 1) input per raw feature, float32 or
string, one (None, 1) probability; NaN imputed inside, categories looked up and embedded as training
does), ``model.tflite`` (its TFLite core, built by the training code), ``model.json`` and
``serving_schema.json`` - with seeded weights and the serving schema's vocabularies. It lets the server be
tested and measured without running the training pipeline. It is not a trained model: its probabilities
mean nothing.

Building it and asking the Keras model for its answers need TensorFlow, which the serving set leaves out, so
the serving tests run this module in the training environment:

    python -m doubles.fixture_model build TARGET [--version V] [--no-tflite] [--schema PATH]
    python -m doubles.fixture_model predict MODEL_DIR RECORDS_JSON OUT_JSON
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from components.serving.feature_batch import FeatureBatch
from contracts.data_contract import Kind
from contracts.serving_schema import ServingSchema

OUTPUT_NAME = "delay_probability"
EXAMPLE_SCHEMA = Path(__file__).resolve().parents[2] / "contracts" / "serving_schema.example.json"


def build_model_folder(
    target: Path, schema: ServingSchema, *, version: str | None = "fixture-1", tflite: bool = True
) -> Path:
    """Writes the parts of a model folder into ``target`` (created if absent).

    Args:
        target: The model folder.
        schema: The serving schema: it decides the inputs, their kinds and the vocabularies.
        version: The ``version`` key of ``model.json``; None leaves it out.
        tflite: Whether to write ``model.tflite`` and its record in ``model.json``, as training does;
            without it the folder is one trained before the TFLite core existed.

    Returns:
        ``target``.
    """
    import keras  # TensorFlow loads only when a folder is built

    from components.train.tflite_core import write_core

    keras.utils.set_random_seed(7)
    inputs, parts = {}, []
    for feature in schema.features:
        if feature.kind is Kind.STRING:
            tensor = keras.Input(shape=(1,), name=feature.name, dtype="string")
            vocabulary = list(feature.allowed_values or ["?"])
            ids = keras.layers.StringLookup(vocabulary=vocabulary, num_oov_indices=1, mask_token=None)(tensor)
            vectors = keras.layers.Embedding(len(vocabulary) + 1, 3)(ids)
            parts.append(keras.layers.Flatten()(vectors))
        else:
            tensor = keras.Input(shape=(1,), name=feature.name, dtype="float32")
            missing = keras.ops.isnan(tensor)
            scale = max(abs(feature.minimum or 0.0), abs(feature.maximum or 0.0), 1.0)
            parts.append(keras.ops.where(missing, 0.0, tensor) / scale)
            parts.append(keras.ops.cast(missing, "float32"))
        inputs[feature.name] = tensor
    hidden = keras.layers.Dense(8, activation="tanh")(keras.layers.Concatenate()(parts))
    output = keras.layers.Dense(1, activation="sigmoid", name=OUTPUT_NAME)(hidden)
    target.mkdir(parents=True, exist_ok=True)
    model = keras.Model(inputs, output)
    model.export(str(target / "saved_model"), verbose=False)
    metadata: dict[str, Any] = {
        "format_version": 1,
        "inputs": [{"name": f.name, "kind": str(f.kind)} for f in schema.features],
    }
    if tflite:
        core = write_core(
            model,
            target,
            numeric=[f.name for f in schema.features if f.kind is not Kind.STRING],
            categorical=[f.name for f in schema.features if f.kind is Kind.STRING],
            output_name=OUTPUT_NAME,
        )
        metadata["tflite"] = core.to_dict()
    if version is not None:
        metadata["version"] = version
    (target / "model.json").write_text(json.dumps(metadata, indent=2) + "\n", encoding="utf-8")
    schema.write(target / "serving_schema.json")
    return target


def plain_signature(model_dir: Path) -> Any:
    """The exported SavedModel's ``serving_default`` signature, called eagerly: the reference every
    inference path is held to. Takes the tensors ``signature_feeds`` makes."""
    import tensorflow as tf

    return tf.saved_model.load(str(model_dir / "saved_model")).signatures["serving_default"]


def signature_feeds(batch: FeatureBatch) -> dict[str, Any]:
    """A validated batch as the signature's inputs: one (rows, 1) tensor per feature, float32 (NaN for a
    gap) or string."""
    import numpy as np
    import tensorflow as tf

    return {
        name: tf.constant(column.reshape(-1, 1).astype(np.float32 if column.dtype != object else object))
        for name, column in batch.columns.items()
    }


def keras_predictions(model_dir: Path, records: Sequence[dict[str, Any]]) -> list[float]:
    """The model's own answers for ``records``, through the SavedModel signature it exported: what any
    faster inference path has to reproduce."""
    from components.serving.validation import parse_request

    schema = ServingSchema.read(model_dir / "serving_schema.json")
    batch = parse_request({"jsonData": list(records)}, schema, max_rows=len(records))
    (output,) = plain_signature(model_dir)(**signature_feeds(batch)).values()
    return [float(value) for value in output.numpy()[:, 0]]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m doubles.fixture_model", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="write a stand-in model folder")
    build.add_argument("target", type=Path)
    build.add_argument("--schema", type=Path, default=EXAMPLE_SCHEMA)
    build.add_argument("--version", default="fixture-1")
    build.add_argument("--no-tflite", action="store_true", help="leave out model.tflite and its record")
    predict = commands.add_parser("predict", help="the Keras model's answers for a JSON list of records")
    predict.add_argument("model_dir", type=Path)
    predict.add_argument("records", type=Path)
    predict.add_argument("out", type=Path)
    args = parser.parse_args(argv)
    if args.command == "build":
        schema = ServingSchema.read(args.schema)
        build_model_folder(args.target, schema, version=args.version, tflite=not args.no_tflite)
    else:
        records = json.loads(args.records.read_text(encoding="utf-8"))
        args.out.write_text(json.dumps(keras_predictions(args.model_dir, records)), encoding="utf-8")


if __name__ == "__main__":
    main()
