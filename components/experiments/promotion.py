"""Promoting an experiment's candidate: judged against today's production exactly as a pipeline run is.

No shortcut: the new batch is materialised by the ingest step's code, the candidate and production are
evaluated on those same rows by the evaluate step's code, the candidate is served and probed by infra
validation's code, and the blessing is combined by the register step's rule. Only then does the registry
move the candidate to blessed (or rejected).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from components.evaluate.logic import Evaluation
from components.evaluate.step import evaluate_step
from components.infra_validate.step import infra_validate_step
from components.ingest.logic import HistoricalFeatures
from components.ingest.step import materialise_batch
from components.register.step import Blessing, combine_blessing
from components.registry import ModelVersion

EVALUATION_DIR = "evaluation"
INFRA_DIR = "infra"


@dataclass(frozen=True)
class Judgement:
    """The outcome of judging a candidate against production.

    Attributes:
        blessing: The combined verdict (evaluation and infra validation), as the register step forms it.
        evaluation: Candidate and production results on the same rows.
        compared_with: The production version it was judged against (None when nothing served).
        work_dir: Where the batch, the results and both reports were written.
    """

    blessing: Blessing
    evaluation: Evaluation
    compared_with: str | None
    work_dir: Path


def judge_candidate(
    candidate: ModelVersion,
    production: ModelVersion | None,
    *,
    eval_month: int,
    features: HistoricalFeatures,
    work_dir: Path,
    serving_venv: Path | None = None,
) -> Judgement:
    """Evaluates ``candidate`` and ``production`` on month ``eval_month`` and infra-validates the candidate."""
    batch_dir = work_dir / "batch"
    materialise_batch(batch_dir, months=[eval_month], features=features)
    evaluation_dir = work_dir / EVALUATION_DIR
    evaluation_dir.mkdir(parents=True, exist_ok=True)
    outcome = evaluate_step(
        Path(candidate.uri),
        batch_dir,
        evaluation_dir,
        work_dir / "evaluation.md",
        production_model_dir=Path(production.uri) if production else None,
    )
    infra_validate_step(
        Path(candidate.uri), batch_dir, work_dir / INFRA_DIR, work_dir / "infra.md", serving_venv=serving_venv
    )
    return Judgement(
        blessing=combine_blessing(evaluation_dir, work_dir / INFRA_DIR),
        evaluation=outcome,
        compared_with=production.version if production else None,
        work_dir=work_dir,
    )
