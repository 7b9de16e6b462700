"""The `mlops` command starts without the heavy libraries: building its parser (all `--help` needs) imports
neither kfp, pandas, TensorFlow, nor ML Metadata, jsonschema or YAML; each command loads what it uses
when it runs (`make bench-cli` measures the wall times)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]
HEAVY = ("kfp", "pandas", "tensorflow", "tensorflow_data_validation", "ml_metadata", "jsonschema", "yaml")


def test_the_command_line_imports_no_heavy_library() -> None:
    probe = f"import sys, cli.main; cli.main.build_parser(); print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPOSITORY, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "", f"imported at start-up: {done.stdout.strip()}"
