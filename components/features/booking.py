"""From a booking-time request to the model's full input row: the entity keys, the looked-up features
and the explicit defaults for what the store does not know. Standard library only.

A client knows at booking time the schedule, the carrier, the airports and perhaps the aircraft; the
weather, the aircraft's facts and the recent delay rates come from the feature store. A feature the
store has no value for takes the default the catalog records for it (``catalog.DEFAULTS``, written to
``feature_schema.json``); ``None`` there means the model imputes it as it does in training.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from contracts.errors import BadRequestError
from contracts.feature_catalog import (
    CARRIER,
    DEFAULTS,
    FEATURE_NAMES,
    NO_TAILNUM,
    ORIGIN,
    ROUTE,
    TAILNUM,
    route_key,
)

DEST = "dest"
# Fields the transformer reads to find the entities; ``tailnum`` may be absent (no aircraft assigned yet).
ENTITY_FIELDS: tuple[str, ...] = (ORIGIN, CARRIER, DEST)
LOOKUP_ONLY_FIELDS: tuple[str, ...] = (TAILNUM,)


@dataclass(frozen=True)
class CompletedRow:
    """A model input row and the features in it that took their default."""

    row: dict[str, Any]
    defaulted: tuple[str, ...]


def entity_row(request: Mapping[str, Any]) -> dict[str, str]:
    """The four entity keys of one booking-time request row.

    Raises:
        BadRequestError: when origin, carrier or dest is missing or not a string, or tailnum is not a
            string or null.
    """
    for name in ENTITY_FIELDS:
        value = request.get(name)
        if not isinstance(value, str) or not value:
            raise BadRequestError(
                f'"{name}": a non-empty string is needed to look up features', reason="MISSING_ENTITY"
            )
    tailnum = request.get(TAILNUM)
    if tailnum is not None and not isinstance(tailnum, str):
        raise BadRequestError(f'"{TAILNUM}": a string or null is expected', reason="BAD_ENTITY")
    return {
        ORIGIN: request[ORIGIN],
        TAILNUM: tailnum or NO_TAILNUM,
        CARRIER: request[CARRIER],
        ROUTE: route_key(request[ORIGIN], request[DEST]),
    }


def refuse_looked_up_fields(request: Mapping[str, Any]) -> None:
    """A request may not carry what the store provides: two sources for one feature would be skew.

    Raises:
        BadRequestError: naming the fields the store fills.
    """
    sent = sorted(set(request) & set(FEATURE_NAMES))
    if sent:
        raise BadRequestError(
            f"{', '.join(repr(name) for name in sent)}: filled from the feature store, not sent by the client",
            reason="LOOKED_UP_FEATURE",
        )


def complete_row(
    request: Mapping[str, Any],
    looked_up: Mapping[str, Any],
    not_found: Iterable[str],
    model_inputs: Sequence[str],
) -> CompletedRow:
    """The request's own fields (less the lookup-only ones) plus every store feature the model reads.

    A feature whose entity the store does not know takes its recorded default and is named in
    ``defaulted``; a value the store holds as null (a missing observation) stays null, as in training.
    """
    unknown = set(not_found)
    row = {name: value for name, value in request.items() if name not in LOOKUP_ONLY_FIELDS}
    defaulted = []
    for name in _store_inputs(model_inputs):
        value = looked_up.get(name)
        if name in unknown:
            value = DEFAULTS[name]
            defaulted.append(name)
        row[name] = value
    return CompletedRow(row=row, defaulted=tuple(defaulted))


def _store_inputs(model_inputs: Iterable[str]) -> list[str]:
    names = set(FEATURE_NAMES)
    return [name for name in model_inputs if name in names]
