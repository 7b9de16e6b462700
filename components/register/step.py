"""What the register step decides, independent of KFP: the blessing, the stage of a new version and
whether it goes to production."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from components.evaluate.blessing import load_verdict
from components.evaluate.results import CANDIDATE_FILE, VERDICT_FILE, load_result, registry_metrics
from components.infra_validate.step import read_infra_report
from components.lineage import open_store
from components.registry import ModelRegistry, ModelVersion
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


def register_version(
    metadata_uri: str,
    *,
    model_version_id: int,
    model_name: str,
    promotion: str,
    blessing: Blessing,
    registry_lock: Path | None,
    trigger: str,
    run_id: str,
) -> ModelVersion:
    """Registers the recorded ``ModelVersion`` artifact as the model's next version, in the stage
    ``promotion`` and its blessing decide, and promotes it to production when both say so.

    Raises:
        ConfigError: for an unknown ``promotion``.
        RegistryError: when the registry refuses the change (it is then left as it was).
    """
    stage = first_stage(promotion)
    with open_store(metadata_uri) as store:
        registry = ModelRegistry(store, model_name=model_name, lock_path=registry_lock, actor="pipeline")
        version = registry.register(model_version_id, stage=stage, reason=f"trigger={trigger}")
        if promotes(promotion, blessing):
            version = registry.promote(version.version, reason=f"blessed by run {run_id}")
    return version


def registration_outcome(version: ModelVersion, blessing: Blessing) -> dict[str, Any]:
    """The step's summary: the version, its stage, and why it was not blessed if it was not."""
    return {
        "version": version.version,
        "stage": str(version.stage),
        "blessed": blessing.blessed,
        "failed_checks": blessing.failed,
    }
