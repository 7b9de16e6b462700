"""The Seldon Core v1 model class that serves the flight-delay model over REST and gRPC.

Start it with ``seldon-core-microservice components.serving.model.FlightDelayModel`` and the
constructor parameters as ``--parameters`` (``components/processes.py`` does this), or build it in
process and hand it to ``seldon_core.wrapper.get_rest_microservice``.

It implements ``predict_raw`` rather than ``predict``: Seldon's ``predict`` path turns a mixed-type
``ndarray`` into one numpy array of strings before the model sees it, after which ``1`` and ``"1"``
can no longer be told apart, so a type check would be impossible. A refused request is answered with a
Seldon failure status carrying the 4xx code (REST uses it as the HTTP status; gRPC returns it in
``SeldonMessage.status``, since Seldon's gRPC servicer gives the model no call context to abort with),
so the refusal is counted and logged like any answer. A model failure is raised and becomes a 5xx.
"""

from __future__ import annotations

import itertools
import json
import logging
import math
import os
import random
import time
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from google.protobuf import json_format
from seldon_core.flask_utils import SeldonMicroserviceException
from seldon_core.proto import prediction_pb2

from components.serving.backend_kinds import Backend, parse_backend
from components.serving.backends import LoadedModel, core_contract, load_backend, resolve_backend
from components.serving.batching import RowPredictor, coalescing
from components.serving.chaos import read_fault
from components.serving.feature_batch import FeatureBatch
from components.serving.gc_freeze import freeze_loaded_objects
from components.serving.metric_table import install_atomic_update
from components.serving.request_log import RequestLog, rejected_record, served_record
from components.serving.rest_hooks import error_blueprint
from components.serving.telemetry import DEFAULT_FLUSH_SECONDS, Telemetry
from components.serving.validation import DEFAULT_MAX_ROWS, RequestValidator, request_id
from contracts.data_contract import Kind
from contracts.errors import BadRequestError, ModelUnavailableError, ServingError
from contracts.names import METADATA_FILE, MODEL_NAME, OUTPUT_NAME, SCHEMA_FILE
from contracts.serving_schema import ServingSchema

logger = logging.getLogger(__name__)


