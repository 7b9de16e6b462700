"""Runs a model folder's TFLite core (``model.tflite``) with LiteRT: the default, fastest inference path.

The core takes two packed tensors (``contracts/core_contract.py``): the numeric features as one
float32 matrix and, per categorical feature, the vocabulary id that ``contracts/vocabulary.py``
gives its string. Nothing here imports TensorFlow.

A TFLite interpreter has fixed tensor shapes; resizing one for another batch size costs ~0.3 ms (XNNPACK
plans the graph again), about 40 one-row calls. So there is one interpreter per batch-size bucket -
1, 2, 4, ... up to ``MAX_BUCKET`` rows - all built at load; a batch is padded with zero rows up to its
bucket, and a larger batch runs in ``MAX_BUCKET``-row chunks. Rows never mix inside the model, so padding
changes no answer. An interpreter is not safe for two threads at once: one lock serialises the calls,
which cost microseconds (``bench/bench_serving.py`` compares it with one interpreter set per thread).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from components.serving.feature_batch import FeatureBatch
from contracts.core_contract import CATEGORY_IDS_INPUT, NUMBERS_INPUT, CoreContract
from contracts.errors import ModelContractError, ModelUnavailableError, ServingError
from contracts.vocabulary import CategoryIds

MAX_BUCKET = 1024
# Up to this many rows the id matrix is built row by row in Python, in its final layout.
_ROW_WISE_IDS = 32
_SIGNATURE = "serving_default"


class _Bucket:
    """One interpreter sized for ``rows`` rows, with the indices of its tensors."""

    def __init__(self, flatbuffer: bytes, contract: CoreContract, rows: int, threads: int) -> None:
        from ai_edge_litert.interpreter import Interpreter

        self.rows = rows
        self.interpreter = Interpreter(model_content=flatbuffer, num_threads=threads)
        runner = self.interpreter.get_signature_runner(_SIGNATURE)
        inputs, outputs = runner.get_input_details(), runner.get_output_details()
        del runner  # it holds tensor buffers, which would forbid resizing below
        if set(inputs) != {NUMBERS_INPUT, CATEGORY_IDS_INPUT} or contract.output not in outputs:
            raise ModelContractError(
                f"model.tflite takes {sorted(inputs)} and gives {sorted(outputs)}; model.json promises "
                f"{[NUMBERS_INPUT, CATEGORY_IDS_INPUT]} and {contract.output!r}"
            )
        _check_input(inputs[NUMBERS_INPUT], len(contract.numeric), np.float32)
        _check_input(inputs[CATEGORY_IDS_INPUT], len(contract.categorical), np.int32)
        self.numbers = inputs[NUMBERS_INPUT]["index"]
        self.ids = inputs[CATEGORY_IDS_INPUT]["index"]
        self.output = outputs[contract.output]["index"]
        self.interpreter.resize_tensor_input(self.numbers, [rows, len(contract.numeric)])
        self.interpreter.resize_tensor_input(self.ids, [rows, len(contract.categorical)])
        self.interpreter.allocate_tensors()

    def run(self, numbers: np.ndarray, ids: np.ndarray) -> np.ndarray:
        interpreter = self.interpreter
        interpreter.set_tensor(self.numbers, numbers)
        interpreter.set_tensor(self.ids, ids)
        interpreter.invoke()
        return interpreter.get_tensor(self.output)


class TflitePredictor:
    """The TFLite core of one model folder behind the ``predict(columns)`` interface of every backend.

    Args:
        model_dir: The model folder.
        contract: The ``"tflite"`` section of its ``model.json``.
        threads: LiteRT threads per interpreter; 1 suits several server workers per core.

    Attributes:
        input_dtypes: Per feature, ``"float32"`` or ``"string"`` (what ``predict`` takes).
        output_name: The core's output name.

    Raises:
        ModelUnavailableError: when ``model.tflite`` is missing, unreadable, or not the contract's shape.
    """

    def __init__(self, model_dir: Path, contract: CoreContract, *, threads: int = 1) -> None:
        path = Path(model_dir) / contract.file
        try:
            flatbuffer = path.read_bytes()
        except OSError as exc:
            raise ModelUnavailableError(f"cannot read the TFLite core {path}: {exc}") from exc
        try:
            self._lookups = [
                (name, CategoryIds(contract.vocabularies[name])) for name in contract.categorical
            ]
            self._buckets = [
                _Bucket(flatbuffer, contract, rows, threads) for rows in _bucket_sizes(MAX_BUCKET)
            ]
        except ModelContractError as exc:
            raise ModelUnavailableError(f"the TFLite core {path} breaks its contract: {exc}") from exc
        except (ValueError, RuntimeError) as exc:  # LiteRT's errors for a file that is not a model
            raise ModelUnavailableError(f"cannot load the TFLite core {path}: {exc}") from exc
        self._numeric = contract.numeric
        self._categorical = contract.categorical
        self._lock = threading.Lock()
        self.input_dtypes = {name: "float32" for name in contract.numeric} | {
            name: "string" for name in contract.categorical
        }
        self.output_name = contract.output

    def predict(self, batch: FeatureBatch) -> np.ndarray:
        """The probability per row, float64 of shape (rows,).

        Raises:
            ServingError: when the interpreter fails (status 500).
        """
        rows = batch.rows
        numbers = batch.number_matrix(self._numeric, np.float32)
        strings = batch.string_columns(self._categorical)
        # Ids are looked up in Python and converted once: a numpy call per feature costs more for one row.
        id_lists = [
            lookup.id_list(values) for (_, lookup), values in zip(self._lookups, strings, strict=True)
        ]
        if rows <= _ROW_WISE_IDS and id_lists:
            ids = np.array(list(zip(*id_lists, strict=True)), dtype=np.int32)  # (rows, features) as it is
        else:
            ids = np.ascontiguousarray(np.array(id_lists, dtype=np.int32).reshape(len(id_lists), rows).T)
        if rows <= MAX_BUCKET:
            return self._run(numbers, ids)
        probabilities = np.empty(rows, dtype=np.float64)
        for start in range(0, rows, MAX_BUCKET):
            stop = min(rows, start + MAX_BUCKET)
            probabilities[start:stop] = self._run(numbers[start:stop], ids[start:stop])
        return probabilities

    def _run(self, numbers: np.ndarray, ids: np.ndarray) -> np.ndarray:
        rows = len(numbers)
        bucket = self._buckets[(rows - 1).bit_length()]
        if rows < bucket.rows:
            numbers = _padded(numbers, bucket.rows)
            ids = _padded(ids, bucket.rows)
        try:
            with self._lock:
                output = bucket.run(numbers, ids)
        except (ValueError, RuntimeError) as exc:
            raise ServingError(f"the TFLite core failed: {exc}", reason="MODEL_CALL_FAILED") from exc
        return output[:rows, 0].astype(np.float64)


def _bucket_sizes(largest: int) -> list[int]:
    sizes = [1]
    while sizes[-1] < largest:
        sizes.append(sizes[-1] * 2)
    return sizes


def _padded(matrix: np.ndarray, rows: int) -> np.ndarray:
    padded = np.zeros((rows, matrix.shape[1]), dtype=matrix.dtype)
    padded[: len(matrix)] = matrix
    return padded


def _check_input(details: Mapping[str, Any], columns: int, dtype: type) -> None:
    shape = [int(size) for size in details["shape_signature"]]
    if len(shape) != 2 or shape[1] != columns or shape[0] not in (-1, 1) or details["dtype"] is not dtype:
        raise ModelContractError(
            f"model.tflite input {details['name']!r} is {details['dtype'].__name__} {shape}; "
            f"expected {dtype.__name__} [-1, {columns}]"
        )
