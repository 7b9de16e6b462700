"""What the infra-validation step does, independent of KFP: probe the served model, write the report."""

from __future__ import annotations

import json
from pathlib import Path

from components.infra_validate.budgets import BUDGETS_PATH, load_budgets
from components.infra_validate.logic import InfraReport, infra_validate
from components.ingest.records import feature_records
from components.ingest.step import load_batch
from components.settings import configured_serving_venv

REPORT_FILE = "infra.json"
PROBE_ROWS = 500


def infra_validate_step(
    model_dir: Path,
    batch_dir: Path,
    report_dir: Path,
    markdown_path: Path,
    *,
    budgets_path: Path = BUDGETS_PATH,
    serving_venv: Path | None = None,
) -> InfraReport:
    """Probes the model with real rows of the batch and writes ``infra.json`` and a Markdown view.

    Without ``serving_venv`` the server starts from ``MLOPS_SERVING_VENV`` when set (the pipeline image
    carries the serving set there), else from the project's serving environment.
    """
    serving_venv = serving_venv or configured_serving_venv()
    records = feature_records(load_batch(batch_dir), limit=PROBE_ROWS)
    report = infra_validate(model_dir, records, load_budgets(budgets_path), serving_venv=serving_venv)
    report_dir.mkdir(parents=True, exist_ok=True)
    (report_dir / REPORT_FILE).write_text(json.dumps(report.to_dict(), indent=2), encoding="utf-8")
    markdown_path.write_text(report.to_markdown(), encoding="utf-8")
    return report


def read_infra_report(report_dir: Path) -> dict[str, object]:
    """The JSON report written by ``infra_validate_step``."""
    return dict(json.loads((report_dir / REPORT_FILE).read_text(encoding="utf-8")))
