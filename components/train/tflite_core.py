"""The TFLite core of a trained Keras model: the same layers and weights, numbers and vocabulary ids in.

TFLite's builtin operators have no string lookup (``StringLookup`` would need the Flex delegate, which
the standalone runtime lacks), so the core is the trained model cut just after each ``StringLookup``:
a Keras functional model over the very same layer objects, whose categorical inputs are the ids those
lookups would have produced. The lookup itself moves to ``contracts/vocabulary.py``. The two
inputs are packed (one float32 matrix, one int32 matrix) because a TFLite call costs about a
microsecond per input tensor set from Python; ``contracts/core_contract.py`` documents them.

Conversion goes through a SavedModel written by Keras' ``ExportArchive``: converting the concrete
function directly leaves the embedding variables unresolved in TF 2.16's converter.
"""

from __future__ import annotations

import tempfile
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from contracts.core_contract import CATEGORY_IDS_INPUT, NUMBERS_INPUT, CoreContract
from contracts.errors import ModelContractError
from contracts.vocabulary import CategoryIds

# Predictions of the core may differ from the Keras model's by float32 rounding only.
PARITY_TOLERANCE = 1e-5
PROBE_ROWS = 512
_SIGNATURE = "serving_default"


def numeric_core(
    model: keras.Model, numeric: Sequence[str], categorical: Sequence[str], output_name: str
) -> tuple[keras.Model, CoreContract]:
    """The model with its string lookups cut off, and the contract of its inputs.

    Args:
        model: A functional model with one named input per feature: float32 for ``numeric``, string for
            ``categorical``, each string input read by exactly one
            ``StringLookup(num_oov_indices=1, mask_token=None)``.
        numeric: The numeric input names, in the column order the core will take them.
        categorical: The categorical input names, in column order.
        output_name: The output to keep (the model's output key, or the name to give a single output).

    Returns:
        A functional model with inputs named like the features (float32 (None, 1) numbers; int64
        (None, 1) ids for categorical features) and the output ``{output_name: (None, 1)}``, sharing the
        trained layers; and the core's contract, vocabularies read from the lookup layers.

    Raises:
        ModelContractError: when the model's inputs, lookups or output do not fit that shape.
    """
    inputs = model.input
    if not isinstance(inputs, dict) or set(inputs) != {*numeric, *categorical}:
        names = sorted(inputs) if isinstance(inputs, dict) else type(inputs).__name__
        raise ModelContractError(
            f"the model's inputs {names} are not the features {sorted({*numeric, *categorical})}"
        )
    core_inputs: dict[str, Any] = {name: inputs[name] for name in numeric}
    vocabularies = {}
    for name in categorical:
        lookup = _lookup_of(model, inputs[name], name)
        core_inputs[name] = lookup.output
        vocabularies[name] = tuple(lookup.get_vocabulary(include_special_tokens=False))
    output = _single_output(model, output_name)
    try:
        with warnings.catch_warnings():
            # Keras asks that dict keys equal the tensors' names; the lookup outputs have their own.
            warnings.simplefilter("ignore", UserWarning)
            core = keras.Model(core_inputs, {output_name: output}, name=f"{model.name}_core")
    except ValueError as exc:
        raise ModelContractError(f"the model still needs its strings beyond the lookups: {exc}") from exc
    contract = CoreContract(
        numeric=tuple(numeric), categorical=tuple(categorical), vocabularies=vocabularies, output=output_name
    )
    return core, contract


