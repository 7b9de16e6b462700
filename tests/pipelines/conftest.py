"""Fixtures shared by the pipeline tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from ct_support import train_june_model


@pytest.fixture(scope="session")
def june_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model trained on June, as the quick pipeline runs train it, to stand in as production."""
    return train_june_model(tmp_path_factory.mktemp("june") / "model")
