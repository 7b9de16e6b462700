"""The version of the code that ran a step: a git commit locally, an image digest in the cluster."""

from __future__ import annotations

import subprocess
from pathlib import Path

UNKNOWN = "unknown"


def git_version(repo_dir: Path) -> str:
    """The checked-out commit of ``repo_dir``, with ``-dirty`` when tracked files have changes.

    Returns ``unknown`` outside a git work tree, so an exported source tree still runs.
    """
    try:
        sha = _git(repo_dir, "rev-parse", "--short=12", "HEAD")
        dirty = _git(repo_dir, "status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.CalledProcessError):
        return UNKNOWN
    return f"{sha}-dirty" if dirty else sha


def _git(repo_dir: Path, *args: str) -> str:
    completed = subprocess.run(
        ["git", "-C", str(repo_dir), *args], check=True, capture_output=True, text=True, timeout=10
    )
    return completed.stdout.strip()
