"""Model-health metrics in Prometheus' text exposition format (version 0.0.4), as a file or on ``/metrics``.

A file suits node_exporter's textfile collector and a CronJob that exits after each check; the endpoint
suits a long-running ``mlops watch``. Both hold the same families, built from the last ``MonitorResult``
and the trigger ledger's counts, so the alert rules and the dashboard (``manifests/monitoring/``) read
the same names whichever way they are scraped. Standard library only.
"""

from __future__ import annotations

import math
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote

from contracts.errors import MonitoringError

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
PREFIX = "flight_delay_"
STATUSES = ("healthy", "retrain", "insufficient-data")
SIGNALS = ("drift", "degradation")
LIVE_METRICS = ("auc", "accuracy", "log_loss", "expected_calibration_error")


@dataclass
class Family:
    """One metric family: its name (prefix added on output), help text, type and samples."""

    name: str
    help: str
    type: str = "gauge"
    samples: list[tuple[Mapping[str, str], float]] = field(default_factory=list)

    def add(self, value: float | None, **labels: str) -> None:
        if value is not None and math.isfinite(value):
            self.samples.append((labels, float(value)))


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def render(families: Iterable[Family]) -> str:
    """The exposition text of the families (empty families keep their HELP and TYPE lines)."""
    lines = []
    for family in families:
        name = PREFIX + family.name
        lines.append(f"# HELP {name} {family.help}")
        lines.append(f"# TYPE {name} {family.type}")
        for labels, value in family.samples:
            text = ",".join(f'{key}="{_escape(str(val))}"' for key, val in sorted(labels.items()))
            lines.append(f"{name}{{{text}}} {value!r}" if text else f"{name} {value!r}")
    return "\n".join(lines) + "\n"


def monitor_families(result: Mapping[str, Any]) -> list[Family]:
    """Families describing one monitor check (``MonitorResult.to_dict()``)."""
    base = {"model": result["model"], "version": result["version"]}
    window = result["window"]
    checked = Family("monitor_last_check_timestamp_seconds", "Unix time of the last monitor check.")
    checked.add(result["checked_at"], **base)
    rows = Family("monitor_window_rows", "Served rows of the production version in the sliding window.")
    rows.add(window["rows"], **base)
    labelled = Family("monitor_window_labelled_rows", "Rows of the window whose true outcome came back.")
    labelled.add(window["labelled_rows"], **base)
    refused = Family("monitor_refused_requests", "Requests in the request log the server refused.")
    refused.add(window["refused_requests"], **base)
    unreadable = Family("monitor_unreadable_log_lines", "Request log lines the monitor could not read.")
    unreadable.add(window["unreadable_lines"], **base)
    status = Family("monitor_status", "1 for the monitor's current verdict, 0 for the others.")
    for name in STATUSES:
        status.add(1.0 if result["status"] == name else 0.0, status=name, **base)
    signal = Family("monitor_signal", "1 when the last check raised this retraining signal.")
    for name in SIGNALS:
        signal.add(1.0 if name in result["signals"] else 0.0, signal=name, **base)
    distance = Family("monitor_distance", "Drift or skew of a feature against the training data.")
    threshold = Family("monitor_distance_threshold", "The pipeline's threshold for that distance.")
    exceeded = Family("monitor_distance_exceeded", "1 when the distance is above its threshold and acted on.")
    for m in (result["data"] or {}).get("measurements", []):
        labels = {**base, "comparison": m["comparison"], "feature": m["feature"], "metric": m["metric"]}
        distance.add(m["value"], **labels)
        threshold.add(m["threshold"], **labels)
        exceeded.add(1.0 if m["exceeded"] and not m["ignored"] else 0.0, **labels)
    live = Family("monitor_live_metric", "Metric of the production version on fed-back outcomes.")
    evaluated = Family("monitor_evaluated_metric", "The same metric as the version's evaluation measured it.")
    metrics = result["performance"]["metrics"] or {}
    for name in LIVE_METRICS:
        live.add(metrics.get(name), metric=name, **base)
        evaluated.add(result["reference"]["evaluation"].get(name), metric=name, **base)
    degraded = Family("monitor_performance_degraded", "1 when a live performance check is over its limit.")
    for check in result["performance"]["checks"]:
        degraded.add(1.0 if check["degraded"] else 0.0, check=check["name"], **base)
    return [
        checked,
        rows,
        labelled,
        refused,
        unreadable,
        status,
        signal,
        distance,
        threshold,
        exceeded,
        live,
        evaluated,
        degraded,
    ]


def trigger_families(
    model: str, counts: Mapping[tuple[str, str], int], last_fired: Mapping[str, float], training: bool
) -> list[Family]:
    """Families describing the triggers of a model.

    Args:
        model: The registered model.
        counts: Trigger decisions by (kind, outcome), e.g. ``("drift", "fired")``.
        last_fired: Unix time of the last fired trigger by kind.
        training: Whether a training run of the model holds the lease now.
    """
    total = Family("trigger_decisions_total", "Retraining trigger decisions by kind and outcome.", "counter")
    for (kind, outcome), count in sorted(counts.items()):
        total.add(count, model=model, kind=kind, outcome=outcome)
    fired = Family(
        "trigger_last_fired_timestamp_seconds", "Unix time a trigger of this kind last started a run."
    )
    for kind, when in sorted(last_fired.items()):
        fired.add(when, model=model, kind=kind)
    busy = Family("training_in_progress", "1 while a training run of the model holds its lease.")
    busy.add(1.0 if training else 0.0, model=model)
    return [total, fired, busy]


def write_textfile(text: str, path: Path) -> Path:
    """Writes exposition text for node_exporter's textfile collector: aside first, then renamed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)
    return path


class MetricsServer:
    """Serves ``GET /metrics`` from a callable on a background thread.

    Args:
        provide: Returns the current exposition text; called on every scrape.
        host: Interface to bind (loopback by default; a pod binds all interfaces).
        port: Port; 0 picks a free one (read ``port`` after ``start``).
    """

    def __init__(self, provide: Callable[[], str], *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.provide = provide
        self.host = host
        self.port = port
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> MetricsServer:
        provide = self.provide

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path.split("?", 1)[0] != "/metrics":
                    self._send(404, b"only /metrics is served here\n", "text/plain; charset=utf-8")
                    return
                self._send(200, provide().encode("utf-8"), CONTENT_TYPE)

            def _send(self, status: int, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return  # scrapes every few seconds would drown the command's own output

        self._server = ThreadingHTTPServer((self.host, self.port), Handler)
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, name="metrics", daemon=True)
        self._thread.start()
        return self

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/metrics"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


def push(text: str, gateway: str, *, job: str, grouping: Mapping[str, str], timeout: float = 10.0) -> str:
    """Replaces this job's group on a Prometheus Pushgateway with ``text`` (HTTP PUT, its push API).

    Returns:
        The URL pushed to.

    Raises:
        MonitoringError: when the gateway does not accept the push.
    """
    path = "/".join(f"{quote(key, safe='')}/{quote(value, safe='')}" for key, value in grouping.items())
    url = f"{gateway.rstrip('/')}/metrics/job/{quote(job, safe='')}" + (f"/{path}" if path else "")
    request = urllib.request.Request(
        url, data=text.encode("utf-8"), method="PUT", headers={"Content-Type": CONTENT_TYPE}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read()
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise MonitoringError(f"the Pushgateway at {gateway} did not take the metrics: {exc}") from exc
    return url


def combine(parts: Sequence[Sequence[Family]]) -> str:
    """Renders several groups of families as one exposition text."""
    return render([family for part in parts for family in part])
