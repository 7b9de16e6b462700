"""Rollout state as deployment annotations, and the traffic book the proxy keeps."""

from __future__ import annotations

import math

import pytest

from components.rollout.core.state import PREFIX, REQUEST_KEY, Phase, Request, RolloutState
from components.rollout.core.strategy import Strategy
from components.rollout.core.traffic import Exchange, TrafficBook, TrafficWindow
from contracts.errors import RolloutError

STATE = RolloutState(
    rollout_id="flight-delay-v2-20270115t080000",
    model="flight-delay",
    strategy=Strategy.CANARY,
    main_version="v1",
    candidate_version="v2",
    phase=Phase.PROGRESSING,
    step=1,
    weights=(10, 25, 50, 100),
    step_started_at=1_800_000_000.5,
    windows_waited=1,
    message="step 2 at 25%",
    last_analysis={"verdict": "pass", "checks": []},
)


def test_annotations_round_trip_and_are_strings() -> None:
    annotations = STATE.to_annotations()
    assert all(isinstance(v, str) and k.startswith(PREFIX) for k, v in annotations.items())
    assert annotations[PREFIX + "weights"] == "10,25,50,100"
    assert RolloutState.from_annotations(annotations) == STATE
    assert RolloutState.from_annotations({"other": "x"}) is None


def test_candidate_weight_follows_the_phase() -> None:
    assert STATE.candidate_weight == 25
    assert STATE.evolve(phase=Phase.SUCCEEDED).candidate_weight == 100
    assert STATE.evolve(phase=Phase.FAILED).candidate_weight == 0


def test_requests_from_kubectl_annotate_are_read() -> None:
    annotations = STATE.to_annotations() | {REQUEST_KEY: "abort"}
    assert RolloutState.from_annotations(annotations).request is Request.ABORT  # type: ignore[union-attr]
    typo = RolloutState.from_annotations(STATE.to_annotations() | {REQUEST_KEY: "abrot"})
    assert typo is not None and typo.request is Request.NONE and typo.unknown_request == "abrot"


def test_malformed_annotations_are_named() -> None:
    annotations = STATE.to_annotations()
    del annotations[PREFIX + "phase"]
    with pytest.raises(RolloutError, match="missing"):
        RolloutState.from_annotations(annotations)
    with pytest.raises(RolloutError, match="malformed"):
        RolloutState.from_annotations(STATE.to_annotations() | {PREFIX + "step": "two"})


def test_traffic_book_windows_per_version() -> None:
    book = TrafficBook()
    book.record(Exchange(10.0, "v1", 200, 4.0, (0.2,), "a"))
    book.record(Exchange(11.0, "v2", 200, 6.0, (0.7,), "b"))
    book.record(Exchange(12.0, "v2", 503, 2.0, (), ""))
    book.record(Exchange(13.0, "v2", 0, 1.0, (), ""))
    book.record(Exchange(30.0, "v2", 200, 9.0, (0.9,), "c"))
    assert book.feedback("b", 1) is not None and book.feedback("a", 1) is not None
    assert book.feedback("unknown", 1) is None
    window = book.window(10.0, 20.0)
    v2 = window.of("v2")
    assert (v2.requests, v2.errors, v2.p99_latency_ms, v2.labelled, v2.correct) == (3, 2, 6.0, 1, 1)
    assert v2.histogram[35] == 1 and sum(v2.histogram) == 1
    assert (window.of("v1").labelled, window.of("v1").correct) == (1, 0)
    assert window.of("v3").requests == 0 and math.isnan(window.of("v3").error_rate)
    assert TrafficWindow.from_dict(window.to_dict()) == window


def test_traffic_book_forgets_the_oldest_beyond_its_capacity() -> None:
    book = TrafficBook(capacity=2)
    for index, puid in enumerate(("a", "b", "c")):
        book.record(Exchange(float(index), "v1", 200, 1.0, (0.1,), puid))
    assert book.feedback("a", 1) is None and book.feedback("c", 1) is not None
    assert [e.puid for e in book.exchanges()] == ["b", "c"]
