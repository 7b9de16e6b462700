"""What the validation step does, independent of KFP: judge a batch's statistics and write the outcome."""

from __future__ import annotations

from pathlib import Path

from components.errors import DataContractError
from components.schema.logic import SCHEMA_PATH, load_schema
from components.statistics.logic import Statistics
from components.statistics.step import load_statistics_artifact
from components.validation.config import THRESHOLDS_PATH, load_thresholds
from components.validation.logic import unreadable_batch_result, validate_statistics, write_anomalies
from components.validation.markdown import render_report_markdown
from components.validation.report import ANOMALIES_FILE, REPORT_FILE, ValidationReport, write_report


def validate_step(
    stats_dir: Path,
    report_dir: Path,
    markdown_path: Path,
    *,
    batch: str,
    previous_stats_dir: Path | None = None,
    schema_path: Path = SCHEMA_PATH,
    thresholds_path: Path = THRESHOLDS_PATH,
) -> ValidationReport:
    """Validates the statistics in ``stats_dir`` (drift against ``previous_stats_dir`` when given).

    Writes the JSON report and TFDV anomalies into ``report_dir`` and the Markdown view to
    ``markdown_path``. Bad data never raises here: it becomes a ``halt`` report for the gate.
    """
    schema = load_schema(schema_path)
    try:
        stats = load_statistics_artifact(stats_dir)
    except DataContractError as exc:
        result = unreadable_batch_result(exc, batch=batch)
    else:
        previous = _readable(previous_stats_dir)
        result = validate_statistics(
            stats, schema, previous=previous, thresholds=load_thresholds(thresholds_path), batch=batch
        )
    write_report(result.report, report_dir / REPORT_FILE)
    write_anomalies(result.anomalies, report_dir / ANOMALIES_FILE)
    markdown_path.write_text(render_report_markdown(result.report), encoding="utf-8")
    return result.report


def _readable(stats_dir: Path | None) -> Statistics | None:
    # A previous batch that could not be read gives nothing to compare against; its own run halted on it.
    if stats_dir is None:
        return None
    try:
        return load_statistics_artifact(stats_dir)
    except DataContractError:
        return None