class FlightDelayModel:
    """Serves one model folder (``model.tflite`` or ``saved_model/``, ``model.json``, ``serving_schema.json``).

    Args:
        model_uri: The model folder, a local path or a ``file://`` URI. In a cluster, Seldon's storage
            initializer downloads remote URIs to a local folder first; other schemes are refused.
        model_version: The version reported in every response's tags; empty means ``model.json``'s
            ``version`` key, and a folder with neither is refused.
        request_log: Folder for the request log (one ``requests-<pid>.jsonl`` per server process);
            empty disables logging.
        max_rows: Largest batch accepted per request (status 413 above it).
        backend: ``auto`` (the default: ``tflite`` when the folder has a TFLite core, else ``session``),
            ``tflite``, ``session`` or ``function`` (see ``components/serving/backends.py``).
        tf_threads: Inference threads per server process (LiteRT or TensorFlow).
        coalesce: Let concurrent requests of one process share model calls
            (``components/serving/batching.py``).
        metrics_flush_seconds: How often a worker hands its counts to Seldon: one response per interval
            carries them in ``meta.metrics``, the others carry none and cost Seldon nothing; 0 puts
            them in every response. A worker's last partial interval goes out with its next request or
            ``/health/status`` call (``components/serving/telemetry.py``).

    Constructing one makes Seldon's metric-table update atomic in this process and the workers it forks
    (``components/serving/metric_table.py``): without that, concurrent requests lose counts.

    Raises:
        ModelUnavailableError: when the folder, its schema or its metadata cannot be read.
        ConfigError: for a negative or non-finite ``metrics_flush_seconds``.
    """

    def __init__(
        self,
        model_uri: str,
        model_version: str = "",
        request_log: str = "",
        max_rows: int = DEFAULT_MAX_ROWS,
        backend: str = "auto",
        tf_threads: int = 1,
        coalesce: bool = True,
        metrics_flush_seconds: float = DEFAULT_FLUSH_SECONDS,
    ) -> None:
        self.model_dir = local_model_dir(model_uri)
        # Cheap reads happen here, in the gunicorn master, so a broken folder fails the start at once;
        # TensorFlow loads in ``load``, which Seldon calls in every worker after the fork.
        self.schema = ServingSchema.read(self.model_dir / SCHEMA_FILE)
        metadata = _read_metadata(self.model_dir / METADATA_FILE)
        _check_metadata_inputs(metadata, self.schema)
        self.model_version = model_version or str(metadata.get("version") or "")
        if not self.model_version:
            raise ModelUnavailableError(
                f"no model_version given and none in {self.model_dir / METADATA_FILE}"
            )
        self.validator = RequestValidator(self.schema, max_rows=max_rows)
        self._core = core_contract(metadata)
        self.backend = resolve_backend(parse_backend(backend), self.model_dir, self._core)
        self.tf_threads = tf_threads
        self.coalesce = coalesce
        self.request_log = RequestLog(Path(request_log)) if request_log else None
        # Fault injection for rollout tests; refused unless the server runs in chaos mode.
        self.fault = read_fault(self.model_dir, os.environ)
        self._fault_rng = random.Random()
        self.telemetry = Telemetry(flush_seconds=metrics_flush_seconds)
        install_atomic_update()
        self._predictor: RowPredictor[FeatureBatch] | None = None
        self._request_ids = RequestIds()
        self.model_error_handler = error_blueprint()

    def load(self) -> None:
        """Loads the model for the chosen backend and checks its inputs against the serving schema.

        Seldon calls this in every worker after the fork.
        """
        predictor = load_backend(self.backend, self.model_dir, self._core, threads=self.tf_threads)
        _check_inputs(predictor, self.schema)
        self._predictor = coalescing(predictor) if self.coalesce else predictor
        self.health_status()  # the first call builds TensorFlow's kernels: pay it here, not on a request
        freeze_loaded_objects()  # a full collection would otherwise walk TensorFlow's objects: 240 ms
        logger.info("loaded %s version %s (%s backend)", self.model_dir, self.model_version, self.backend)

    def predict_raw(self, message: Any) -> Any:
        """Answers one Seldon request (a decoded JSON body or a ``SeldonMessage``).

        Returns:
            The response in the request's form: probabilities under ``data`` with names
            ``["delay_probability"]``, or a failure ``status`` with a 4xx code naming the field at fault.
            Both carry ``meta.puid`` and ``meta.tags`` (model name and version).

        Raises:
            SeldonMicroserviceException: status 5xx when the model is not loaded or its call fails.
        """
        is_proto = isinstance(message, prediction_pb2.SeldonMessage)
        body = json_format.MessageToDict(message) if is_proto else message
        protocol = "grpc" if is_proto else "rest"
        puid = request_id(body) or self._request_ids.next()
        received = time.time()
        try:
            batch = self.validator.parse(body)
            probabilities = self._loaded().predict(batch)
            if self.fault is not None:
                probabilities = self.fault.apply(probabilities, self._fault_rng)
        except ServingError as exc:
            return self._refuse(exc, body, puid, received, protocol, is_proto)
        values = probabilities.tolist()
        self.telemetry.served(values)
        if self.request_log is not None:
            self.request_log.append(
                served_record(received, puid, self.model_version, batch, probabilities, protocol=protocol)
            )
        response = {
            "data": {"names": [OUTPUT_NAME], "ndarray": [[value] for value in values]},
            "meta": self._meta(puid),
        }
        return _as_proto(response) if is_proto else response

    def health_status(self) -> dict[str, Any]:
        """Runs a canned row through validation and the model; raises (a 5xx) unless it yields a probability."""
        try:
            batch = self.validator.parse({"jsonData": _canned_record(self.schema)})
            probability = float(self._loaded().predict(batch)[0])
        except ServingError as exc:
            raise _seldon_error(exc) from exc
        if not (math.isfinite(probability) and 0.0 <= probability <= 1.0):
            raise SeldonMicroserviceException(
                f"the model returned {probability} for the canned row", status_code=500, reason="UNHEALTHY"
            )
        return {"status": "ok", "model_version": self.model_version, "probe_probability": probability}

    def tags(self) -> dict[str, str]:
        """Tags Seldon adds to every response's ``meta.tags``."""
        return {"model_name": MODEL_NAME, "model_version": self.model_version}

    def metrics(self) -> list[dict[str, Any]]:
        """Every count not yet handed to Seldon, in Seldon's format (``components/serving/telemetry.py``).

        Responses carry it once per flush interval; Seldon also calls this on ``/health/status``
        (tagging the series ``method="health"``), which publishes a worker's last partial interval.
        """
        if self.request_log is not None:
            self.telemetry.log_records_dropped(self.request_log.dropped)
        return self.telemetry.drain()

    def init_metadata(self) -> dict[str, Any]:
        """Seldon's ``/api/v1.0/metadata``: the accepted inputs (the serving schema) and the output."""
        return {
            "name": MODEL_NAME,
            "versions": [self.model_version],
            "platform": "tflite" if self.backend is Backend.TFLITE else "tensorflow",
            "inputs": [
                {"messagetype": "ndarray", "schema": {"names": list(self.schema.names)}},
                {"messagetype": "jsonData", "schema": self.schema.to_dict()},
            ],
            "outputs": [{"messagetype": "ndarray", "schema": {"names": [OUTPUT_NAME], "shape": [1]}}],
        }

    def _loaded(self) -> RowPredictor[FeatureBatch]:
        if self._predictor is None:
            raise ModelUnavailableError("the model is not loaded yet")
        return self._predictor

    def _refuse(
        self, error: ServingError, body: Any, puid: str, received: float, protocol: str, is_proto: bool
    ) -> Any:
        self.telemetry.refused(error.reason, status=error.status_code)
        if self.request_log is not None:
            self.request_log.append(
                rejected_record(
                    received,
                    puid,
                    self.model_version,
                    body,
                    status=error.status_code,
                    reason=error.reason,
                    error=error.message,
                    protocol=protocol,
                )
            )
        if not isinstance(error, BadRequestError):
            logger.error("request %s failed: %s", puid, error.message)
            raise _seldon_error(error) from error
        response = {
            "status": {
                "code": error.status_code,
                "info": error.message,
                "reason": error.reason,
                "status": "FAILURE",
            },
            "meta": self._meta(puid),
        }
        return _as_proto(response) if is_proto else response

    def _meta(self, puid: str) -> dict[str, Any]:
        meta: dict[str, Any] = {"puid": puid, "tags": self.tags()}
        # Seldon's wrapper adds a response's meta.metrics to its table; most responses bring none.
        if self.telemetry.due() and (metrics := self.metrics()):
            meta["metrics"] = metrics
        return meta


