"""The inference paths a model folder can be served by, by name: what ``--backend`` and the model
server's ``backend`` parameter accept. Apart from ``backends.py`` so the SavedModel backends can name
themselves without importing the loader that imports them."""

from __future__ import annotations

from enum import StrEnum

from contracts.errors import ModelUnavailableError


class Backend(StrEnum):
    AUTO = "auto"
    TFLITE = "tflite"
    SESSION = "session"
    FUNCTION = "function"


def parse_backend(name: str) -> Backend:
    """The backend called ``name``.

    Raises:
        ModelUnavailableError: for an unknown name.
    """
    try:
        return Backend(name)
    except ValueError as exc:
        raise ModelUnavailableError(
            f"backend must be one of {[str(b) for b in Backend]}, not {name!r}"
        ) from exc
