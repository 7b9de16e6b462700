"""Runs the SavedModel's ``serving_default`` signature on validated columns, one call per request.

Two ways to call the same signature, measured on 2 cores (``bench/bench_serving.py`` repeats this):

- ``session``: the signature's graph in a TF1 ``Session`` through ``make_callable``: ~0.3 ms per call,
  about half the cost of the TF2 path, because the feed skips eager tensor conversion and the
  ``ConcreteFunction`` argument handling. The default.
- ``signature``: ``tf.saved_model.load(...).signatures["serving_default"]``, the TF2 path.

A ``tf.function`` wrapped around the signature measured slower than the signature itself (it adds a
trace-cache lookup to the same call), so it is not offered. Both paths read input names, dtypes and the
single output's name from the signature itself; tests check they return the same probabilities.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf

from components.errors import ModelUnavailableError, ServingError

SIGNATURE = "serving_default"


class Backend(StrEnum):
    SESSION = "session"
    SIGNATURE = "signature"


class Predictor:
    """One loaded SavedModel signature: named inputs of shape (None, 1) to one (None, 1) probability.

    Attributes:
        input_dtypes: Per input name, ``"string"`` or ``"float32"`` (the tensor dtype it is fed as).
        output_name: The signature's single output key.
    """

    def __init__(
        self,
        call: Callable[[Mapping[str, np.ndarray]], np.ndarray],
        input_dtypes: Mapping[str, str],
        output_name: str,
    ) -> None:
        self._call = call
        self.input_dtypes = dict(input_dtypes)
        self.output_name = output_name

    def predict(self, columns: Mapping[str, np.ndarray]) -> np.ndarray:
        """The probability per row, float64 of shape (rows,).

        Args:
            columns: One array of shape (rows,) per input: numbers (any numeric dtype, NaN for missing) or
                an object array of str.

        Raises:
            ServingError: when the model call fails or returns a wrongly shaped output (status 500).
        """
        feeds = {}
        for name, dtype in self.input_dtypes.items():
            column = columns[name]
            feeds[name] = (column if dtype == "string" else column.astype(np.float32)).reshape(-1, 1)
        rows = len(next(iter(feeds.values())))
        try:
            output = np.asarray(self._call(feeds), dtype=np.float64)
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
    if not (saved_model_dir / "saved_model.pb").is_file():
        raise ModelUnavailableError(f"no SavedModel in {saved_model_dir}")
    try:
        if backend is Backend.SESSION:
            return _load_session(saved_model_dir, threads)
        return _load_signature(saved_model_dir, threads)
    except (OSError, ValueError, KeyError, tf.errors.OpError) as exc:
        raise ModelUnavailableError(f"cannot load the SavedModel {saved_model_dir}: {exc}") from exc


def _load_session(saved_model_dir: Path, threads: int) -> Predictor:
    graph = tf.Graph()
    config = tf.compat.v1.ConfigProto(
        intra_op_parallelism_threads=threads, inter_op_parallelism_threads=threads
    )
    session = tf.compat.v1.Session(graph=graph, config=config)
    with graph.as_default():
        meta_graph = tf.compat.v1.saved_model.loader.load(session, ["serve"], str(saved_model_dir))
    signature = meta_graph.signature_def[SIGNATURE]
    dtypes = {
        name: _dtype_of(name, tf.dtypes.as_dtype(info.dtype)) for name, info in signature.inputs.items()
    }
    for name, info in signature.inputs.items():
        _check_shape(f"input {name!r}", [dim.size for dim in info.tensor_shape.dim])
    output_name, output_info = _single_output(dict(signature.outputs))
    _check_shape(f"output {output_name!r}", [dim.size for dim in output_info.tensor_shape.dim])
    names = sorted(dtypes)
    run = session.make_callable(output_info.name, [signature.inputs[name].name for name in names])

    def call(feeds: Mapping[str, np.ndarray]) -> np.ndarray:
        return np.asarray(run(*(feeds[name] for name in names)))

    return Predictor(call, dtypes, output_name)


def _load_signature(saved_model_dir: Path, threads: int) -> Predictor:
    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:
        pass  # the eager context already exists in this process; its thread pools stay as they are
    loaded = tf.saved_model.load(str(saved_model_dir))
    signature = loaded.signatures[SIGNATURE]
    specs = signature.structured_input_signature[1]
    dtypes = {name: _dtype_of(name, spec.dtype) for name, spec in specs.items()}
    for name, spec in specs.items():
        _check_shape(f"input {name!r}", spec.shape.as_list())
    output_name, output_spec = _single_output(dict(signature.structured_outputs))
    _check_shape(f"output {output_name!r}", output_spec.shape.as_list())

    def call(feeds: Mapping[str, np.ndarray]) -> np.ndarray:
        tensors = {name: tf.constant(value) for name, value in feeds.items()}
        return signature(**tensors)[output_name].numpy()

    # The loaded object owns the variables the signature reads; keep it alive with the closure.
    call.loaded = loaded  # type: ignore[attr-defined]
    return Predictor(call, dtypes, output_name)


def _dtype_of(name: str, dtype: tf.dtypes.DType) -> str:
    if dtype == tf.string:
        return "string"
    if dtype == tf.float32:
        return "float32"
    raise ModelUnavailableError(
        f"signature input {name!r} has dtype {dtype.name}; expected float32 or string"
    )


def _single_output(outputs: dict[str, Any]) -> tuple[str, Any]:
    if len(outputs) != 1:
        raise ModelUnavailableError(f"the signature has outputs {sorted(outputs)}; expected exactly one")
    return next(iter(outputs.items()))


def _check_shape(what: str, dims: list[int | None]) -> None:
    if len(dims) != 2 or dims[0] not in (None, -1) or dims[1] != 1:
        raise ModelUnavailableError(f"signature {what} has shape {dims}; expected (None, 1)")
