"""The `mlops` command starts without the heavy libraries: a read-only command imports neither kfp nor
pandas nor TensorFlow; only the commands that run a pipeline or touch data load them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]
HEAVY = ("kfp", "pandas", "tensorflow", "tensorflow_data_validation")


def test_the_command_line_imports_no_heavy_library() -> None:
    probe = f"import sys, cli.main; print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPOSITORY, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "", f"imported at start-up: {done.stdout.strip()}"
