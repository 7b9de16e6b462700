"""What the validation step does, independent of KFP: describe a batch, judge it, write the outcome.

Statistics and validation share one step so the pipeline pays TensorFlow's start-up once per batch; the
step still writes every artifact of both: TFDV statistics with their HTML and Markdown views, and the
validation report with TFDV's anomalies.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from components.ingest.step import load_batch
from components.schema.logic import SCHEMA_PATH, load_schema
from components.statistics.logic import Statistics, compute_statistics
from components.statistics.step import describe_batch
from components.validation.config import THRESHOLDS_PATH, load_thresholds
from components.validation.logic import unreadable_batch_result, validate_statistics, write_anomalies
from components.validation.markdown import render_report_markdown
from components.validation.report import ANOMALIES_FILE, REPORT_FILE, ValidationReport, write_report
from contracts.errors import DataContractError


@dataclass(frozen=True)
class ValidationOutputs:
    """Where the step writes: statistics folder, its HTML and Markdown views, report folder and its view."""

    stats_dir: Path
    stats_html: Path
    stats_markdown: Path
    report_dir: Path
    report_markdown: Path


def validate_batch(
    batch_dir: Path,
    outputs: ValidationOutputs,
    *,
    batch: str,
    previous_batch_dir: Path | None = None,
    schema_path: Path = SCHEMA_PATH,
    thresholds_path: Path = THRESHOLDS_PATH,
) -> ValidationReport:
    """Computes the batch's statistics and validates them (drift against ``previous_batch_dir`` when given).

    Bad data never raises here: an unreadable batch or a schema anomaly becomes a ``halt`` report for
    the gate, with every artifact still written.
    """
    described = describe_batch(
        batch_dir, outputs.stats_dir, outputs.stats_html, outputs.stats_markdown, title=batch.capitalize()
    )
    if described.statistics is None:
        result = unreadable_batch_result(DataContractError(str(described.unreadable_reason)), batch=batch)
    else:
        result = validate_statistics(
            described.statistics,
            load_schema(schema_path),
            previous=_statistics_of(previous_batch_dir),
            thresholds=load_thresholds(thresholds_path),
            batch=batch,
        )
    write_report(result.report, outputs.report_dir / REPORT_FILE)
    write_anomalies(result.anomalies, outputs.report_dir / ANOMALIES_FILE)
    outputs.report_markdown.write_text(render_report_markdown(result.report), encoding="utf-8")
    return result.report


def _statistics_of(batch_dir: Path | None) -> Statistics | None:
    # A previous batch that cannot be read gives nothing to compare against; its own run halted on it.
    if batch_dir is None:
        return None
    try:
        return compute_statistics(load_batch(batch_dir))
    except DataContractError:
        return None
