"""Fault injection for rollout tests: a model folder that fails, slows down or shifts its answers on purpose.

A bad canary has to be real to test a rollout honestly: a server process that really answers 500, really
takes longer, or really predicts another distribution. A model folder carrying ``chaos.json`` gets that
behaviour from ``FlightDelayModel`` — but only when the server runs with ``MLOPS_SERVING_CHAOS=1``
(tests and drills). Without it such a folder is refused at start, so a fault file can never reach users
by accident.

``chaos.json``: ``{"error_rate": 0.3, "delay_ms": 150, "shift": 0.25}``, every key optional:
``error_rate`` is the share of requests answered with 500 (drawn per request), ``delay_ms`` is added to
every answer, ``shift`` is added to every probability (clipped to [0, 1]).
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from contracts.errors import ModelUnavailableError, ServingError

CHAOS_VARIABLE = "MLOPS_SERVING_CHAOS"
CHAOS_FILE = "chaos.json"


@dataclass(frozen=True)
class Fault:
    """What a chaos model folder does wrong.

    Attributes:
        error_rate: Share of requests answered with status 500, within [0, 1].
        delay_ms: Milliseconds added to every answer, >= 0.
        shift: Added to every predicted probability, within [-1, 1]; results are clipped to [0, 1].
    """

    error_rate: float = 0.0
    delay_ms: float = 0.0
    shift: float = 0.0

    def __post_init__(self) -> None:
        if not (0.0 <= self.error_rate <= 1.0 and self.delay_ms >= 0.0 and -1.0 <= self.shift <= 1.0):
            raise ModelUnavailableError(
                f"{CHAOS_FILE}: error_rate must be within [0, 1], delay_ms >= 0 and shift within [-1, 1]; got {self}"
            )

    def apply(self, probabilities: np.ndarray, rng: random.Random) -> np.ndarray:
        """The answer this fault gives instead of ``probabilities``.

        Raises:
            ServingError: status 500, reason ``INJECTED_FAULT``, for the drawn share of requests.
        """
        if self.delay_ms:
            time.sleep(self.delay_ms / 1000.0)
        if self.error_rate and rng.random() < self.error_rate:
            raise ServingError("injected fault (chaos mode)", status_code=500, reason="INJECTED_FAULT")
        if self.shift:
            return np.clip(probabilities + self.shift, 0.0, 1.0).astype(probabilities.dtype)
        return probabilities


def read_fault(model_dir: Path, environ: Mapping[str, str]) -> Fault | None:
    """The fault a model folder asks for, or None for a normal folder.

    Raises:
        ModelUnavailableError: for a folder with ``chaos.json`` outside chaos mode, or an unreadable file.
    """
    path = model_dir / CHAOS_FILE
    if not path.exists():
        return None
    if environ.get(CHAOS_VARIABLE) != "1":
        raise ModelUnavailableError(
            f"{path} injects faults; such a model is served only in chaos mode ({CHAOS_VARIABLE}=1, for tests)"
        )
    try:
        values = json.loads(path.read_text(encoding="utf-8"))
        return Fault(**{key: float(value) for key, value in values.items()})
    except (OSError, ValueError, TypeError, AttributeError) as exc:
        raise ModelUnavailableError(f"cannot read {path}: {exc}") from exc


def write_fault(model_dir: Path, fault: Fault) -> Path:
    """Writes ``chaos.json`` into a model folder (tests build bad candidates with it)."""
    path = model_dir / CHAOS_FILE
    path.write_text(json.dumps(asdict(fault)) + "\n", encoding="utf-8")
    return path
