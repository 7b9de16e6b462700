"""What the evaluate step does, independent of KFP: judge a candidate against production on the same rows."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from components.evaluate.blessing import Verdict, judge, save_verdict
from components.evaluate.logic import evaluate_artifact
from components.evaluate.report import render_report
from components.evaluate.results import (
    CANDIDATE_FILE,
    PRODUCTION_FILE,
    VERDICT_FILE,
    EvaluationResult,
    save_result,
)
from components.evaluate.thresholds import DEFAULT_THRESHOLDS_PATH, load_thresholds
from components.ingest.step import load_batch


@dataclass(frozen=True)
class EvaluationOutcome:
    candidate: EvaluationResult
    production: EvaluationResult | None
    verdict: Verdict


def evaluate_step(
    model_dir: Path,
    batch_dir: Path,
    out_dir: Path,
    report_path: Path,
    *,
    production_model_dir: Path | None,
    thresholds_path: Path = DEFAULT_THRESHOLDS_PATH,
) -> EvaluationOutcome:
    """Evaluates the candidate (and production, when there is one) on the batch and blesses or not.

    Both models see exactly the same rows, so the change thresholds compare like with like; the first
    model is judged by the absolute thresholds alone.
    """
    frame = load_batch(batch_dir)
    thresholds = load_thresholds(thresholds_path)
    candidate = evaluate_artifact(model_dir, frame, model_name="candidate", thresholds=thresholds)
    production = None
    if production_model_dir is not None:
        production = evaluate_artifact(
            production_model_dir, frame, model_name="production", thresholds=thresholds, importance_rows=0
        )
        save_result(production, out_dir / PRODUCTION_FILE)
    verdict = judge(candidate, production, thresholds)
    save_result(candidate, out_dir / CANDIDATE_FILE)
    save_verdict(verdict, out_dir / VERDICT_FILE)
    report_path.write_text(render_report(candidate, verdict, production), encoding="utf-8")
    return EvaluationOutcome(candidate=candidate, production=production, verdict=verdict)
