"""Multi-armed bandit policies and their state, shared by every replica of the router through SQLite.

The state is one row per arm: how many rewards it has received and their sum. Every replica of the
router reads it to choose an arm and adds feedback to it; an addition is one ``UPDATE ... SET pulls =
pulls + ?, reward = reward + ?`` inside ``BEGIN IMMEDIATE``, so concurrent feedback from any number of
processes is never lost (Seldon's own persistent routers pickle their whole state to Redis and write it
back, so two replicas updating at once lose one update). Choosing an arm is a read; it never blocks a
writer for long (WAL journal).

SQLite's locking needs a local file system: put the file on a volume that every replica mounts on the
same node (the rendered manifests pin the router's replicas to one node for this reason), never on NFS.

Rewards are within [0, 1], e.g. 1 for a correct prediction and 0 for a wrong one; Thompson sampling
treats each arm's rewards as Bernoulli with a Beta(1 + reward, 1 + pulls - reward) posterior.
"""

from __future__ import annotations

import os
import random
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from contracts.errors import RolloutError

EPSILON_GREEDY = "epsilon-greedy"
THOMPSON = "thompson"
POLICIES = (EPSILON_GREEDY, THOMPSON)
_BUSY_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class ArmStats:
    """What one arm has earned so far.

    Attributes:
        arm: Its index (the router's branch).
        pulls: Rewards received (feedback count).
        reward: Their sum.
    """

    arm: int
    pulls: float
    reward: float

    @property
    def mean(self) -> float:
        """Mean reward; 0 before any feedback."""
        return self.reward / self.pulls if self.pulls else 0.0


def choose_arm(policy: str, arms: Sequence[ArmStats], rng: random.Random, *, epsilon: float = 0.1) -> int:
    """Picks the arm to route to.

    Args:
        policy: ``epsilon-greedy`` (a random arm with probability ``epsilon``, else the best mean, ties
            broken at random; an arm without feedback is tried first) or ``thompson`` (the arm whose
            draw from its Beta posterior is highest).
        arms: Every arm's stats.
        rng: The random source (seeded in tests).
        epsilon: Exploration share of epsilon-greedy.

    Raises:
        RolloutError: for an unknown policy or no arms.
    """
    if not arms:
        raise RolloutError("a bandit needs at least one arm")
    if policy == THOMPSON:
        draws = [rng.betavariate(1.0 + a.reward, 1.0 + max(a.pulls - a.reward, 0.0)) for a in arms]
        return arms[max(range(len(arms)), key=draws.__getitem__)].arm
    if policy != EPSILON_GREEDY:
        raise RolloutError(f"unknown bandit policy {policy!r}; use one of {POLICIES}")
    untried = [a.arm for a in arms if a.pulls == 0]
    if untried:
        return rng.choice(untried)
    if rng.random() < epsilon:
        return rng.choice(arms).arm
    best = max(a.mean for a in arms)
    return rng.choice([a.arm for a in arms if a.mean == best])


class BanditState:
    """Per-arm reward totals in a SQLite file that several processes share.

    One connection per thread and process (SQLite connections survive neither a fork nor, by default,
    a thread hand-over). The file and its table are created on first use.

    Args:
        path: The SQLite file.
        arms: Number of arms; a file made for another number is refused.
    """

    def __init__(self, path: Path, arms: int) -> None:
        if arms < 1:
            raise RolloutError(f"a bandit needs at least one arm, got {arms}")
        self.path = path
        self.arms = arms
        self._local = threading.local()
        with self._transaction() as db:
            db.execute("CREATE TABLE IF NOT EXISTS arms (arm INTEGER PRIMARY KEY, pulls REAL, reward REAL)")
            stored = db.execute("SELECT COUNT(*) FROM arms").fetchone()[0]
            if stored == 0:
                rows = [(arm,) for arm in range(arms)]
                db.executemany("INSERT INTO arms (arm, pulls, reward) VALUES (?, 0, 0)", rows)
                stored = arms
        if stored != arms:
            raise RolloutError(f"bandit state {path} holds {stored} arms, not {arms}")

    def snapshot(self) -> list[ArmStats]:
        """Every arm's totals, read in one consistent transaction."""
        rows = self._connection().execute("SELECT arm, pulls, reward FROM arms ORDER BY arm").fetchall()
        return [ArmStats(int(arm), float(pulls), float(reward)) for arm, pulls, reward in rows]

    def add(self, arm: int, reward: float, pulls: float = 1.0) -> None:
        """Adds ``pulls`` feedback worth ``reward`` in total to one arm, atomically.

        Raises:
            RolloutError: for an unknown arm or a reward outside ``[0, pulls]``.
        """
        if not 0 <= arm < self.arms:
            raise RolloutError(f"no arm {arm}: this bandit has arms 0-{self.arms - 1}")
        if pulls <= 0 or not 0.0 <= reward <= pulls:
            raise RolloutError(f"a reward must be within [0, {pulls}] for {pulls} feedback, got {reward}")
        with self._transaction() as db:
            db.execute(
                "UPDATE arms SET pulls = pulls + ?, reward = reward + ? WHERE arm = ?", (pulls, reward, arm)
            )

    def _transaction(self) -> _Immediate:
        return _Immediate(self._connection())

    def _connection(self) -> sqlite3.Connection:
        key = (os.getpid(), threading.get_ident())
        if getattr(self._local, "key", None) != key:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            try:
                connection = sqlite3.connect(
                    self.path, timeout=_BUSY_TIMEOUT_SECONDS, isolation_level=None, check_same_thread=True
                )
                connection.execute("PRAGMA journal_mode=WAL")
                # In WAL mode NORMAL still never corrupts the file; a power cut may lose the last rewards.
                connection.execute("PRAGMA synchronous=NORMAL")
            except sqlite3.Error as exc:
                raise RolloutError(f"cannot open bandit state {self.path}: {exc}") from exc
            self._local.connection = connection
            self._local.key = key
        current: sqlite3.Connection = self._local.connection
        return current


class _Immediate:
    """``BEGIN IMMEDIATE`` ... ``COMMIT``: takes the write lock up front, so no two writers interleave."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._db = connection

    def __enter__(self) -> sqlite3.Connection:
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise RolloutError(f"bandit state is locked or unreadable: {exc}") from exc
        return self._db

    def __exit__(self, kind: object, error: object, trace: object) -> None:
        self._db.execute("COMMIT" if error is None else "ROLLBACK")
