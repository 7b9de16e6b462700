"""The monitor's outputs: Markdown and self-contained HTML reports, Prometheus text as a file and over
real HTTP, and the alert rules and dashboard that read those metrics."""

from __future__ import annotations

import http.server
import json
import re
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml
from monitor_support import PROJECT_ROOT, TRAIN_MONTHS, monitor_result, sample

from components.monitoring.prometheus import (
    CONTENT_TYPE,
    MetricsServer,
    combine,
    monitor_families,
    push,
    trigger_families,
    write_textfile,
)
from components.monitoring.report import render_html, render_markdown, write_report
from contracts.errors import MonitoringError

MONITORING_MANIFESTS = PROJECT_ROOT / "manifests" / "monitoring"
# One sample line of the text exposition format 0.0.4: name, optional labels, a float.
SAMPLE_LINE = re.compile(
    r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\.)*",?)*\})? '
    r"(-?[0-9.e+-]+|NaN|[+-]Inf)$"
)


@pytest.fixture(scope="module")
def drifted() -> dict[str, object]:
    return monitor_result(sample((12,), 1_500, seed=11)).to_dict()


def parse_exposition(text: str) -> dict[str, list[str]]:
    """Checks every line of an exposition and returns the sample lines by metric name."""
    samples: dict[str, list[str]] = {}
    declared: set[str] = set()
    for line in text.splitlines():
        if line.startswith("# HELP ") or line.startswith("# TYPE "):
            declared.add(line.split()[2])
            continue
        assert SAMPLE_LINE.match(line), f"not a valid sample line: {line!r}"
        name = line.split("{", 1)[0].split(" ", 1)[0]
        assert name in declared, f"{name} has no HELP/TYPE before its samples"
        samples.setdefault(name, []).append(line)
    return samples


def test_the_reports_say_what_was_found(drifted: dict[str, object], tmp_path: Path) -> None:
    markdown = render_markdown(drifted)
    page = render_html(drifted)
    written = write_report(drifted, tmp_path / "report")

    assert "**retraining wanted** (signals: drift" in markdown
    assert "| drift | temp | jensen shannon divergence |" in markdown
    assert "EXCEEDED" in markdown and "Live performance" in markdown
    assert "<script" not in page and "http://" not in page and "https://" not in page
    assert "drift of temp" in page and "class='bad'" in page
    assert json.loads(written["json"].read_text())["status"] == "retrain"
    assert written["html"].read_text() == page


def test_the_exposition_is_valid_and_names_the_drifted_feature(
    drifted: dict[str, object], tmp_path: Path
) -> None:
    text = combine(
        [
            monitor_families(drifted),
            trigger_families("flight-delay", {("drift", "fired"): 1}, {"drift": 5.0}, True),
        ]
    )
    samples = parse_exposition(text)

    assert 'flight_delay_monitor_status{model="flight-delay",status="retrain",version="v1"} 1.0' in text
    assert any(
        'feature="temp"' in line and line.endswith(" 1.0")
        for line in samples["flight_delay_monitor_distance_exceeded"]
    )
    assert (
        'flight_delay_trigger_decisions_total{kind="drift",model="flight-delay",outcome="fired"} 1.0' in text
    )
    assert "flight_delay_training_in_progress" in samples

    path = write_textfile(text, tmp_path / "metrics" / "monitor.prom")
    assert path.read_text() == text
    assert [p.name for p in path.parent.iterdir()] == ["monitor.prom"]


def test_metrics_are_served_over_http_and_nothing_else_is(drifted: dict[str, object]) -> None:
    text = combine([monitor_families(drifted)])
    server = MetricsServer(lambda: text).start()
    try:
        with urllib.request.urlopen(server.url, timeout=5) as response:
            assert response.headers["Content-Type"] == CONTENT_TYPE
            assert response.read().decode() == text
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(server.url.replace("/metrics", "/other"), timeout=5)
        assert missing.value.code == 404
    finally:
        server.stop()


def test_metrics_are_pushed_to_a_pushgateway_with_a_put(drifted: dict[str, object]) -> None:
    received: list[tuple[str, str, bytes]] = []

    class Gateway(http.server.BaseHTTPRequestHandler):
        def do_PUT(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.path, self.headers["Content-Type"], body))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    gateway = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Gateway)
    threading.Thread(target=gateway.serve_forever, daemon=True).start()
    text = combine([monitor_families(drifted)])
    try:
        url = push(
            text,
            f"http://127.0.0.1:{gateway.server_address[1]}",
            job="model-monitor",
            grouping={"model": "flight-delay"},
        )
    finally:
        gateway.shutdown()
        gateway.server_close()

    assert url.endswith("/metrics/job/model-monitor/model/flight-delay")
    assert received == [("/metrics/job/model-monitor/model/flight-delay", CONTENT_TYPE, text.encode())]
    with pytest.raises(MonitoringError, match="did not take the metrics"):
        push(text, "http://127.0.0.1:1", job="model-monitor", grouping={}, timeout=2)


def _metric_names(expression: str) -> set[str]:
    return set(re.findall(r"\b(flight_delay_[a-z_]+)\b", expression))


def test_alert_rules_and_dashboard_read_only_metrics_the_monitor_exports(drifted: dict[str, object]) -> None:
    healthy = monitor_result(sample(TRAIN_MONTHS, 1_500, seed=12)).to_dict()
    exported = set()
    for summary in (drifted, healthy):
        text = combine(
            [monitor_families(summary), trigger_families("m", {("drift", "fired"): 1}, {"drift": 1.0}, False)]
        )
        exported |= set(parse_exposition(text))
    # Serving metrics come from the model server (components/serving/telemetry.py), not the monitor.
    serving = _metric_names((PROJECT_ROOT / "components/serving/telemetry.py").read_text())
    serving |= {f"{name}_total" for name in serving}

    rules = yaml.safe_load((MONITORING_MANIFESTS / "alert-rules.yaml").read_text())
    alerts = [rule for group in rules["groups"] for rule in group["rules"]]
    assert {"ModelDriftDetected", "ModelPerformanceDegraded", "MonitorStale", "RetrainingStalled"} <= {
        a["alert"] for a in alerts
    }
    for alert in alerts:
        assert set(alert) <= {"alert", "expr", "for", "labels", "annotations"}
        assert alert["labels"]["severity"] in ("warning", "critical")
        assert alert["annotations"]["summary"] and alert["annotations"]["description"]
        unknown = _metric_names(alert["expr"]) - exported - serving
        assert not unknown, f"{alert['alert']} reads metrics nobody exports: {unknown}"

    dashboard = json.loads((MONITORING_MANIFESTS / "model-health-dashboard.json").read_text())
    targets = [t["expr"] for panel in dashboard["panels"] for t in panel.get("targets", [])]
    assert len(targets) >= 6
    for expression in targets:
        unknown = _metric_names(expression) - exported - serving
        assert not unknown, f"a dashboard panel reads metrics nobody exports: {unknown}"
