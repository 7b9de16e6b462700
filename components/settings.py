"""Explicit, typed project settings, resolved once by the entry point and passed down.

Nothing reads the environment at import time: the CLI (or a test) calls ``ProjectSettings.resolve``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

# The checkout (or image folder) holding the project: where `git` finds its version and where server
# processes started from here find its packages.
PROJECT_ROOT = Path(__file__).resolve().parents[1]

STATE_DIR_VARIABLE = "MLOPS_STATE_DIR"
METADATA_URI_VARIABLE = "MLOPS_METADATA_URI"
DEFAULT_STATE_DIR = ".mlops"
SERVING_VENV_VARIABLE = "MLOPS_SERVING_VENV"
FEATURES_VENV_VARIABLE = "MLOPS_FEATURES_VENV"
FEATURE_REPO_VARIABLE = "MLOPS_FEATURE_REPO"


@dataclass(frozen=True)
class ProjectSettings:
    """Where the platform keeps its state on this machine.

    Attributes:
        state_dir: Folder for the lineage store, pipeline outputs and exported data.
        metadata_uri: ML Metadata connection (``sqlite:///...``, ``mysql://...``, ``grpc://...``).
        feature_repo_dir: The feature store's folder when it is not the state folder's own (one store
            shared by several state folders, as tests do).
    """

    state_dir: Path
    metadata_uri: str
    feature_repo_dir: Path | None = None

    @property
    def pipeline_root(self) -> Path:
        return self.state_dir / "pipeline-root"

    @property
    def feature_repo(self) -> Path:
        """The feature store's folder: rendered Feast configuration, offline files, registry, online store."""
        return self.feature_repo_dir or self.state_dir / "features"

    @property
    def registry_lock(self) -> Path:
        """The file lock that serialises registry writers on this machine."""
        return self.state_dir / "registry.lock"

    @classmethod
    def resolve(cls, environ: Mapping[str, str] | None = None, cwd: Path | None = None) -> ProjectSettings:
        """Builds settings from the given environment, with defaults under ``cwd/.mlops``.

        Example:
            >>> settings = ProjectSettings.resolve({}, Path("/tmp/project"))
            >>> settings.metadata_uri
            'sqlite:////tmp/project/.mlops/metadata.sqlite'
        """
        environ = os.environ if environ is None else environ
        base = cwd or Path.cwd()
        state_dir = (base / environ.get(STATE_DIR_VARIABLE, DEFAULT_STATE_DIR)).resolve()
        default_uri = f"sqlite:///{state_dir / 'metadata.sqlite'}"
        feature_repo = environ.get(FEATURE_REPO_VARIABLE, "")
        return cls(
            state_dir=state_dir,
            metadata_uri=environ.get(METADATA_URI_VARIABLE, default_uri),
            feature_repo_dir=(base / feature_repo).resolve() if feature_repo else None,
        )


def configured_serving_venv(environ: Mapping[str, str] | None = None) -> Path | None:
    """The serving environment named by ``MLOPS_SERVING_VENV`` (the pipeline image sets it), if any."""
    value = (os.environ if environ is None else environ).get(SERVING_VENV_VARIABLE, "")
    return Path(value) if value else None


def configured_features_venv(environ: Mapping[str, str] | None = None) -> Path | None:
    """The features environment named by ``MLOPS_FEATURES_VENV`` (the pipeline image sets it), if any."""
    value = (os.environ if environ is None else environ).get(FEATURES_VENV_VARIABLE, "")
    return Path(value) if value else None
