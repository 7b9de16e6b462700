"""A model version's stages and the stage changes the registry allows.

The table is data, not code paths, so the README diagram, the checks and the tests read the same facts.
"""

from __future__ import annotations

import enum

from contracts.errors import RegistryError


class Stage(enum.StrEnum):
    """Where a model version is in its life.

    ``candidate``: registered before its blessing is known. ``blessed``: passed every evaluation check.
    ``rejected``: failed them or was turned down (terminal). ``canary``: serving a share of the traffic.
    ``production``: serving all of it (at most one version per model). ``archived``: retired, kept as a
    rollback target. ``rolled_back``: was production and was withdrawn by a rollback (terminal).
    """

    CANDIDATE = "candidate"
    BLESSED = "blessed"
    REJECTED = "rejected"
    CANARY = "canary"
    PRODUCTION = "production"
    ARCHIVED = "archived"
    ROLLED_BACK = "rolled_back"


# Stage changes a caller may ask for with `transition`. Two more happen only as side effects: promoting a
# version archives the one in production, and a rollback moves production to rolled_back and its previous
# production from archived back to production.
ALLOWED: dict[Stage, frozenset[Stage]] = {
    Stage.CANDIDATE: frozenset({Stage.BLESSED, Stage.REJECTED, Stage.ARCHIVED}),
    Stage.BLESSED: frozenset({Stage.CANARY, Stage.PRODUCTION, Stage.REJECTED, Stage.ARCHIVED}),
    Stage.CANARY: frozenset({Stage.PRODUCTION, Stage.BLESSED, Stage.REJECTED, Stage.ARCHIVED}),
    Stage.PRODUCTION: frozenset({Stage.ARCHIVED}),
    Stage.ARCHIVED: frozenset(),
    Stage.REJECTED: frozenset(),
    Stage.ROLLED_BACK: frozenset(),
}

# Stages a version may start in; production and canary are reached through a transition, never directly.
INITIAL: frozenset[Stage] = frozenset({Stage.CANDIDATE, Stage.BLESSED, Stage.REJECTED})

# Stages that need a positive blessing: a worse model never serves traffic.
NEEDS_BLESSING: frozenset[Stage] = frozenset({Stage.BLESSED, Stage.CANARY, Stage.PRODUCTION})


def parse_stage(text: str) -> Stage:
    """Returns the stage named ``text`` (case-insensitive, ``-`` or ``_``).

    Raises:
        RegistryError: for an unknown name; the message lists the known ones.
    """
    try:
        return Stage(text.strip().lower().replace("-", "_"))
    except ValueError as exc:
        known = ", ".join(stage.value for stage in Stage)
        raise RegistryError(f"unknown stage {text!r}; use one of {known}") from exc


def check_transition(version: str, current: Stage, target: Stage, *, blessed: bool) -> None:
    """Refuses a stage change the table does not allow or the blessing does not support.

    Args:
        version: The version's name, for the message.
        current: Its stage now.
        target: The stage asked for.
        blessed: Its blessing verdict.

    Raises:
        RegistryError: naming the version, both stages and what would be allowed.
    """
    if current == target:
        raise RegistryError(f"{version} is already {current.value}")
    if target not in ALLOWED[current]:
        allowed = ", ".join(sorted(stage.value for stage in ALLOWED[current])) or "nothing (terminal stage)"
        raise RegistryError(
            f"{version} cannot go from {current.value} to {target.value}; from {current.value} it may go to "
            f"{allowed}"
        )
    if target in NEEDS_BLESSING and not blessed:
        raise RegistryError(
            f"{version} was not blessed by evaluation, so it cannot become {target.value}; "
            "a model that failed its checks never serves traffic"
        )
