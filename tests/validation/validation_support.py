"""Validation through the code the pipeline runs: the validation step on a batch artifact folder."""

from __future__ import annotations

from pathlib import Path

from components.statistics.logic import read_statistics
from components.statistics.step import STATISTICS_FILE
from components.validation.logic import ValidationResult, read_anomalies
from components.validation.report import ANOMALIES_FILE
from components.validation.step import ValidationOutputs, validate_batch


def validate_artifact(batch_dir: Path, *, previous: Path | None = None) -> ValidationResult:
    """Runs the validation step on a batch artifact folder and reads back what it wrote."""
    out = batch_dir.with_name(batch_dir.name + "-validation")
    outputs = ValidationOutputs(
        stats_dir=out / "statistics",
        stats_html=out / "statistics.html",
        stats_markdown=out / "statistics.md",
        report_dir=out / "report",
        report_markdown=out / "report.md",
    )
    report = validate_batch(batch_dir, outputs, batch=batch_dir.name, previous_batch_dir=previous)
    statistics_file = outputs.stats_dir / STATISTICS_FILE
    return ValidationResult(
        report=report,
        anomalies=read_anomalies(outputs.report_dir / ANOMALIES_FILE),
        statistics=read_statistics(statistics_file) if statistics_file.is_file() else None,
    )
