"""The serving contract of a model, derived from the curated schema so the two cannot disagree.

The model server validates every request against ``serving_schema.json`` (``components/serving``); this
module writes that file from the TFDV schema's ``SERVING`` environment: kinds from the data contract,
bounds and categories from the curated domains, nullability from presence.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from tensorflow_metadata.proto.v0 import schema_pb2

from components.schema.logic import SERVING
from contracts.data_contract import BY_NAME
from contracts.errors import ValidationError
from contracts.names import SCHEMA_FILE
from contracts.serving_schema import CategoryPolicy, FeatureSpec, Kind, ServingSchema


def serving_schema_from(schema: schema_pb2.Schema, features: Sequence[str]) -> ServingSchema:
    """The serving contract of a model whose inputs are ``features``.

    A categorical feature with a curated domain rejects unknown values; one without (a free string such
    as ``dest``) passes new values on to the model's out-of-vocabulary bucket. A feature whose presence
    may fall below 1 is nullable, and the model imputes it.

    Raises:
        ValidationError: when a model input is not in the schema's SERVING environment.
    """
    by_name = {feature.name: feature for feature in schema.feature if _in_serving(feature)}
    domains = {domain.name: tuple(domain.value) for domain in schema.string_domain}
    specs = []
    for name in features:
        if name not in by_name or name not in BY_NAME:
            raise ValidationError(f"model input {name!r} is not a SERVING feature of the schema and contract")
        specs.append(_spec(by_name[name], Kind(BY_NAME[name].kind.value), domains))
    return ServingSchema(features=tuple(specs))


def write_serving_schema(schema: schema_pb2.Schema, features: Sequence[str], model_dir: Path) -> Path:
    """Writes ``serving_schema.json`` into a model folder."""
    return serving_schema_from(schema, features).write(model_dir / SCHEMA_FILE)


def _in_serving(feature: schema_pb2.Feature) -> bool:
    return SERVING not in feature.not_in_environment


def _spec(feature: schema_pb2.Feature, kind: Kind, domains: dict[str, tuple[str, ...]]) -> FeatureSpec:
    nullable = feature.presence.min_fraction < 1.0
    if kind is Kind.STRING:
        allowed = domains.get(feature.domain) if feature.HasField("domain") else None
        if feature.HasField("string_domain"):
            allowed = tuple(feature.string_domain.value)
        policy = CategoryPolicy.REJECT if allowed else CategoryPolicy.ALLOW
        return FeatureSpec(
            feature.name,
            kind,
            required=not nullable,
            nullable=nullable,
            allowed_values=allowed,
            unknown_category=policy,
        )
    minimum, maximum = _bounds(feature)
    return FeatureSpec(
        feature.name, kind, required=not nullable, nullable=nullable, minimum=minimum, maximum=maximum
    )


def _bounds(feature: schema_pb2.Feature) -> tuple[float | None, float | None]:
    if feature.HasField("int_domain"):
        domain = feature.int_domain
        return (
            float(domain.min) if domain.HasField("min") else None,
            float(domain.max) if domain.HasField("max") else None,
        )
    if feature.HasField("float_domain"):
        fdomain = feature.float_domain
        return (
            fdomain.min if fdomain.HasField("min") else None,
            fdomain.max if fdomain.HasField("max") else None,
        )
    return None, None
