"""The four ways a candidate meets live traffic, and the traffic steps each one takes."""

from __future__ import annotations

import enum

from components.rollout.core.config import StepConfig
from contracts.errors import RolloutError


class Strategy(enum.StrEnum):
    """How the candidate receives traffic.

    ``canary``: a growing share of requests (``steps.canary``), answered by the candidate.
    ``shadow``: a copy of every request; the candidate's answers are recorded and discarded.
    ``ab``: a fixed split (``steps.ab_split``) between main (A) and candidate (B) for one window.
    ``bandit``: a router that learns from feedback which version earns more reward, for one window.
    """

    CANARY = "canary"
    SHADOW = "shadow"
    AB = "ab"
    BANDIT = "bandit"


def parse_strategy(text: str) -> Strategy:
    """Returns the strategy named ``text`` (case-insensitive; ``a/b`` and ``a-b`` mean ``ab``).

    Raises:
        RolloutError: for an unknown name; the message lists the known ones.
    """
    key = text.strip().lower().replace("/", "").replace("-", "")
    try:
        return Strategy(key)
    except ValueError as exc:
        raise RolloutError(
            f"unknown rollout strategy {text!r}; use one of {', '.join(s.value for s in Strategy)}"
        ) from exc


def candidate_weights(strategy: Strategy, steps: StepConfig) -> tuple[int, ...]:
    """The candidate's traffic share (percent of user-facing answers) at each analysed step.

    A shadow candidate answers no user (0); a bandit's split is the router's, reported as 0 here because
    no fixed share is configured.
    """
    if strategy is Strategy.CANARY:
        return steps.canary
    if strategy is Strategy.AB:
        return (steps.ab_split,)
    return (0,)


def split(candidate_weight: int) -> tuple[int, int]:
    """The (main, candidate) traffic weights for a candidate share; they always sum to 100.

    Raises:
        RolloutError: for a share outside 0-100.
    """
    if not isinstance(candidate_weight, int) or not 0 <= candidate_weight <= 100:
        raise RolloutError(
            f"a traffic share must be a whole percentage within 0-100, got {candidate_weight!r}"
        )
    return 100 - candidate_weight, candidate_weight
