"""Fixtures of the registry tests: a fresh SQLite lineage store and a registry on it with a fixed clock."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from registry_support import FIXED_NOW

from components.lineage import LineageStore, open_store
from components.registry import ModelRegistry


@pytest.fixture
def store(tmp_path: Path) -> Iterator[LineageStore]:
    with open_store(f"sqlite:///{tmp_path}/metadata.sqlite") as opened:
        yield opened


@pytest.fixture
def registry(store: LineageStore, tmp_path: Path) -> ModelRegistry:
    return ModelRegistry(store, lock_path=tmp_path / "registry.lock", actor="test", clock=lambda: FIXED_NOW)
