"""What the materialisation step does, independent of KFP: build the store when it has none, then load
the online store incrementally up to an instant, and describe what was loaded."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from components.features.environment import FeatureEnvironment
from contracts.feature_catalog import CONFIG_FILE


@dataclass(frozen=True)
class MaterializeOutcome:
    """What one materialisation did.

    Attributes:
        applied: Whether the store was built (offline rows written, views registered) first.
        result: The worker's answer: per view the window loaded (None when already up to date), seconds.
    """

    applied: bool
    result: dict[str, Any]

    def to_markdown(self) -> str:
        """A table of the views and the windows loaded, for the pipeline dashboard."""
        lines = [
            f"# Feature store materialised up to {self.result['end']}",
            "",
            f"{'Built the store first; ' if self.applied else ''}incremental, {self.result['seconds']} s.",
            "",
            "| view | window loaded |",
            "|---|---|",
        ]
        for view, window in self.result["windows"].items():
            lines.append(f"| {view} | {'up to date' if window is None else f'{window[0]} .. {window[1]}'} |")
        return "\n".join(lines) + "\n"


def materialize_step(repo: Path, end: datetime, *, venv: Path | None = None) -> MaterializeOutcome:
    """Builds the store in ``repo`` when it holds none, then materialises every view up to ``end``."""
    store = FeatureEnvironment(repo=repo, venv=venv)
    applied = not (repo / CONFIG_FILE).is_file()
    if applied:
        store.apply()
    return MaterializeOutcome(applied=applied, result=store.materialize(end))