def convert_core(core: keras.Model, contract: CoreContract) -> bytes:
    """The core as a TFLite flatbuffer with packed inputs, builtin operators only, float32 throughout.

    Raises:
        ModelContractError: when the converter refuses the model (an operator TFLite lacks).
    """
    numbers_spec = tf.TensorSpec([None, len(contract.numeric)], tf.float32, name=NUMBERS_INPUT)
    ids_spec = tf.TensorSpec([None, len(contract.categorical)], tf.int32, name=CATEGORY_IDS_INPUT)

    def packed(numbers: tf.Tensor, category_ids: tf.Tensor) -> dict[str, tf.Tensor]:
        feeds = {name: numbers[:, i : i + 1] for i, name in enumerate(contract.numeric)}
        feeds |= {
            name: tf.cast(category_ids[:, i : i + 1], tf.int64) for i, name in enumerate(contract.categorical)
        }
        return {contract.output: core(feeds, training=False)[contract.output]}

    archive = keras.export.ExportArchive()
    archive.track(core)
    archive.add_endpoint(_SIGNATURE, packed, input_signature=[numbers_spec, ids_spec])
    with tempfile.TemporaryDirectory(prefix="tflite-core-") as folder:
        archive.write_out(folder, verbose=False)
        converter = tf.lite.TFLiteConverter.from_saved_model(folder, signature_keys=[_SIGNATURE])
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
        try:
            return bytes(converter.convert())
        except Exception as exc:  # the converter raises its own ConverterError and plain RuntimeErrors
            raise ModelContractError(f"TFLite cannot convert the model's core: {exc}") from exc


