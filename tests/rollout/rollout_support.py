"""Shared by the rollout tests: a registry with a production version and candidates, and traffic."""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from components.lineage import LineageStore, open_store
from components.registry import MODEL_VERSION_TYPE, ModelRegistry, version_properties
from components.rollout.core.config import RolloutConfig, load_config
from components.rollout.core.traffic import Exchange, TrafficBook


@contextmanager
def registry_with(tmp_path: Path, uris: list[str]) -> Iterator[tuple[LineageStore, ModelRegistry]]:
    """A fresh store whose first URI is registered and promoted (v1) and the others blessed (v2, ...)."""
    with open_store(f"sqlite:///{tmp_path / 'metadata.sqlite'}") as store:
        registry = ModelRegistry(store, lock_path=tmp_path / "registry.lock", actor="test")
        for index, uri in enumerate(uris):
            with store.execution(
                run_id=f"run-{index}", pipeline="ct", component="register", version="sha"
            ) as step:
                properties = version_properties(metrics={"auc": 0.7}, blessed=True, checks=[])
                step.add_output("model_version", MODEL_VERSION_TYPE, uri=uri, properties=properties)
            version = registry.register(step.record.outputs[0].id, reason="test")
            if index == 0:
                registry.promote(version.version, reason="test")
        yield store, registry


class Clock:
    """A settable clock for the controller, starting in 2027."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def fast_config(**checks: object) -> RolloutConfig:
    """Short windows and small samples, for tests that drive time themselves."""
    return load_config().with_overrides(
        steps={"window_seconds": 10.0, "max_windows": 2, "poll_seconds": 0.1},
        checks={"min_requests": 50, "min_feedback": 50, **checks},
    )


class Traffic:
    """Feeds a traffic book as a proxy would, for a step of a given candidate share."""

    def __init__(self, book: TrafficBook, seed: int = 0) -> None:
        self.book = book
        self.rng = random.Random(seed)

    def step(
        self,
        start: float,
        *,
        candidate: str,
        main: str,
        share: int,
        requests: int = 1_000,
        candidate_error_rate: float = 0.0,
        candidate_latency_ms: float = 5.0,
        candidate_shift: float = 0.0,
    ) -> None:
        for index in range(requests):
            when = start + index * 0.005
            if self.rng.random() * 100 < share:
                failed = self.rng.random() < candidate_error_rate
                prediction = min(max(self.rng.gauss(0.3, 0.1) + candidate_shift, 0.0), 1.0)
                self.book.record(
                    Exchange(
                        when,
                        candidate,
                        500 if failed else 200,
                        candidate_latency_ms * (1 + self.rng.random()),
                        () if failed else (prediction,),
                        f"c{start}-{index}",
                    )
                )
            else:
                prediction = min(max(self.rng.gauss(0.3, 0.1), 0.0), 1.0)
                self.book.record(
                    Exchange(
                        when, main, 200, 5.0 * (1 + self.rng.random()), (prediction,), f"m{start}-{index}"
                    )
                )