class RequestIds:
    """Request ids for requests that bring none: a random prefix per process and a counter.

    ``uuid4`` reads the kernel's random source on every call, which showed in profiles of a loaded
    server; 48 random bits per process and a 40-bit counter keep ids unique across workers and restarts.
    The prefix is drawn again in a forked child, so gunicorn workers never share one.
    """

    def __init__(self) -> None:
        self._pid = -1
        self._prefix = ""
        self._counter = itertools.count()

    def next(self) -> str:
        """A new id: 22 hex digits."""
        if self._pid != os.getpid():
            self._pid, self._prefix, self._counter = os.getpid(), os.urandom(6).hex(), itertools.count()
        return f"{self._prefix}{next(self._counter) & 0xFFFFFFFFFF:010x}"


def local_model_dir(model_uri: str) -> Path:
    """The local folder of a model URI (a path or ``file://``).

    Raises:
        ModelUnavailableError: for another scheme or a folder that does not exist.
    """
    parsed = urlparse(model_uri)
    if parsed.scheme == "file":
        path = Path(unquote(parsed.path))
    elif not parsed.scheme:
        path = Path(model_uri)
    else:
        raise ModelUnavailableError(
            f"model_uri {model_uri!r}: only local paths and file:// URIs are served; in a cluster "
            "Seldon's storage initializer downloads remote models to a local folder first"
        )
    if not path.is_dir():
        raise ModelUnavailableError(f"model folder {path} does not exist")
    return path.resolve()


def _seldon_error(error: ServingError) -> SeldonMicroserviceException:
    # Seldon's REST app turns this exception (and only this one) into a response with its status code.
    return SeldonMicroserviceException(error.message, status_code=error.status_code, reason=error.reason)


def _as_proto(response: dict[str, Any]) -> prediction_pb2.SeldonMessage:
    return json_format.ParseDict(response, prediction_pb2.SeldonMessage())


def _read_metadata(path: Path) -> dict[str, Any]:
    try:
        metadata = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelUnavailableError(f"cannot read model metadata {path}: {exc}") from exc
    if not isinstance(metadata, dict):
        raise ModelUnavailableError(f"model metadata {path} is not a JSON object")
    return metadata


def _check_metadata_inputs(metadata: dict[str, Any], schema: ServingSchema) -> None:
    # model.json (written by training) and serving_schema.json (exported from the curated data schema)
    # come from two steps; a feature or kind that differs between them means they do not belong together.
    inputs = metadata.get("inputs")
    if not isinstance(inputs, list) or not all(isinstance(item, dict) for item in inputs):
        raise ModelUnavailableError("model.json has no 'inputs' list of {name, kind} objects")
    trained = {str(item.get("name")): str(item.get("kind")) for item in inputs}
    served = {feature.name: str(feature.kind) for feature in schema.features}
    if trained != served:
        differing = sorted(
            name for name in trained.keys() | served.keys() if trained.get(name) != served.get(name)
        )
        raise ModelUnavailableError(f"model.json inputs and the serving schema differ on {differing}")


def _check_inputs(predictor: LoadedModel, schema: ServingSchema) -> None:
    expected = {f.name: "string" if f.kind is Kind.STRING else "float32" for f in schema.features}
    if predictor.input_dtypes != expected:
        differing = sorted(
            name
            for name in expected.keys() | predictor.input_dtypes.keys()
            if expected.get(name) != predictor.input_dtypes.get(name)
        )
        raise ModelUnavailableError(f"the model's inputs and the serving schema differ on {differing}")


def _canned_record(schema: ServingSchema) -> dict[str, Any]:
    record: dict[str, Any] = {}
    for feature in schema.features:
        if feature.kind is Kind.STRING:
            record[feature.name] = feature.allowed_values[0] if feature.allowed_values else ""
            continue
        low, high = feature.minimum, feature.maximum
        middle = (
            (low + high) / 2 if low is not None and high is not None else (low if low is not None else high)
        )
        value = 0.0 if middle is None else middle
        record[feature.name] = math.floor(value) if feature.kind is Kind.INT else value
    return record
