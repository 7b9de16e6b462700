"""Stage changes: the allowed-transition table, the production pointer and the blessing guard."""

from __future__ import annotations

import pytest
from registry_support import record_register_step

from components.lineage import LineageStore
from components.registry import ALLOWED, ModelRegistry, Stage
from contracts.errors import RegistryError


def _versions(store: LineageStore, registry: ModelRegistry, count: int) -> list[str]:
    return [registry.register(record_register_step(store, f"run-{i}")).version for i in range(count)]


def test_promotion_archives_production_and_points_back_to_it(
    store: LineageStore, registry: ModelRegistry
) -> None:
    v1, v2, v3 = _versions(store, registry, 3)
    first = registry.promote(v1, reason="first model")
    registry.transition(v2, "canary", reason="try on 10% of traffic")
    second = registry.promote(v2, reason="canary healthy")
    third = registry.transition(v3, Stage.PRODUCTION, reason="beats v2")

    assert (first.stage, first.previous_production) == (Stage.PRODUCTION, None)
    assert (second.stage, second.previous_production) == (Stage.PRODUCTION, "v1")
    assert (third.stage, third.previous_production) == (Stage.PRODUCTION, "v2")
    assert registry.production() == third
    assert [(v.version, v.stage) for v in registry.list_versions()] == [
        ("v1", Stage.ARCHIVED),
        ("v2", Stage.ARCHIVED),
        ("v3", Stage.PRODUCTION),
    ]
    [replaced] = [t for t in registry.history("v2") if t.trigger == "replaced"]
    assert (replaced.from_stage, replaced.to_stage, replaced.reason) == (
        Stage.PRODUCTION,
        Stage.ARCHIVED,
        "replaced by v3: beats v2",
    )


def test_an_unblessed_version_never_reaches_a_serving_stage(
    store: LineageStore, registry: ModelRegistry
) -> None:
    good = registry.register(record_register_step(store, "run-1")).version
    registry.promote(good, reason="baseline")
    worse = registry.register(record_register_step(store, "run-2", blessed=False), stage="candidate").version

    with pytest.raises(RegistryError, match="not blessed by evaluation, so it cannot become blessed"):
        registry.transition(worse, Stage.BLESSED, reason="force it")
    # Serving stages are only reachable from blessed, which the blessing guard closes.
    for target in (Stage.CANARY, Stage.PRODUCTION):
        with pytest.raises(RegistryError, match=f"cannot go from candidate to {target}"):
            registry.transition(worse, target, reason="force it")

    current = registry.production()
    assert current is not None and current.version == good
    assert registry.get(worse).stage is Stage.CANDIDATE
    assert [t.to_stage for t in registry.history(worse)] == [Stage.CANDIDATE]


@pytest.mark.parametrize(
    ("path", "target", "complaint"),
    [
        (["rejected"], "blessed", "from rejected it may go to nothing \\(terminal stage\\)"),
        (["rejected"], "archived", "cannot go from rejected to archived"),
        (["archived"], "production", "cannot go from archived to production"),
        (["production"], "canary", "cannot go from production to canary"),
        (["production", "archived"], "blessed", "cannot go from archived to blessed"),
        ([], "blessed", "v1 is already blessed"),
        ([], "staging", "unknown stage 'staging'"),
    ],
)
def test_forbidden_transitions_are_refused_and_change_nothing(
    store: LineageStore, registry: ModelRegistry, path: list[str], target: str, complaint: str
) -> None:
    [version] = _versions(store, registry, 1)
    for stage in path:
        registry.transition(version, stage, reason="setup")
    before = (registry.get(version), registry.transitions())
    with pytest.raises(RegistryError, match=complaint):
        registry.transition(version, target, reason="not allowed")
    assert (registry.get(version), registry.transitions()) == before


def test_every_allowed_transition_from_blessed_is_accepted(
    store: LineageStore, registry: ModelRegistry
) -> None:
    targets = sorted(ALLOWED[Stage.BLESSED])
    versions = _versions(store, registry, len(targets))
    for version, target in zip(versions, targets, strict=True):
        assert registry.transition(version, target, reason="table").stage == target


def test_only_one_canary_at_a_time_and_a_canary_can_step_back(
    store: LineageStore, registry: ModelRegistry
) -> None:
    v1, v2 = _versions(store, registry, 2)
    registry.transition(v1, "canary", reason="try")
    with pytest.raises(RegistryError, match="v1 is already canary"):
        registry.transition(v2, "canary", reason="try too")
    assert registry.transition(v1, "blessed", reason="canary stopped").stage is Stage.BLESSED
    assert registry.transition(v2, "canary", reason="now you").stage is Stage.CANARY


def test_retiring_production_leaves_none_and_the_next_promotion_has_no_previous(
    store: LineageStore, registry: ModelRegistry
) -> None:
    v1, v2 = _versions(store, registry, 2)
    registry.promote(v1, reason="first")
    registry.transition(v1, "archived", reason="retired")
    assert registry.production() is None
    assert registry.promote(v2, reason="fresh start").previous_production is None
