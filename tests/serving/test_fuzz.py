"""1,000 malformed bodies (seeded): every one gets a 4xx, and the app still answers a good request after."""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path
from typing import Any

from seldon_core import wrapper
from seldon_core.metrics import SeldonMetrics

from components.serving.model import FlightDelayModel
from contracts.data_contract import Kind
from contracts.serving_schema import ServingSchema

from .conftest import GOOD_RECORD

PREDICT = "/api/v1.0/predictions"
BODIES = 1000
WEIRD_TEXT = [
    "",
    "ü" * 70,
    "\u0000",
    "\ud7ff" * 65,
    "\U0001d518\U0001d504" * 40,
    "DROP TABLE",
    " " * 80,
    "\n",
]


def _random_json(rng: random.Random, depth: int = 0) -> Any:
    choice = rng.randrange(8 if depth < 4 else 5)
    if choice == 0:
        return None
    if choice == 1:
        return rng.choice([True, False])
    if choice == 2:
        return rng.choice([0, -1, 2**63, -(2**70), 10**400, 1e308, -1e-308, 3.5])
    if choice == 3:
        return rng.choice(WEIRD_TEXT)
    if choice == 4:
        return rng.choice(["jsonData", "data", "names", "ndarray", "meta"])
    if choice == 5:
        return [_random_json(rng, depth + 1) for _ in range(rng.randrange(4))]
    keys = ["jsonData", "data", "names", "ndarray", "meta", "puid", *GOOD_RECORD]
    return {rng.choice(keys): _random_json(rng, depth + 1) for _ in range(rng.randrange(4))}


def _invalid_value(rng: random.Random, kind: Kind) -> Any:
    # Every value here breaks the example schema for that kind: wrong type, non-finite, or out of range.
    if kind is Kind.STRING:
        return rng.choice([7, 2.5, True, ["UA"], {"x": 1}, "Z" * 65, "ü" * 70])
    return rng.choice(
        ["12", True, [1], {"v": 1}, -(10**6), 10**30, 10**400, "NaN", float("inf"), -float("inf")]
    )


def _mutated_request(rng: random.Random, schema: ServingSchema) -> Any:
    record = dict(GOOD_RECORD)
    feature = rng.choice(schema.features)
    action = rng.randrange(5)
    if action == 0:
        record[feature.name] = _invalid_value(rng, feature.kind)
    elif action == 1 and feature.required:
        del record[feature.name]
    elif action == 2:
        record[rng.choice(WEIRD_TEXT[1:]) + feature.name] = 1.0  # an unknown field
    elif action == 3:
        names = list(record)
        rows = [[record[n] for n in names] for _ in range(rng.randrange(1, 4))]
        rows[rng.randrange(len(rows))].pop(rng.randrange(len(names)))  # one row too short
        return {"data": {"names": names, "ndarray": rows}}
    else:
        record[feature.name] = _invalid_value(rng, feature.kind)
        return {"jsonData": [GOOD_RECORD] * rng.randrange(1, 5) + [record]}
    return {"jsonData": record}


def _malformed_body(rng: random.Random, schema: ServingSchema) -> bytes:
    kind = rng.randrange(4)
    if kind == 0:
        return json.dumps(_random_json(rng)).encode()
    if kind == 1:
        return json.dumps(_mutated_request(rng, schema)).encode()
    if kind == 2:
        whole = json.dumps({"jsonData": GOOD_RECORD}).encode()
        return whole[: rng.randrange(len(whole))]
    return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 64)))


def test_malformed_bodies_only_ever_get_4xx(model_dir: Path, schema: ServingSchema) -> None:
    model = FlightDelayModel(model_uri=str(model_dir))
    model.load()
    client = wrapper.get_rest_microservice(model, SeldonMetrics()).test_client()
    rng = random.Random(20261127)
    statuses: Counter[int] = Counter()
    for index in range(BODIES):
        body = _malformed_body(rng, schema)
        response = client.post(PREDICT, data=body, content_type="application/json")
        assert 400 <= response.status_code < 500, (index, body[:300], response.get_data()[:300])
        statuses[response.status_code] += 1
    assert sum(statuses.values()) == BODIES
    good = client.post(PREDICT, json={"jsonData": GOOD_RECORD})
    assert good.status_code == 200 and 0 < good.get_json()["data"]["ndarray"][0][0] < 1
