"""One registry writer at a time on this machine: an exclusive ``flock`` on a lock file.

The kernel releases a ``flock`` when its file descriptor closes, and a process that dies (even by SIGKILL)
closes all of them, so a crashed writer never leaves the registry locked. The lock only spans processes
that see the same file on the same kernel; correctness across machines comes from the store itself (see
``ModelRegistry``), the lock just keeps local writers from wasting attempts on each other.
"""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path
from types import TracebackType

from contracts.errors import MlopsError, RegistryError

_POLL_SECONDS = 0.02


class WriterLock:
    """An exclusive, crash-safe lock on a file, taken with a timeout.

    Not re-entrant: each ``with`` block opens its own descriptor, and ``flock`` locks held through two
    descriptors of one process exclude each other, so a nested block would wait for itself.

    Example:
        >>> with WriterLock(Path(".mlops/registry.lock"), timeout_seconds=30):
        ...     ...  # read, decide, write
    """

    def __init__(
        self,
        path: Path,
        *,
        timeout_seconds: float = 60.0,
        error: type[MlopsError] = RegistryError,
        holder: str = "registry writer",
    ) -> None:
        """Prepares the lock; nothing is opened until the ``with`` block starts.

        Args:
            path: The lock file, created with its folders when missing. Its content is never read.
            timeout_seconds: How long to wait for another writer before giving up.
            error: The error family a failure is reported in (the lock's user's, not the registry's).
            holder: What holds the lock, as the timeout message names it.
        """
        self.path = path
        self.timeout_seconds = timeout_seconds
        self.error = error
        self.holder = holder
        self._fd: int | None = None

    def __enter__(self) -> WriterLock:
        if self._fd is not None:
            raise self.error(f"the writer lock {self.path} is already held by this object")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise self.error(f"cannot open the lock file {self.path}: {exc}") from exc
        deadline = time.monotonic() + self.timeout_seconds
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                # Polling rather than a blocking flock keeps the timeout without signals or threads.
                if time.monotonic() >= deadline:
                    os.close(fd)
                    raise self.error(
                        f"another {self.holder} has held {self.path} for over {self.timeout_seconds:g} s; "
                        "try again, or check for a stuck process"
                    ) from None
                time.sleep(_POLL_SECONDS)
            except OSError as exc:
                os.close(fd)
                raise self.error(f"cannot lock {self.path}: {exc}") from exc
        self._fd = fd
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if self._fd is not None:
            # Closing the descriptor releases the lock; no explicit LOCK_UN needed.
            os.close(self._fd)
            self._fd = None
