"""The data gate: a run goes on to training only when validation did not halt it."""

from __future__ import annotations

from components.validation.report import ValidationReport
from contracts.errors import DataValidationHalt


def enforce(report: ValidationReport) -> str:
    """Returns the verdict when the run may go on; raises on ``halt``.

    Raises:
        DataValidationHalt: naming each feature and anomaly type, so the failed step's message alone
            tells the user what to fix.
    """
    if report.verdict != "halt":
        return report.verdict
    findings = "; ".join(f"{a.feature}: {a.type} ({a.description})" for a in report.anomalies)
    raise DataValidationHalt(
        f"data validation halted the run before training: {len(report.anomalies)} anomal"
        f"{'y' if len(report.anomalies) == 1 else 'ies'} in {report.batch}: {findings}"
    )
