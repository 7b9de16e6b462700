"""A Seldon Core input TRANSFORMER: booking-time requests in, the model's full feature rows out.

In a cluster it is the first node of the SeldonDeployment's graph (``type: TRANSFORMER``): Seldon's
executor sends each request to ``/transform-input`` and the answer on to the model. Without a cluster
there is no executor, so ``mlops serve`` starts it as a model whose ``predict`` transforms the request
and forwards it to the model server at ``model_url`` — the same transformation, chained by hand.

For every row it looks up the weather at the origin, the aircraft's facts and the carrier's and route's
recent delay rates from Feast's feature server, fills what the store does not know with the recorded
defaults (``booking.py``), and names the defaulted features in ``meta.tags.features_defaulted``.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from seldon_core.flask_utils import SeldonMicroserviceException

from components.features.booking import complete_row, entity_row, refuse_looked_up_fields
from components.features.client import FeatureClient, JsonConnection
from contracts.errors import BadRequestError, FeatureStoreError, ModelUnavailableError, ServingError
from contracts.names import SCHEMA_FILE
from contracts.serving_schema import ServingSchema

logger = logging.getLogger(__name__)

PREDICTIONS_PATH = "/api/v1.0/predictions"


class FeatureTransformer:
    """Fills store features into ``jsonData`` requests for the model whose serving schema it reads.

    Args:
        feature_server_url: Feast's feature server, ``http://host:port``.
        model_uri: The model folder (local path or ``file://``): its ``serving_schema.json`` says which
            store features the model reads.
        model_url: The model server's base URL; when set, ``predict`` forwards the transformed request
            there (local chaining). Empty in a cluster, where Seldon's executor does it.
        timeout: Seconds per feature lookup and per forwarded request.

    Raises:
        ModelUnavailableError: when the model's serving schema cannot be read.
    """

    def __init__(
        self, feature_server_url: str, model_uri: str, model_url: str = "", timeout: float = 5.0
    ) -> None:
        folder = (
            Path(unquote(urlparse(model_uri).path)) if model_uri.startswith("file://") else Path(model_uri)
        )
        try:
            self.model_inputs = ServingSchema.read(folder / SCHEMA_FILE).names
        except (OSError, ServingError, ValueError) as exc:
            raise ModelUnavailableError(f"cannot read the model's serving schema in {folder}: {exc}") from exc
        self.features = FeatureClient(feature_server_url, timeout=timeout)
        self.model_url = model_url.rstrip("/")
        self.model = JsonConnection(self.model_url, timeout, name="the model server") if model_url else None
        self.timeout = timeout

    def transform_input_raw(self, message: Any) -> dict[str, Any]:
        """Seldon's TRANSFORMER hook: the request with every store feature the model reads filled in.

        Raises:
            SeldonMicroserviceException: 400 for a request without its entities or carrying store
                features, 503 when the feature server cannot answer.
        """
        try:
            return self.transform(message)
        except ServingError as exc:
            raise SeldonMicroserviceException(
                exc.message, status_code=exc.status_code, reason=exc.reason
            ) from exc

    def transform(self, message: Any) -> dict[str, Any]:
        """The transformed request (``jsonData`` of the same shape) with ``meta.tags.features_defaulted``.

        Raises:
            BadRequestError: for a request that is not ``jsonData`` rows with their entities.
            ServingError: status 503 when the feature server cannot answer.
        """
        rows, single = _json_rows(message)
        for row in rows:
            refuse_looked_up_fields(row)
        entities = [entity_row(row) for row in rows]
        try:
            looked_up = self.features.lookup(entities)
        except FeatureStoreError as exc:
            raise ServingError(str(exc), status_code=503, reason="FEATURE_STORE_UNAVAILABLE") from exc
        completed = [
            complete_row(row, online.values, online.not_found, self.model_inputs)
            for row, online in zip(rows, looked_up, strict=True)
        ]
        defaulted = sorted({name for done in completed for name in done.defaulted})
        out_rows = [done.row for done in completed]
        meta = dict(message.get("meta") or {})
        meta["tags"] = {**dict(meta.get("tags") or {}), "features_defaulted": ",".join(defaulted)}
        return {"jsonData": out_rows[0] if single else out_rows, "meta": meta}

    def predict_raw(self, message: Any) -> Any:
        """Local chaining: transform, then ask the model server; its answer (or refusal) is returned as is."""
        if not self.model_url:
            raise SeldonMicroserviceException(
                "no model_url: in a cluster this class runs as a TRANSFORMER",
                status_code=500,
                reason="NOT_CHAINED",
            )
        try:
            transformed = self.transform(message)
        except BadRequestError as exc:
            return {
                "status": {
                    "code": exc.status_code,
                    "info": exc.message,
                    "reason": exc.reason,
                    "status": "FAILURE",
                }
            }
        except ServingError as exc:
            raise SeldonMicroserviceException(
                exc.message, status_code=exc.status_code, reason=exc.reason
            ) from exc
        answer = self._forward(transformed)
        tags = transformed["meta"]["tags"]
        answer.setdefault("meta", {}).setdefault("tags", {}).update(tags)
        return answer

    def health_status(self) -> dict[str, Any]:
        """Healthy when the feature server answers a lookup (and the model server, when chained)."""
        try:
            self.features.lookup([{"origin": "", "tailnum": "", "carrier": "", "route": ""}])
            if self.model_url:
                with urllib.request.urlopen(self.model_url + "/health/ping", timeout=self.timeout) as answer:
                    answer.read()
        except (FeatureStoreError, urllib.error.URLError, OSError) as exc:
            raise SeldonMicroserviceException(
                f"not ready: {exc}", status_code=503, reason="UNHEALTHY"
            ) from exc
        return {"status": "ok", "model_inputs": len(self.model_inputs)}

    def tags(self) -> dict[str, str]:
        return {"transformer": "feast"}

    def _forward(self, body: dict[str, Any]) -> dict[str, Any]:
        assert self.model is not None
        try:
            status, text = self.model.post(PREDICTIONS_PATH, body)
            answer = json.loads(text)
        except (FeatureStoreError, json.JSONDecodeError) as exc:
            raise SeldonMicroserviceException(
                f"the model server cannot be reached or answered no JSON: {exc}",
                status_code=502,
                reason="MODEL_SERVER",
            ) from exc
        # A 4xx answer is the model's own refusal, with its status code inside: passed on as it is.
        if status >= 500 or not isinstance(answer, dict):
            raise SeldonMicroserviceException(
                f"the model server answered {status}", status_code=502, reason="MODEL_SERVER"
            )
        return answer


def _json_rows(message: Any) -> tuple[list[dict[str, Any]], bool]:
    body = message.get("jsonData") if isinstance(message, dict) else None
    if isinstance(body, dict):
        return [body], True
    if isinstance(body, list) and body and all(isinstance(row, dict) for row in body):
        return list(body), False
    raise BadRequestError(
        'send booking-time rows as {"jsonData": {...}} or {"jsonData": [{...}, ...]}',
        reason="BAD_REQUEST_FORM",
    )
