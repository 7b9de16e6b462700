"""Serving a model behind the feature-store transformer: clients send booking-time rows only, and the
transformer looks the rest up in the online store before the model answers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from components.features.server import running_feature_server, start_feature_server
from components.processes import ServerConfig, serve_model, start_server, stop_group
from components.serving.loadtest import PREDICTIONS_PATH
from components.settings import ProjectSettings
from contracts.errors import ConfigError
from contracts.feature_catalog import CONFIG_FILE
from contracts.names import TRANSFORMER_CLASS


def serve_booking_time(
    model_dir: Path, model_version: str, settings: ProjectSettings, *, port: int, workers: int, threads: int
) -> dict[str, Any]:
    """Serves a model behind the feature-store transformer: clients send booking-time rows only.

    Starts (or reuses) the feature server, the model server on a free port and the transformer on
    ``port``, chained to both. Every process group started here is named in the returned record, so
    ``mlops serve --stop`` stops them all.

    Raises:
        ConfigError: when the feature store was never built (``mlops features apply`` / ``materialize``).
    """
    if not (settings.feature_repo / CONFIG_FILE).is_file():
        raise ConfigError("no feature store yet: run `mlops features apply` and `mlops features materialize`")
    started: list[int] = []
    running = running_feature_server(settings)
    features = None
    try:
        if running is None:
            features = start_feature_server(
                settings.feature_repo, log_dir=settings.state_dir / "feature-server"
            )
            started.append(features.pid)
        features_url = running["url"] if running else features.url  # type: ignore[union-attr]
        model = serve_model(
            model_dir,
            model_version=model_version,
            request_log=settings.state_dir / "requests",
            workers=workers,
            threads=threads,
            log_dir=settings.state_dir / "server",
        )
        started.append(model.pid)
        transformer = start_server(
            ServerConfig(
                model_class=TRANSFORMER_CLASS,
                parameters={
                    "feature_server_url": features_url,
                    "model_uri": str(model_dir),
                    "model_url": model.http_url,
                },
                http_port=port,
                grpc_workers=0,
                workers=workers,
                threads=threads,
                log_dir=settings.state_dir / "transformer",
            )
        )
    except BaseException:
        for group in reversed(started):
            stop_group(group)
        raise
    return {
        "pid": transformer.pid,
        "http_url": transformer.http_url,
        "predictions_url": transformer.http_url + PREDICTIONS_PATH,
        "model_url": model.http_url,
        "grpc_target": model.grpc_target,
        "metrics_url": model.metrics_url,
        "feature_server_url": features_url,
        "server_log": str(transformer.log_path),
        "also_started": [model.pid, *([features.pid] if features else [])],
    }
