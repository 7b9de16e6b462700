"""The registry stays usable outside KFP: importing it (and its CLI commands) must not pull kfp in."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_importing_the_registry_and_its_commands_loads_no_kfp() -> None:
    probe = (
        "import sys, components.registry, components.registry.report, cli.model_commands; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'kfp'))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
