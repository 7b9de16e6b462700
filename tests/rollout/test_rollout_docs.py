"""The SeldonDeployments components/rollout/README.md links to (tests/rollout/golden/) are exactly what the
renderer produces; ``UPDATE_GOLDEN=1`` rewrites them after a reviewed change."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from components.rollout.core.crd import check_seldon_deployment
from components.rollout.core.render import DeploymentPlan, ServedVersion, render_manifests
from components.rollout.core.state import Phase, RolloutState
from components.rollout.core.strategy import Strategy

README = Path(__file__).resolve().parents[2] / "components" / "rollout" / "README.md"
GOLDEN_DIR = Path(__file__).parent / "golden"
UPDATE_VARIABLE = "UPDATE_GOLDEN"
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
# The golden file of each strategy and the candidate's weight it is rendered at.
EXAMPLES = {
    Strategy.CANARY: ("canary.yaml", 25),
    Strategy.SHADOW: ("shadow.yaml", 0),
    Strategy.AB: ("ab.yaml", 50),
    Strategy.BANDIT: ("bandit.yaml", 0),
}


@pytest.mark.parametrize("strategy", list(Strategy))
def test_documented_manifests_are_rendered_ones(strategy: Strategy) -> None:
    file_name, weight = EXAMPLES[strategy]
    annotations = STATE.to_annotations() if strategy is Strategy.CANARY else {}
    plan = DeploymentPlan(
        main=MAIN,
        candidate=CANDIDATE,
        strategy=strategy,
        candidate_weight=weight,
        annotations=annotations,
        image=IMAGE,
    )
    rendered = render_manifests(plan)
    golden = GOLDEN_DIR / file_name
    if os.environ.get(UPDATE_VARIABLE):
        golden.write_text(yaml.safe_dump_all(rendered, sort_keys=False), encoding="utf-8")
    documented = list(yaml.safe_load_all(golden.read_text(encoding="utf-8")))
    assert documented == rendered, (
        f"{golden.name} differs from the renderer: review, then {UPDATE_VARIABLE}=1"
    )
    check_seldon_deployment(documented[0])
    assert f"golden/{file_name}" in README.read_text(encoding="utf-8")


def test_the_walkthrough_uses_the_annotation_the_controller_reads() -> None:
    text = README.read_text(encoding="utf-8")
    assert (
        "rollout.flights-mlops.io/request=abort" in text
        and "rollout.flights-mlops.io/request=promote" in text
    )
    assert "kubectl apply -f" in text and "get sdep flight-delay -w" in text
