"""The SeldonDeployments shown in components/rollout/README.md are exactly what the renderer produces."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from components.rollout.crd import check_seldon_deployment
from components.rollout.render import DeploymentPlan, ServedVersion, render_manifests
from components.rollout.state import Phase, RolloutState
from components.rollout.strategy import Strategy

README = Path(__file__).resolve().parents[2] / "components" / "rollout" / "README.md"
MAIN = ServedVersion("v3", "s3://mlpipeline/models/flight-delay/v3")
CANDIDATE = ServedVersion("v4", "s3://mlpipeline/models/flight-delay/v4")
IMAGE = "localhost:5000/flights-mlops-serving:0.1.0"
STATE = RolloutState(
    rollout_id="flight-delay-v4-20261127t081500",
    model="flight-delay",
    strategy=Strategy.CANARY,
    main_version="v3",
    candidate_version="v4",
    phase=Phase.PROGRESSING,
    step=1,
    weights=(10, 25, 50, 100),
    step_started_at=1795767600.0,
    message="step 1 of 4 (10% of traffic) passed; step 2 at 25%",
)
SECTIONS = {
    Strategy.CANARY: ("### canary", 25),
    Strategy.SHADOW: ("### shadow", 0),
    Strategy.AB: ("### A/B", 50),
    Strategy.BANDIT: ("### bandit", 0),
}


def _documented(title: str) -> list[dict]:  # type: ignore[type-arg]
    text = README.read_text(encoding="utf-8")
    start = text.index(f"\n{title}")
    block = re.search(r"```yaml\n(.*?)```", text[start:], re.S)
    assert block is not None, f"no YAML under {title}"
    return list(yaml.safe_load_all(block.group(1)))


@pytest.mark.parametrize("strategy", list(Strategy))
def test_documented_manifests_are_rendered_ones(strategy: Strategy) -> None:
    title, weight = SECTIONS[strategy]
    annotations = STATE.to_annotations() if strategy is Strategy.CANARY else {}
    plan = DeploymentPlan(
        main=MAIN,
        candidate=CANDIDATE,
        strategy=strategy,
        candidate_weight=weight,
        annotations=annotations,
        image=IMAGE,
    )
    documented = _documented(title)
    assert documented == render_manifests(plan)
    check_seldon_deployment(documented[0])


def test_the_walkthrough_uses_the_annotation_the_controller_reads() -> None:
    text = README.read_text(encoding="utf-8")
    assert (
        "rollout.flights-mlops.io/request=abort" in text
        and "rollout.flights-mlops.io/request=promote" in text
    )
    assert "kubectl apply -f" in text and "get sdep flight-delay -w" in text
