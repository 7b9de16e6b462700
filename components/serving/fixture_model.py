"""A small stand-in model folder with the production artifact contract, for tests and benchmarks.

It has what a trained model folder has - ``saved_model/`` (one (None, 1) input per raw feature, float32 or
string, one (None, 1) probability; NaN imputed inside, categories looked up and embedded as training
does), ``model.tflite`` (its TFLite core, built by the training code), ``model.json`` and
``serving_schema.json`` - with seeded weights and the serving schema's vocabularies. It lets the server be tested and measured
in either environment without running the training pipeline. It is not a trained model: its
probabilities mean nothing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from components.ingest.contract import Kind
from components.serving.schema import ServingSchema

OUTPUT_NAME = "delay_probability"


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
