"""What the register step decides, independent of KFP: the blessing and the stage of a new version."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from components.evaluate.blessing import load_verdict
from components.evaluate.results import CANDIDATE_FILE, VERDICT_FILE, load_result, registry_metrics
from components.infra_validate.step import read_infra_report
from components.registry.stages import Stage
from contracts.errors import ConfigError

PROMOTE_TO_PRODUCTION = "production"
KEEP_BLESSED = "blessed"
# An experiment's run: registered as a candidate, judged against production only when it is promoted.
KEEP_CANDIDATE = "candidate"
PROMOTIONS = (PROMOTE_TO_PRODUCTION, KEEP_BLESSED, KEEP_CANDIDATE)


def first_stage(promotion: str) -> Stage | None:
    """The stage a new version is registered in; None lets its blessing decide (blessed or rejected).

    Raises:
        ConfigError: for a promotion other than those in ``PROMOTIONS``.
    """
    if promotion not in PROMOTIONS:
        raise ConfigError(f"promotion must be one of {', '.join(PROMOTIONS)}, not {promotion!r}")
    return Stage.CANDIDATE if promotion == KEEP_CANDIDATE else None


def promotes(promotion: str, blessing: Blessing) -> bool:
    """Whether the new version goes to production at once: blessed, in a run that promotes."""
    return blessing.blessed and promotion == PROMOTE_TO_PRODUCTION


@dataclass(frozen=True)
class Blessing:
    blessed: bool
    checks: tuple[Mapping[str, Any], ...]
    metrics: Mapping[str, Any]

    @property
    def failed(self) -> list[str]:
        return [str(check["name"]) for check in self.checks if not check["passed"]]


def combine_blessing(evaluation_dir: Path, infra_dir: Path) -> Blessing:
    """A version is blessed only when evaluation blessed it AND it passed infra validation."""
    verdict = load_verdict(evaluation_dir / VERDICT_FILE)
    infra = read_infra_report(infra_dir)
    checks: list[Mapping[str, Any]] = [{**asdict(check), "stage": "evaluation"} for check in verdict.checks]
    infra_checks: Sequence[Mapping[str, Any]] = infra["checks"]  # type: ignore[assignment]
    checks += [
        {
            "name": c["name"],
            "description": c.get("detail") or c["name"],
            "value": c["measured"],
            "threshold": c["budget"],
            "passed": c["passed"],
            "stage": "infra",
        }
        for c in infra_checks
    ]
    metrics = registry_metrics(load_result(evaluation_dir / CANDIDATE_FILE))
    return Blessing(blessed=verdict.blessed and bool(infra["passed"]), checks=tuple(checks), metrics=metrics)
