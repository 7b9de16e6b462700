"""FAKE Kubernetes API server for the rollout tests - no cluster runs here.

A small real HTTP server on 127.0.0.1 that implements only what the rollout's Kubernetes actuator and
``kubectl get/annotate`` use for SeldonDeployments: discovery of the ``machinelearning.seldon.io/v1``
group, and get / create / replace / merge-patch of ``seldondeployments`` objects, with the API server's
behaviour that matters to a controller: a ``resourceVersion`` per write, 409 Conflict for a replace
based on a stale version or a second create, 404 for a missing object, and validation of every stored
object against the SeldonDeployment CRD schema and admission rules (422 Invalid when it fails).
It is a stand-in for the API server only; everything on the other side of it is the real code.
"""

from __future__ import annotations

import copy
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from components.rollout.core.crd import check_seldon_deployment
from contracts.errors import RolloutError

GROUP, VERSION, PLURAL = "machinelearning.seldon.io", "v1", "seldondeployments"
_COLLECTION = re.compile(rf"^/apis/{re.escape(GROUP)}/{VERSION}/namespaces/([^/]+)/{PLURAL}(?:/([^/?]+))?$")
_DISCOVERY: dict[str, Any] = {
    "/api": {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []},
    "/api/v1": {"kind": "APIResourceList", "groupVersion": "v1", "resources": []},
    "/apis": {
        "kind": "APIGroupList",
        "apiVersion": "v1",
        "groups": [
            {
                "name": GROUP,
                "versions": [{"groupVersion": f"{GROUP}/{VERSION}", "version": VERSION}],
                "preferredVersion": {"groupVersion": f"{GROUP}/{VERSION}", "version": VERSION},
            }
        ],
    },
    f"/apis/{GROUP}/{VERSION}": {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": f"{GROUP}/{VERSION}",
        "resources": [
            {
                "name": PLURAL,
                "singularName": "seldondeployment",
                "namespaced": True,
                "kind": "SeldonDeployment",
                "shortNames": ["sdep"],
                "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"],
            }
        ],
    },
}


class FakeKubernetesApiServer:
    """FAKE API server holding SeldonDeployments in memory; ``url`` is its address."""

    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], dict[str, Any]] = {}
        self.requests: list[tuple[str, str]] = []
        self._version = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> FakeKubernetesApiServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def stored(self, namespace: str, name: str) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(self.objects[(namespace, name)])

    def _handle(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        self.requests.append((method, path))
        if method == "GET" and path in _DISCOVERY:
            return 200, _DISCOVERY[path]
        match = _COLLECTION.match(path)
        if match is None:
            return 404, _status(404, "NotFound", f"the fake API server does not serve {path}")
        namespace, name = match.groups()
        with self._lock:
            key = (namespace, name or (body or {}).get("metadata", {}).get("name", ""))
            current = self.objects.get(key)
            if method == "GET" and name:
                return (
                    (200, current)
                    if current
                    else (404, _status(404, "NotFound", f"{PLURAL} {name!r} not found"))
                )
            if method == "POST" and not name:
                if current is not None:
                    return 409, _status(409, "AlreadyExists", f"{PLURAL} {key[1]!r} already exists")
                return self._store(key, body)
            if current is None:
                return 404, _status(404, "NotFound", f"{PLURAL} {name!r} not found")
            if method == "PUT":
                sent = str(body.get("metadata", {}).get("resourceVersion", ""))
                if sent != current["metadata"]["resourceVersion"]:
                    message = "the object has been modified; please apply your changes to the latest version"
                    return 409, _status(
                        409, "Conflict", f"Operation cannot be fulfilled on {PLURAL} {name!r}: {message}"
                    )
                return self._store(key, body)
            if method == "PATCH":
                return self._store(key, _merge(copy.deepcopy(current), body))
        return 405, _status(405, "MethodNotAllowed", f"{method} {path}")

    def _store(self, key: tuple[str, str], body: dict[str, Any]) -> tuple[int, Any]:
        stored = copy.deepcopy(body)
        stored.setdefault("metadata", {}).pop("resourceVersion", None)
        try:
            check_seldon_deployment(stored)
        except RolloutError as exc:
            return 422, _status(422, "Invalid", str(exc))
        self._version += 1
        stored["metadata"].update(namespace=key[0], resourceVersion=str(self._version))
        self.objects[key] = stored
        return 200, copy.deepcopy(stored)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                path = self.path.split("?", 1)[0]
                status, answer = fake._handle(self.command, path, json.loads(raw) if raw else None)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


def _merge(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return patch
    if not isinstance(target, dict):
        target = {}
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        else:
            target[key] = _merge(target.get(key), value)
    return target


def _status(code: int, reason: str, message: str) -> dict[str, Any]:
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
