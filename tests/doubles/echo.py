"""A model class that answers every request with the request itself: the wrapper's throughput ceiling.

Served by the same ``seldon-core-microservice`` as the real model, it measures what Seldon's Flask,
gunicorn and JSON layers cost alone; ``bench/bench_serving.py`` compares the real model against it in
the same run, and the process-manager tests use it because it starts without loading a model.
"""

from __future__ import annotations

from typing import Any

from components.serving.gc_freeze import freeze_loaded_objects


class EchoModel:
    """Returns the request message unchanged (REST dict or gRPC ``SeldonMessage``)."""

    def load(self) -> None:
        """Freezes the loaded objects as the real model does, so the two processes compare like for like."""
        freeze_loaded_objects()

    def predict_raw(self, message: Any) -> Any:
        """The request itself."""
        return message

    def health_status(self) -> str:
        """Always healthy: there is nothing to load."""
        return "ok"
