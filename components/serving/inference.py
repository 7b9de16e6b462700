"""The SavedModel backends: the ``serving_default`` signature on a validated batch, one call per request.

The default inference path is the TFLite core (``tflite_predictor.py``); these two serve model folders
without one, and remain the reference the core is compared with. The signature takes one (None, 1)
tensor per raw feature: 22 feeds. Feeding them one by one costs more Python than the model costs
TensorFlow, so both backends pack the request into two tensors - an (rows, numeric features) float32
matrix and an (rows, string features) string matrix - and split them back into the signature's inputs
inside the graph. Measured per call in process on 2 shared cores (``make bench-serving``, best of
several rounds, one run):

==================================  =======  ========  =========
path                                1 row    100 rows  1000 rows
==================================  =======  ========  =========
signature, 22 eager feeds           402 us
``function``: tf.function, packed   246 us    288 us    630 us
``session``: TF1 session, packed    207 us    257 us    550 us
``tflite``: LiteRT, TFLite core      13 us     73 us    500 us
==================================  =======  ========  =========

- ``session``: the SavedModel graph imported into a ``tf.compat.v1.Session`` with its input
  placeholders mapped onto slices of the two packed placeholders, called through ``make_callable``.
- ``function``: a ``tf.function`` with a fixed two-tensor input signature that slices and calls the
  TF2 signature (public TF2 API only, slower than ``session``).

Both read input names, dtypes and the single output's name from the signature itself; tests check they
return the same probabilities as each other and as the plain signature.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf
from google.protobuf.message import DecodeError
from tensorflow.core.protobuf import saved_model_pb2

from components.serving.backend_kinds import Backend
from components.serving.feature_batch import FeatureBatch
from contracts.errors import ModelUnavailableError, ServingError

SIGNATURE = "serving_default"
SERVE_TAG = "serve"
SAVED_MODEL_BACKENDS = (Backend.SESSION, Backend.FUNCTION)

Call = Callable[[np.ndarray, np.ndarray], Any]


class Predictor:
    """One loaded SavedModel signature: named inputs of shape (None, 1) to one (None, 1) probability.

    Attributes:
        input_dtypes: Per input name, ``"string"`` or ``"float32"`` (the tensor dtype it is fed as).
        output_name: The signature's single output key.
    """

    def __init__(self, call: Call, numeric: Sequence[str], strings: Sequence[str], output_name: str) -> None:
        self._call = call
        self._numeric = tuple(numeric)
        self._strings = tuple(strings)
        self.input_dtypes = {name: "float32" for name in numeric} | {name: "string" for name in strings}
        self.output_name = output_name

    def predict(self, batch: FeatureBatch) -> np.ndarray:
        """The probability per row, float64 of shape (rows,).

        Raises:
            ServingError: when the model call fails or returns a wrongly shaped output (status 500).
        """
        rows = batch.rows
        numbers = batch.number_matrix(self._numeric, np.float32)
        strings = np.empty((len(self._strings), rows), dtype=object)
        strings[:] = batch.string_columns(self._strings)
        strings = strings.T
        try:
            output = np.asarray(self._call(numbers, strings), dtype=np.float64)
        except (tf.errors.OpError, ValueError, TypeError) as exc:
            raise ServingError(f"the model call failed: {exc}", reason="MODEL_CALL_FAILED") from exc
        if output.shape != (rows, 1):
            raise ServingError(
                f"the model returned shape {output.shape} for {rows} rows", reason="MODEL_CALL_FAILED"
            )
        return output[:, 0]


def load_predictor(
    saved_model_dir: Path, *, backend: Backend = Backend.SESSION, threads: int = 1
) -> Predictor:
    """Loads ``saved_model_dir`` and checks its signature's shape contract.

    Args:
        saved_model_dir: A TF SavedModel folder with a ``serving_default`` signature.
        backend: How the signature is called (see the module docstring).
        threads: TensorFlow intra- and inter-op threads; 1 suits several server workers per core.

    Raises:
        ModelUnavailableError: when the folder cannot be loaded or the signature breaks the contract.
    """
    if backend not in SAVED_MODEL_BACKENDS:
        raise ModelUnavailableError(f"backend {backend!r} does not run a SavedModel")
    graph_file = saved_model_dir / "saved_model.pb"
    if not graph_file.is_file():
        raise ModelUnavailableError(f"no SavedModel in {saved_model_dir}")
    try:
        signature = _read_signature(graph_file)
        numeric, strings, output_name = _check_signature(signature)
        if backend is Backend.SESSION:
            call = _session_call(saved_model_dir, signature, numeric, strings, output_name, threads)
        else:
            call = _function_call(saved_model_dir, numeric, strings, output_name, threads)
    except (OSError, ValueError, KeyError, tf.errors.OpError) as exc:
        raise ModelUnavailableError(f"cannot load the SavedModel {saved_model_dir}: {exc}") from exc
    return Predictor(call, numeric, strings, output_name)


def _read_signature(graph_file: Path) -> Any:
    try:
        saved = saved_model_pb2.SavedModel.FromString(graph_file.read_bytes())
    except DecodeError as exc:
        raise ModelUnavailableError(f"{graph_file} is not a SavedModel: {exc}") from exc
    for meta_graph in saved.meta_graphs:
        if SERVE_TAG in meta_graph.meta_info_def.tags:
            if SIGNATURE not in meta_graph.signature_def:
                raise ModelUnavailableError(f"the SavedModel has no {SIGNATURE!r} signature")
            return meta_graph.signature_def[SIGNATURE]
    raise ModelUnavailableError(f"the SavedModel has no {SERVE_TAG!r} graph")


def _check_signature(signature: Any) -> tuple[list[str], list[str], str]:
    numeric, strings = [], []
    for name in sorted(signature.inputs):
        info = signature.inputs[name]
        _check_shape(f"input {name!r}", [dim.size for dim in info.tensor_shape.dim])
        if _dtype_of(name, tf.dtypes.as_dtype(info.dtype)) == "string":
            strings.append(name)
        else:
            numeric.append(name)
    if len(signature.outputs) != 1:
        raise ModelUnavailableError(
            f"the signature has outputs {sorted(signature.outputs)}; expected exactly one"
        )
    output_name = next(iter(signature.outputs))
    _check_shape(
        f"output {output_name!r}", [dim.size for dim in signature.outputs[output_name].tensor_shape.dim]
    )
    return numeric, strings, output_name


def _session_call(
    saved_model_dir: Path,
    signature: Any,
    numeric: list[str],
    strings: list[str],
    output_name: str,
    threads: int,
) -> Call:
    graph = tf.Graph()
    with graph.as_default():
        packed_numbers = tf.compat.v1.placeholder(tf.float32, [None, len(numeric)], name="packed_numbers")
        packed_strings = tf.compat.v1.placeholder(tf.string, [None, len(strings)], name="packed_strings")
        input_map = {}
        for group, packed in ((numeric, packed_numbers), (strings, packed_strings)):
            if group:
                slices = tf.split(packed, len(group), axis=1)
                input_map.update(
                    {signature.inputs[name].name: column for name, column in zip(group, slices, strict=True)}
                )
        config = tf.compat.v1.ConfigProto(
            intra_op_parallelism_threads=threads, inter_op_parallelism_threads=threads
        )
        session = tf.compat.v1.Session(graph=graph, config=config)
        tf.compat.v1.saved_model.loader.load(session, [SERVE_TAG], str(saved_model_dir), input_map=input_map)
        output = graph.get_tensor_by_name(signature.outputs[output_name].name)
    return session.make_callable(output, [packed_numbers, packed_strings])


def _function_call(
    saved_model_dir: Path, numeric: list[str], strings: list[str], output_name: str, threads: int
) -> Call:
    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:
        pass  # the eager context already exists in this process; its thread pools stay as they are
    loaded = tf.saved_model.load(str(saved_model_dir))
    signature = loaded.signatures[SIGNATURE]

    @tf.function(
        input_signature=[
            tf.TensorSpec([None, len(numeric)], tf.float32),
            tf.TensorSpec([None, len(strings)], tf.string),
        ]
    )
    def packed(numbers: tf.Tensor, texts: tf.Tensor) -> tf.Tensor:
        feeds = {name: numbers[:, i : i + 1] for i, name in enumerate(numeric)}
        feeds |= {name: texts[:, i : i + 1] for i, name in enumerate(strings)}
        return signature(**feeds)[output_name]

    concrete = packed.get_concrete_function()

    def call(numbers: np.ndarray, texts: np.ndarray) -> Any:
        return concrete(tf.constant(numbers), tf.constant(texts)).numpy()

    # The loaded object owns the variables the signature reads; keep it alive with the closure.
    call.loaded = loaded  # type: ignore[attr-defined]
    return call


def _dtype_of(name: str, dtype: tf.dtypes.DType) -> str:
    if dtype == tf.string:
        return "string"
    if dtype == tf.float32:
        return "float32"
    raise ModelUnavailableError(
        f"signature input {name!r} has dtype {dtype.name}; expected float32 or string"
    )


def _check_shape(what: str, dims: list[int | None]) -> None:
    if len(dims) != 2 or dims[0] not in (None, -1) or dims[1] != 1:
        raise ModelUnavailableError(f"signature {what} has shape {dims}; expected (None, 1)")
