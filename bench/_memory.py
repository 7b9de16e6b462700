"""Peak memory of a process and all its descendants, sampled from /proc (Linux; no psutil).

The pipeline's steps are child processes (kfp.local steps, the features worker they start, the model
server infra validation starts), so the memory a run needs is the sum over the whole tree at one instant,
not any one process's peak. Two sums are kept:

- resident (RSS, as ``ps``/``top`` show it): counts a page shared by several processes once per process,
  so it errs high. Steps forked from the warm step server share its imported libraries page for page,
  and the resident sum counts those pages once per step alive, as if each had imported them itself.
- proportional (PSS, ``/proc/PID/smaps_rollup``): a page shared by N processes counts 1/N in each, so
  the sum over the tree is the memory the tree holds (what the machine must have), shared or not.

Example:
    >>> with TreeMemorySampler() as sampler:  # doctest: +SKIP
    ...     run_something()
    >>> sampler.peak_bytes(), sampler.peak_bytes(kind="rss")  # doctest: +SKIP
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from types import TracebackType

PROC = Path("/proc")
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")


def _children_of() -> dict[int, list[int]]:
    """Every live process's children, from each process's parent id in /proc/PID/stat."""
    children: dict[int, list[int]] = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # the process ended between the listing and the read
            continue
        # The command name (field 2) may hold spaces and parentheses: fields resume after the last ')'.
        parent = int(stat[stat.rindex(")") + 2 :].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    return children


def tree_pids(root: int) -> list[int]:
    """``root`` and every process descended from it."""
    children = _children_of()
    found, pending = [], [root]
    while pending:
        pid = pending.pop()
        found.append(pid)
        pending.extend(children.get(pid, ()))
    return found


def resident_bytes(pid: int) -> int:
    """The resident set of one process; 0 when it has ended."""
    try:
        return int((PROC / str(pid) / "statm").read_text().split()[1]) * PAGE_BYTES
    except (OSError, IndexError, ValueError):
        return 0


def proportional_bytes(pid: int) -> int:
    """The proportional set size of one process (its private pages, plus each shared page divided by the
    number of processes that map it); 0 when it has ended."""
    try:
        with (PROC / str(pid) / "smaps_rollup").open() as rollup:
            for line in rollup:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, IndexError, ValueError):
        return 0
    return 0


def tree_bytes(root: int) -> tuple[int, int]:
    """The resident and the proportional sizes of ``root`` and all its descendants, summed at one instant."""
    pids = tree_pids(root)
    return sum(resident_bytes(pid) for pid in pids), sum(proportional_bytes(pid) for pid in pids)


class TreeMemorySampler:
    """Samples the process tree under ``root`` every ``interval`` seconds on a background thread.

    Args:
        root: The tree's root process (default: this one).
        interval: Seconds between samples; a step's peak shorter than this can be missed.
    """

    def __init__(self, root: int | None = None, interval: float = 0.15) -> None:
        self.root = os.getpid() if root is None else root
        self.interval = interval
        self.samples: list[tuple[float, int, int]] = []  # (time.time(), resident bytes, proportional bytes)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, name="tree-memory-sampler", daemon=True)

    def __enter__(self) -> TreeMemorySampler:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.samples.append((time.time(), *tree_bytes(self.root)))
            self._stop.wait(self.interval)

    def peak_bytes(self, start: float | None = None, end: float | None = None, kind: str = "pss") -> int:
        """The largest sample of ``kind`` (``pss`` or ``rss``), over every sample or those taken within
        [start, end] (``time.time()``)."""
        column = {"rss": 1, "pss": 2}[kind]
        values = [
            sample[column]
            for sample in self.samples
            if (start is None or sample[0] >= start) and (end is None or sample[0] <= end)
        ]
        return max(values, default=0)
