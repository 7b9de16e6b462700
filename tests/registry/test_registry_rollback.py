"""Rollback: production returns to the previous production version, and only when there is one."""

from __future__ import annotations

import pytest
from registry_support import record_register_step

from components.lineage import LineageStore
from components.registry import ModelRegistry, Stage
from contracts.errors import RegistryError


def _promoted(store: LineageStore, registry: ModelRegistry, count: int) -> list[str]:
    names = []
    for i in range(count):
        name = registry.register(record_register_step(store, f"run-{i}")).version
        registry.promote(name, reason=f"promote {name}")
        names.append(name)
    return names


def test_rollback_restores_the_previous_production_and_withdraws_the_current(
    store: LineageStore, registry: ModelRegistry
) -> None:
    _promoted(store, registry, 3)
    restored = registry.rollback(reason="AUC fell on live traffic")

    assert (restored.version, restored.stage, restored.previous_production) == ("v2", Stage.PRODUCTION, "v1")
    assert registry.get("v3").stage is Stage.ROLLED_BACK
    assert registry.get("v1").stage is Stage.ARCHIVED
    withdrawn, reinstated = registry.transitions()[-2:]
    assert (withdrawn.version, withdrawn.from_stage, withdrawn.to_stage, withdrawn.trigger) == (
        "v3",
        Stage.PRODUCTION,
        Stage.ROLLED_BACK,
        "rollback",
    )
    assert withdrawn.reason == "AUC fell on live traffic"
    assert (reinstated.version, reinstated.from_stage, reinstated.to_stage) == (
        "v2",
        Stage.ARCHIVED,
        Stage.PRODUCTION,
    )
    assert reinstated.reason == "rollback from v3: AUC fell on live traffic"
    assert reinstated.sequence == withdrawn.sequence + 1


def test_rollbacks_walk_back_the_chain_until_there_is_nothing_before(
    store: LineageStore, registry: ModelRegistry
) -> None:
    _promoted(store, registry, 3)
    assert registry.rollback(reason="first").version == "v2"
    assert registry.rollback(reason="second").version == "v1"
    with pytest.raises(RegistryError, match="v1 has no previous production version to roll back to"):
        registry.rollback(reason="third")
    assert [v.stage for v in registry.list_versions()] == [
        Stage.PRODUCTION,
        Stage.ROLLED_BACK,
        Stage.ROLLED_BACK,
    ]


def test_a_rolled_back_version_cannot_be_promoted_again(store: LineageStore, registry: ModelRegistry) -> None:
    _promoted(store, registry, 2)
    registry.rollback(reason="bad")
    with pytest.raises(RegistryError, match="cannot go from rolled_back to production"):
        registry.promote("v2", reason="retry")


def test_rollback_with_nothing_in_production_is_a_clear_error(
    store: LineageStore, registry: ModelRegistry
) -> None:
    with pytest.raises(RegistryError, match="has no version in production, so there is nothing to roll back"):
        registry.rollback(reason="panic")
    _promoted(store, registry, 1)
    registry.transition("v1", "archived", reason="retired")
    with pytest.raises(RegistryError, match="nothing to roll back"):
        registry.rollback(reason="panic")
    assert registry.transitions()[-1].to_stage is Stage.ARCHIVED
