"""JSON over HTTP with the standard library: the proxy's admin API, Seldon endpoints, the fake API server."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from contracts.errors import RolloutError


def request_json(method: str, url: str, body: Any = None, *, timeout: float = 10.0) -> tuple[int, Any]:
    """Sends ``body`` as JSON and returns the status and the decoded answer (None for an empty one).

    An HTTP error status is returned, not raised: callers decide what a 4xx means to them.

    Raises:
        RolloutError: when the server cannot be reached or answers with something that is not JSON.
    """
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    except (urllib.error.URLError, OSError) as exc:
        raise RolloutError(f"{method} {url}: {exc}") from exc
    try:
        return status, json.loads(raw) if raw else None
    except ValueError as exc:
        raise RolloutError(f"{method} {url}: answer {status} is not JSON: {raw[:200]!r}") from exc


def post_json(url: str, body: Any, *, timeout: float = 10.0) -> tuple[int, Any]:
    """``request_json("POST", ...)``."""
    return request_json("POST", url, body, timeout=timeout)


def get_json(url: str, *, timeout: float = 10.0) -> tuple[int, Any]:
    """``request_json("GET", ...)``."""
    return request_json("GET", url, timeout=timeout)
