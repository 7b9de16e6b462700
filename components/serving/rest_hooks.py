"""A Flask blueprint Seldon registers on its REST app: request bodies that cannot be decoded get a 400.

Seldon's REST wrapper answers a body Flask fails to decode with 400 only when the decoder raises
``ValueError``. A deeply nested body (``[[[[...]]]]``) makes Python's decoder raise ``RecursionError``
instead, which Seldon's catch-all handler turns into a 500 - a client error reported as a server fault.
The blueprint swaps in a JSON provider that reports that case as the ``ValueError`` it is. Seldon
registers ``model.model_error_handler`` on its app, which is the only hook it offers into the app.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask.blueprints import BlueprintSetupState
from flask.json.provider import DefaultJSONProvider


class _BoundedJSONProvider(DefaultJSONProvider):
    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            return super().loads(s, **kwargs)
        except RecursionError as exc:
            raise ValueError("the JSON body is nested too deeply") from exc


def _install(state: BlueprintSetupState) -> None:
    state.app.json = _BoundedJSONProvider(state.app)


def error_blueprint() -> Blueprint:
    """The blueprint to expose as the model's ``model_error_handler`` attribute."""
    blueprint = Blueprint("flight_delay_errors", __name__)
    blueprint.record_once(_install)
    return blueprint
