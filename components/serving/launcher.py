"""``seldon-core-microservice`` with every listener bound to one chosen address (127.0.0.1 by default).

Seldon Core 1.17.1 hard-codes ``0.0.0.0`` for its three servers (gunicorn REST, gRPC, gunicorn metrics)
and offers no flag or environment variable to change it. That is right inside a pod and wrong on a
workstation or a CI machine, where a model server (or an echo server in a benchmark) should not be
reachable from the network. This launcher rebinds them and then runs Seldon's own ``main``, so every
other flag keeps Seldon's meaning:

    python -m components.serving.launcher --bind-host 127.0.0.1 -- \\
        components.serving.model.FlightDelayModel --http-port 9000 --grpc-port 5000 --metrics-port 6000 \\
        --parameters '[{"name": "model_uri", "value": "/models/m", "type": "STRING"}]'

The rebinding replaces two names Seldon's ``microservice`` module looks up at call time (its gunicorn
application classes) and wraps ``seldon_core.wrapper.get_grpc_server``; a test checks the listening
sockets, so a Seldon upgrade that moves these names fails loudly rather than silently binding to all.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Any

import seldon_core.microservice as microservice
import seldon_core.wrapper as wrapper


def _rebound(application: type, host: str) -> type:
    class Rebound(application):
        def load_config(self) -> None:
            super().load_config()
            port = str(self.options["bind"]).rsplit(":", 1)[1]
            self.cfg.set("bind", [f"{host}:{port}"])

    Rebound.__name__ = f"Rebound{application.__name__}"
    return Rebound


class _RebindingServer:
    """A gRPC server whose ``add_insecure_port`` keeps the port and replaces the host."""

    def __init__(self, server: Any, host: str) -> None:
        self._server = server
        self._host = host

    def add_insecure_port(self, address: str) -> int:
        port = address.rsplit(":", 1)[1]
        return int(self._server.add_insecure_port(f"{self._host}:{port}"))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._server, name)


def _rebinding_grpc_factory(factory: Callable[..., Any], host: str) -> Callable[..., Any]:
    def get_grpc_server(*args: Any, **kwargs: Any) -> _RebindingServer:
        return _RebindingServer(factory(*args, **kwargs), host)

    return get_grpc_server


def bind_all_to(host: str) -> None:
    """Makes Seldon's REST, gRPC and metrics servers listen on ``host`` in this process and its forks."""
    microservice.UserModelApplication = _rebound(microservice.UserModelApplication, host)
    microservice.StandaloneApplication = _rebound(microservice.StandaloneApplication, host)
    wrapper.get_grpc_server = _rebinding_grpc_factory(wrapper.get_grpc_server, host)


def main(argv: Sequence[str] | None = None) -> None:
    """Parses ``--bind-host``, rebinds, and hands the remaining arguments to Seldon's ``main``."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--bind-host", default="127.0.0.1", help="address every listener binds to")
    parser.add_argument("seldon_args", nargs=argparse.REMAINDER, help="seldon-core-microservice arguments")
    args = parser.parse_args(argv)
    seldon_args = args.seldon_args[1:] if args.seldon_args[:1] == ["--"] else args.seldon_args
    bind_all_to(args.bind_host)
    sys.argv = ["seldon-core-microservice", *seldon_args]
    microservice.main()


if __name__ == "__main__":
    main()