class CoreRunner:
    """Runs a TFLite core with TensorFlow's own interpreter (training side; serving uses LiteRT).

    Args:
        flatbuffer: The converted core.
        contract: Its inputs and output.
    """

    def __init__(self, flatbuffer: bytes, contract: CoreContract) -> None:
        self.contract = contract
        self._interpreter = tf.lite.Interpreter(model_content=flatbuffer)
        runner = self._interpreter.get_signature_runner(_SIGNATURE)
        self._numbers = runner.get_input_details()[NUMBERS_INPUT]["index"]
        self._ids = runner.get_input_details()[CATEGORY_IDS_INPUT]["index"]
        self._output = runner.get_output_details()[contract.output]["index"]
        del runner  # it holds tensor buffers, which would forbid resizing the interpreter
        self._lookups = {name: CategoryIds(contract.vocabularies[name]) for name in contract.categorical}

    def predict(self, inputs: Mapping[str, np.ndarray]) -> np.ndarray:
        """Probabilities, float64 of shape (rows,), for raw model inputs (numbers and strings, (rows, 1))."""
        numbers, ids = self.pack(inputs)
        interpreter = self._interpreter
        interpreter.resize_tensor_input(self._numbers, list(numbers.shape))
        interpreter.resize_tensor_input(self._ids, list(ids.shape))
        interpreter.allocate_tensors()
        interpreter.set_tensor(self._numbers, numbers)
        interpreter.set_tensor(self._ids, ids)
        interpreter.invoke()
        return np.asarray(interpreter.get_tensor(self._output), dtype=np.float64).reshape(-1)

    def pack(self, inputs: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """The two input matrices for raw model inputs, the categorical ones through the shared lookup."""
        numbers = np.column_stack(
            [np.asarray(inputs[name], dtype=np.float32).reshape(-1) for name in self.contract.numeric]
        )
        ids = np.column_stack(
            [
                self._lookups[name].ids(np.asarray(inputs[name]).reshape(-1))
                for name in self.contract.categorical
            ]
        )
        return numbers.astype(np.float32), ids.astype(np.int32)


def keras_probabilities(model: keras.Model, inputs: Mapping[str, np.ndarray], output_name: str) -> np.ndarray:
    """The Keras model's probabilities for raw inputs, float64 of shape (rows,), called eagerly."""
    outputs = model({name: tf.constant(values) for name, values in inputs.items()}, training=False)
    output = outputs[output_name] if isinstance(outputs, dict) else outputs
    return np.asarray(output, dtype=np.float64).reshape(-1)


def probe_inputs(contract: CoreContract, rows: int = PROBE_ROWS, seed: int = 0) -> dict[str, np.ndarray]:
    """Raw inputs that reach every corner of the core: every vocabulary entry and an unknown value,
    missing numbers, zeros, and numbers far outside any training range.

    Returns:
        Per feature, a (rows, 1) array: float32 for numeric features, object (str) for categorical ones.
    """
    rng = np.random.default_rng(seed)
    inputs: dict[str, np.ndarray] = {}
    for name in contract.numeric:
        values = rng.normal(0.0, 1000.0, rows).astype(np.float32)
        values[rng.random(rows) < 0.1] = np.nan
        values[rng.random(rows) < 0.05] = 0.0
        values[rng.random(rows) < 0.02] = 1e30
        inputs[name] = values.reshape(-1, 1)
    for name in contract.categorical:
        choices = [*contract.vocabularies[name], "\x00not-in-the-vocabulary"]
        picks = [choices[i % len(choices)] for i in range(rows)]
        rng.shuffle(picks)
        inputs[name] = np.asarray(picks, dtype=object).reshape(-1, 1)
    return inputs


def largest_difference(model: keras.Model, runner: CoreRunner, inputs: Mapping[str, np.ndarray]) -> float:
    """Largest absolute difference between the core's and the Keras model's probabilities on ``inputs``."""
    expected = keras_probabilities(model, inputs, runner.contract.output)
    return float(np.max(np.abs(runner.predict(inputs) - expected)))


def write_core(
    model: keras.Model,
    folder: Path,
    *,
    numeric: Sequence[str],
    categorical: Sequence[str],
    output_name: str,
) -> CoreContract:
    """Converts the model's core, checks it against the model on probe rows, and writes it to ``folder``.

    Returns:
        The contract to record in ``model.json``.

    Raises:
        ModelContractError: when the core cannot be built or converted, or its predictions differ from
            the Keras model's by more than ``PARITY_TOLERANCE`` on the probe rows.
    """
    core, contract = numeric_core(model, numeric, categorical, output_name)
    flatbuffer = convert_core(core, contract)
    difference = largest_difference(model, CoreRunner(flatbuffer, contract), probe_inputs(contract))
    if not difference <= PARITY_TOLERANCE:
        raise ModelContractError(
            f"the TFLite core differs from the Keras model by {difference:.3g} on probe rows "
            f"(tolerance {PARITY_TOLERANCE:g})"
        )
    (Path(folder) / contract.file).write_bytes(flatbuffer)
    return contract


def _lookup_of(model: keras.Model, tensor: Any, name: str) -> keras.layers.StringLookup:
    readers = [layer for layer in model.layers if _reads(layer, tensor)]
    if len(readers) != 1 or not isinstance(readers[0], keras.layers.StringLookup):
        raise ModelContractError(
            f"categorical input {name!r} must be read by one StringLookup and nothing else; "
            f"it is read by {[layer.name for layer in readers]}"
        )
    lookup = readers[0]
    if (
        lookup.num_oov_indices != 1
        or lookup.mask_token is not None
        or lookup.output_mode != "int"
        or lookup.invert
    ):
        raise ModelContractError(
            f"the lookup of {name!r} must be StringLookup(num_oov_indices=1, mask_token=None, "
            "output_mode='int'): the ids of contracts/vocabulary.py assume exactly that"
        )
    return lookup


def _reads(layer: keras.layers.Layer, tensor: Any) -> bool:
    if isinstance(layer, keras.layers.InputLayer):
        return False
    return any(
        any(candidate is tensor for candidate in node.input_tensors)
        for node in getattr(layer, "_inbound_nodes", [])
    )


def _single_output(model: keras.Model, output_name: str) -> Any:
    output = model.output
    if isinstance(output, dict):
        if list(output) != [output_name]:
            raise ModelContractError(
                f"the model's outputs are {sorted(output)}; expected only {output_name!r}"
            )
        return output[output_name]
    if isinstance(output, list | tuple):
        raise ModelContractError(f"the model has {len(output)} outputs; expected one")
    return output
