"""What the evaluate step does, independent of KFP: evaluate a batch artifact and write the results."""

from __future__ import annotations

from pathlib import Path

from components.evaluate.blessing import save_verdict
from components.evaluate.logic import Evaluation, evaluate_candidate
from components.evaluate.results import CANDIDATE_FILE, PRODUCTION_FILE, VERDICT_FILE, save_result
from components.evaluate.thresholds import DEFAULT_THRESHOLDS_PATH
from components.ingest.step import load_batch


def evaluate_step(
    model_dir: Path,
    batch_dir: Path,
    out_dir: Path,
    report_path: Path,
    *,
    production_model_dir: Path | None,
    thresholds_path: Path = DEFAULT_THRESHOLDS_PATH,
) -> Evaluation:
    """Evaluates the candidate (and production, when there is one) on the batch and writes the outcome.

    ``out_dir`` gets ``candidate.json``, ``production.json`` when there is a production model, and
    ``verdict.json``; ``report_path`` gets the Markdown report.
    """
    outcome = evaluate_candidate(
        model_dir, load_batch(batch_dir), production_dir=production_model_dir, thresholds_path=thresholds_path
    )
    save_result(outcome.candidate, out_dir / CANDIDATE_FILE)
    if outcome.production is not None:
        save_result(outcome.production, out_dir / PRODUCTION_FILE)
    save_verdict(outcome.verdict, out_dir / VERDICT_FILE)
    report_path.write_text(outcome.report, encoding="utf-8")
    return outcome


def evaluation_properties(outcome: Evaluation, compared_with: str | None) -> dict[str, bool | float | str]:
    """What lineage records of an evaluation: the verdict, the headline metrics and the version beaten."""
    overall = outcome.candidate.overall
    properties: dict[str, bool | float | str] = {
        "blessed": outcome.verdict.blessed,
        "auc": overall.auc or 0.0,
        "log_loss": overall.log_loss,
    }
    if compared_with is not None:
        properties["compared_with"] = compared_with
    return properties


SCALAR_METRICS = ("auc", "log_loss", "accuracy", "precision", "recall", "expected_calibration_error")


def scalar_metrics(outcome: Evaluation) -> dict[str, float]:
    """The candidate's metrics a run's dashboard shows: overall, and AUC by origin airport."""
    overall = outcome.candidate.overall
    values = {name: getattr(overall, name) for name in SCALAR_METRICS}
    values |= {f"auc_{origin.value}": origin.metrics.auc for origin in outcome.candidate.slices_of("origin")}
    return {name: round(float(value), 6) for name, value in values.items() if value is not None}
