"""Every JSON command ends quietly when the reader of its output has gone (`mlops models list --json |
head -1`), as Unix tools do: exit 141 (128 + SIGPIPE), no traceback, nothing on stderr."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ct_support import seed_production

from components.settings import ProjectSettings

REPOSITORY = Path(__file__).resolve().parents[2]
JSON_COMMANDS = (
    ["runs", "list"],
    ["models", "list"],
    ["models", "show", "v1"],
    ["lineage", "v1"],
    ["images", "list"],
    ["monitor", "triggers"],
    ["rollout", "status", "--local"],
)


def test_json_commands_end_quietly_when_their_reader_has_gone(june_model: Path, tmp_path: Path) -> None:
    environment = {**os.environ, "MLOPS_STATE_DIR": str(tmp_path / "state")}
    seed_production(ProjectSettings.resolve(environment, REPOSITORY), june_model)
    started = []
    for command in JSON_COMMANDS:
        # The read end is closed before the command writes a byte: its very first write finds no reader.
        read_end, write_end = os.pipe()
        os.close(read_end)
        process = subprocess.Popen(
            [sys.executable, "-m", "cli.main", *command, "--json"],
            cwd=REPOSITORY,
            env=environment,
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
        )
        os.close(write_end)
        started.append((command, process))
    for command, process in started:
        _, stderr = process.communicate(timeout=120)
        assert (process.returncode, stderr) == (141, ""), f"mlops {' '.join(command)} --json: {stderr}"
