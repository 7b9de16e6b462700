"""Settings-file tests: an edited copy of a shipped file, and the refusal every settings loader owes a bad
one (its own error family, the message led by the file's path)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest


def edited_copy(shipped: Path, folder: Path, old: str, new: str) -> Path:
    """``shipped`` with ``old`` replaced by ``new``, written under the same name into ``folder``."""
    text = shipped.read_text(encoding="utf-8")
    assert old in text
    path = folder / shipped.name
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


def assert_refused_naming_the_file(
    load: Callable[[Path], object], path: Path, error: type[Exception], message: str
) -> None:
    """``load(path)`` raises ``error`` matching ``message``, and the message starts with the path."""
    with pytest.raises(error, match=message) as raised:
        load(path)
    assert str(raised.value).startswith(f"{path}: ")
