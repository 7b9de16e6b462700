"""A small client of Feast's feature server (``POST /get-online-features``); standard library only.

It keeps one HTTP/1.1 connection per thread, so a lookup costs one round trip and no connect.

Example:
    >>> client = FeatureClient("http://127.0.0.1:6566")  # doctest: +SKIP
    >>> client.lookup([{"origin": "EWR", "tailnum": "N14228", "carrier": "UA", "route": "EWR-IAH"}])
"""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from contracts.errors import FeatureStoreError
from contracts.feature_catalog import ENTITIES, FEATURE_NAMES, FEATURE_REFS

ONLINE_PATH = "/get-online-features"
FOUND = frozenset({"PRESENT", "NULL_VALUE"})


@dataclass(frozen=True)
class OnlineRow:
    """The looked-up features of one entity row.

    Attributes:
        values: Every catalog feature; None where the store had no value.
        not_found: Features whose entity the store does not know (or whose value it never held).
    """

    values: dict[str, Any]
    not_found: tuple[str, ...]


class JsonConnection:
    """POSTs JSON to one HTTP server over one kept-alive connection per thread.

    Args:
        url: The server's base URL, ``http://host:port``.
        timeout: Seconds per request.
        name: How errors name the server.
    """

    def __init__(self, url: str, timeout: float = 5.0, name: str = "the server") -> None:
        parsed = urlparse(url)
        if parsed.scheme != "http" or not parsed.hostname:
            raise FeatureStoreError(f"{name} URL must be http://host:port, got {url!r}")
        self.url = url
        self.name = name
        self._host = parsed.hostname
        self._port = parsed.port or 80
        self._timeout = timeout
        self._local = threading.local()

    def post(self, path: str, body: Mapping[str, Any]) -> tuple[int, str]:
        """The status and text of the answer.

        Raises:
            FeatureStoreError: when the server cannot be reached.
        """
        payload = json.dumps(body).encode("utf-8")
        headers = {"Content-Type": "application/json"}
        for attempt in (1, 2):  # a kept-alive connection the server closed is retried once on a new one
            connection = self._connection()
            try:
                connection.request("POST", path, body=payload, headers=headers)
                response = connection.getresponse()
                return response.status, response.read().decode("utf-8", errors="replace")
            except (http.client.HTTPException, OSError) as exc:
                self.close()
                if attempt == 2:
                    raise FeatureStoreError(f"{self.name} at {self.url} cannot be reached: {exc}") from exc
        raise AssertionError("unreachable")

    def close(self) -> None:
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None

    def _connection(self) -> http.client.HTTPConnection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = http.client.HTTPConnection(self._host, self._port, timeout=self._timeout)
            self._local.connection = connection
        return connection


class FeatureClient:
    """Looks up every catalog feature for entity rows through a feature server.

    Args:
        url: The server's base URL, ``http://host:port``.
        timeout: Seconds per request.
    """

    def __init__(self, url: str, timeout: float = 5.0) -> None:
        self.url = url
        self._server = JsonConnection(url, timeout, name="the feature server")

    def lookup(self, entity_rows: Sequence[Mapping[str, str]]) -> list[OnlineRow]:
        """The features of each entity row (keys: origin, tailnum, carrier, route), in order.

        Raises:
            FeatureStoreError: when the server cannot be reached or answers with an error.
        """
        if not entity_rows:
            return []
        body = {
            "features": list(FEATURE_REFS),
            "entities": {name: [str(row[name]) for row in entity_rows] for name in ENTITIES},
        }
        status, text = self._server.post(ONLINE_PATH, body)
        if status != 200:
            raise FeatureStoreError(f"the feature server answered {status}: {text[:300]}")
        try:
            answer = json.loads(text)
            names = answer["metadata"]["feature_names"]
            columns = dict(zip(names, answer["results"], strict=True))
            rows = []
            for index in range(len(entity_rows)):
                values = {name: columns[name]["values"][index] for name in FEATURE_NAMES}
                missing = tuple(
                    name for name in FEATURE_NAMES if columns[name]["statuses"][index] not in FOUND
                )
                rows.append(OnlineRow(values=values, not_found=missing))
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            raise FeatureStoreError(f"the feature server's answer has an unexpected shape: {exc}") from exc
        return rows

    def close(self) -> None:
        self._server.close()
