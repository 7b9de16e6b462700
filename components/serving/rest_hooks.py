"""A Flask blueprint Seldon registers on its REST app, so client errors get 4xx and never 500.

Seldon Core 1.17.1's REST app has a catch-all ``Exception`` handler that answers 500, and only turns a
body Flask fails to decode into 400 when the decoder raises ``ValueError``. Measured consequences:
``PUT /api/v1.0/predictions`` (405), an unknown path (404) and a deeply nested body (``[[[[...]]]]``,
``RecursionError``) all got 500 - client errors reported as server faults. Seldon registers
``model.model_error_handler`` on its app, the only hook it offers into it; through it this module

- answers werkzeug's HTTP exceptions with their own status and a Seldon-style failure body,
- caps request bodies at ``MAX_BODY_BYTES`` (413 before any parsing, so a huge body costs no memory),
- swaps in a JSON provider that reports a too-deep body as the ``ValueError`` Seldon expects (400).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify
from flask.blueprints import BlueprintSetupState
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import HTTPException

# 1,000 rows (the default batch limit) of 26 features take ~0.7 MB as JSON.
MAX_BODY_BYTES = 8 * 1024 * 1024


class _BoundedJSONProvider(DefaultJSONProvider):
    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            return super().loads(s, **kwargs)
        except RecursionError as exc:
            raise ValueError("the JSON body is nested too deeply") from exc


def _install(state: BlueprintSetupState) -> None:
    state.app.json = _BoundedJSONProvider(state.app)
    state.app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES


def _http_error(error: HTTPException) -> tuple[Response, int]:
    code = error.code or 500
    reason = (error.name or "HTTP error").upper().replace(" ", "_")
    body = {"status": {"code": code, "info": error.description, "reason": reason, "status": "FAILURE"}}
    return jsonify(body), code


def error_blueprint() -> Blueprint:
    """The blueprint to expose as the model's ``model_error_handler`` attribute."""
    blueprint = Blueprint("flight_delay_errors", __name__)
    blueprint.record_once(_install)
    blueprint.app_errorhandler(HTTPException)(_http_error)
    return blueprint
