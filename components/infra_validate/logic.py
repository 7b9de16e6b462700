"""Infra validation: the model loads in the real serving environment, answers correctly, within budgets.

The model server is the same Seldon microservice that serves production, started from the serving
environment; nothing here imports seldon-core or TensorFlow.
"""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from components.infra_validate.budgets import Budgets
from components.processes import ModelServer, resident_memory_mb, serve_model
from components.serving.backends import served_files
from components.serving.loadtest import percentiles
from contracts.errors import ModelUnavailableError, ServingError
from contracts.names import OUTPUT_NAME


@dataclass(frozen=True)
class InfraCheck:
    name: str
    measured: float | str
    budget: float | str
    passed: bool
    detail: str = ""


@dataclass(frozen=True)
class InfraReport:
    checks: tuple[InfraCheck, ...]
    server_log_tail: str = ""

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(check.passed for check in self.checks)

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "checks": [asdict(check) for check in self.checks],
            "log": self.server_log_tail,
        }

    def to_markdown(self) -> str:
        lines = [
            f"# Infra validation: {'passed' if self.passed else 'FAILED'}",
            "",
            "| check | measured | budget | | detail |",
        ]
        lines.append("|---|---|---|---|---|")
        for check in self.checks:
            lines.append(
                f"| {check.name} | {check.measured} | {check.budget} | {'✅' if check.passed else '❌'} |"
                + (f" {check.detail} |" if check.detail else " |")
            )
        return "\n".join(lines) + "\n"


def _size_check(model_dir: Path, budgets: Budgets) -> InfraCheck:
    """The size of what the server loads (the TFLite core, or the SavedModel), naming those files."""
    name = "model size on disk (MB)"
    try:
        files = served_files(model_dir)
    except ModelUnavailableError as exc:
        return InfraCheck(name, str(exc)[-500:], budgets.max_model_size_mb, False)
    size = sum(path.stat().st_size for path in files if path.is_file()) / 1e6
    served = ", ".join(str(path.relative_to(model_dir)) for path in files)
    return InfraCheck(
        name,
        round(size, 3),
        budgets.max_model_size_mb,
        size <= budgets.max_model_size_mb,
        detail=f"the files the model server loads: {served}",
    )


def infra_validate(
    model_dir: Path,
    records: Sequence[Mapping[str, Any]],
    budgets: Budgets,
    *,
    serving_venv: Path | None = None,
) -> InfraReport:
    """Serves the model folder for real, probes it with real rows, and measures it against the budgets.

    A model that cannot start, or answers with the wrong shape, fails its check rather than raising: the
    report is what decides the blessing, and it says why.
    """
    checks = [_size_check(model_dir, budgets)]
    options: dict[str, Any] = {"serving_venv": serving_venv} if serving_venv else {}
    try:
        server = serve_model(model_dir, model_version="infra-validation", **options)
    except ServingError as exc:
        checks.append(InfraCheck("starts and becomes healthy", str(exc)[-500:], "healthy", False))
        return InfraReport(tuple(checks))
    with server:
        checks.append(InfraCheck("starts and becomes healthy", "healthy", "healthy", True))
        checks += _probe(server, records, budgets)
        memory = resident_memory_mb(server.pid)
        checks.append(
            InfraCheck(
                "resident memory (MB)",
                round(memory, 1),
                budgets.max_resident_memory_mb,
                memory <= budgets.max_resident_memory_mb,
            )
        )
        tail = server.log_tail(10)
    return InfraReport(tuple(checks), server_log_tail=tail)


def _probe(server: ModelServer, records: Sequence[Mapping[str, Any]], budgets: Budgets) -> list[InfraCheck]:
    connection = http.client.HTTPConnection("127.0.0.1", server.http_port, timeout=10)
    try:
        batch = list(records[: budgets.batch_rows])
        status, answer = _post(connection, {"jsonData": batch})
        batch_ok, batch_detail = _well_formed(status, answer, len(batch))
        bad_status, _ = _post(connection, {"jsonData": {**records[0], "origin": 7}})
        latencies = []
        for index in range(budgets.latency_requests):
            started = time.perf_counter()
            status, answer = _post(connection, {"jsonData": records[index % len(records)]})
            latencies.append((time.perf_counter() - started) * 1000)
            single_ok, single_detail = _well_formed(status, answer, 1)
            if not single_ok:
                break
    finally:
        connection.close()
    latency = percentiles(latencies)
    p99 = latency["p99"]
    return [
        InfraCheck(
            f"batch of {len(batch)} rows answered with one probability each",
            batch_detail,
            "well-formed",
            batch_ok,
        ),
        InfraCheck(
            "malformed request refused with 4xx", f"HTTP {bad_status}", "4xx", 400 <= bad_status < 500
        ),
        InfraCheck("single-row answers well-formed", single_detail, "well-formed", single_ok),
        InfraCheck(
            "single-row p99 latency (ms)",
            round(p99, 3),
            budgets.max_p99_latency_ms,
            single_ok and p99 <= budgets.max_p99_latency_ms,
        ),
        InfraCheck("single-row p50 latency (ms)", round(latency["p50"], 3), "reported", True),
    ]


def _post(connection: http.client.HTTPConnection, body: Mapping[str, Any]) -> tuple[int, Any]:
    connection.request(
        "POST", "/api/v1.0/predictions", json.dumps(body), {"Content-Type": "application/json"}
    )
    response = connection.getresponse()
    text = response.read()
    try:
        return response.status, json.loads(text)
    except ValueError:
        return response.status, text.decode(errors="replace")


def _well_formed(status: int, answer: Any, rows: int) -> tuple[bool, str]:
    if status != 200 or not isinstance(answer, dict):
        return False, f"HTTP {status}: {str(answer)[:200]}"
    data = answer.get("data", {})
    values = data.get("ndarray")
    if data.get("names") != [OUTPUT_NAME] or not isinstance(values, list) or len(values) != rows:
        return False, f"unexpected body {str(answer)[:200]}"
    probabilities = [row[0] if isinstance(row, list) and len(row) == 1 else None for row in values]
    if not all(isinstance(p, float) and 0.0 <= p <= 1.0 for p in probabilities):
        return False, f"not probabilities: {probabilities[:5]}"
    if "model_version" not in answer.get("meta", {}).get("tags", {}):
        return False, "no model_version tag"
    return True, "well-formed"
