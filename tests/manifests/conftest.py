"""Fixtures shared by the manifest checks: every kustomization rendered once per session."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from manifest_support import OVERLAYS, copy_with_secrets, render


@pytest.fixture(scope="session")
def manifests_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of manifests/ with generated secret env files in every overlay."""
    return copy_with_secrets(tmp_path_factory.mktemp("manifests") / "manifests")


@pytest.fixture(scope="session")
def rendered(manifests_copy: Path) -> dict[str, list[dict[str, Any]]]:
    """Overlay (or ``platform``) -> the objects ``kubectl kustomize`` renders for it."""
    builds = {overlay: render(manifests_copy / "overlays" / overlay) for overlay in OVERLAYS}
    builds["platform"] = render(manifests_copy / "platform")
    return builds
