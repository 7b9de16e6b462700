"""The serving schema: what a prediction request must hold, read from ``serving_schema.json``.

``serving_schema.md`` beside this file documents the JSON format; a test keeps the two in step. The module uses
the standard library only, so the exporter (pipeline environment) and the server (serving environment)
share one reader and one writer.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from contracts.data_contract import Kind
from contracts.errors import ModelUnavailableError

FORMAT_VERSION = 1
DEFAULT_MAX_LENGTH = 64


class CategoryPolicy(StrEnum):
    """What a categorical value outside ``allowed_values`` gets."""

    REJECT = "reject"  # the request is refused with a 4xx naming the field
    ALLOW = "allow"  # the value reaches the model, whose lookup maps it to its out-of-vocabulary bucket


class FieldPolicy(StrEnum):
    """What a request field that is not a schema feature gets."""

    REJECT = "reject"  # a misspelt optional feature would otherwise silently become null
    IGNORE = "ignore"


_FEATURE_KEYS = frozenset(
    {"name", "kind", "required", "nullable", "min", "max", "allowed_values", "unknown_category", "max_length"}
)
_SCHEMA_KEYS = frozenset({"format_version", "unknown_fields", "features"})


@dataclass(frozen=True)
class FeatureSpec:
    """The serving contract of one raw feature.

    Attributes:
        name: The request field and the model input of the same name.
        kind: ``int`` (integral JSON number), ``float`` (any JSON number) or ``string``.
        required: Whether every request row must carry the field (an absent optional field is null).
        nullable: Whether ``null`` (and NaN for numbers) is accepted: the model imputes it.
        minimum: Smallest accepted number, or None for no bound.
        maximum: Largest accepted number, or None for no bound.
        allowed_values: The categories a string feature knows, or None for free text.
        unknown_category: Policy for a string outside ``allowed_values``.
        max_length: Longest accepted string, in characters.
    """

    name: str
    kind: Kind
    required: bool = True
    nullable: bool = False
    minimum: float | None = None
    maximum: float | None = None
    allowed_values: tuple[str, ...] | None = None
    unknown_category: CategoryPolicy = CategoryPolicy.REJECT
    max_length: int = DEFAULT_MAX_LENGTH

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of this feature; keys that do not apply to its kind are left out."""
        values: dict[str, Any] = {
            "name": self.name,
            "kind": str(self.kind),
            "required": self.required,
            "nullable": self.nullable,
        }
        if self.kind is Kind.STRING:
            if self.allowed_values is not None:
                values["allowed_values"] = list(self.allowed_values)
            # Always written: the reader's default (reject) is refused for free text without a domain.
            values["unknown_category"] = str(self.unknown_category)
            values["max_length"] = self.max_length
        else:
            values["min"] = self.minimum
            values["max"] = self.maximum
        return values

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> FeatureSpec:
        """Reads one feature object, refusing unknown keys and contradictions.

        Raises:
            ModelUnavailableError: naming the feature and what is wrong with it.
        """
        name = values.get("name")
        if not isinstance(name, str) or not name:
            raise ModelUnavailableError(f"serving schema: a feature has no name: {dict(values)}")
        where = f"serving schema feature {name!r}"
        unknown = sorted(set(values) - _FEATURE_KEYS)
        if unknown:
            raise ModelUnavailableError(f"{where}: unknown keys {unknown}")
        try:
            kind = Kind(str(values.get("kind")))
        except ValueError as exc:
            raise ModelUnavailableError(f"{where}: kind must be one of {[str(k) for k in Kind]}") from exc
        required = _flag(values, "required", True, where)
        nullable = _flag(values, "nullable", False, where)
        if not required and not nullable:
            raise ModelUnavailableError(f"{where}: an optional feature must be nullable (absent means null)")
        minimum = _bound(values, "min", kind, where)
        maximum = _bound(values, "max", kind, where)
        if minimum is not None and maximum is not None and minimum > maximum:
            raise ModelUnavailableError(f"{where}: min {minimum} is above max {maximum}")
        allowed = _allowed_values(values, kind, where)
        try:
            policy = CategoryPolicy(values.get("unknown_category", CategoryPolicy.REJECT))
        except ValueError as exc:
            raise ModelUnavailableError(f"{where}: unknown_category must be 'reject' or 'allow'") from exc
        if policy is CategoryPolicy.REJECT and kind is Kind.STRING and allowed is None:
            raise ModelUnavailableError(f"{where}: unknown_category 'reject' needs allowed_values")
        max_length = values.get("max_length", DEFAULT_MAX_LENGTH)
        if type(max_length) is not int or max_length < 1:
            raise ModelUnavailableError(f"{where}: max_length must be a positive integer")
        return cls(name, kind, required, nullable, minimum, maximum, allowed, policy, max_length)


@dataclass(frozen=True)
class ServingSchema:
    """Every feature a request carries, in the model's input order, and the policy for other fields."""

    features: tuple[FeatureSpec, ...]
    unknown_fields: FieldPolicy = FieldPolicy.REJECT

    def __post_init__(self) -> None:
        names = [feature.name for feature in self.features]
        if not names:
            raise ModelUnavailableError("serving schema: no features")
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ModelUnavailableError(f"serving schema: duplicate features {duplicates}")

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(feature.name for feature in self.features)

    def feature(self, name: str) -> FeatureSpec:
        """The spec of ``name``.

        Raises:
            KeyError: when the schema has no such feature.
        """
        for feature in self.features:
            if feature.name == name:
                return feature
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        """The JSON document."""
        return {
            "format_version": FORMAT_VERSION,
            "unknown_fields": str(self.unknown_fields),
            "features": [feature.to_dict() for feature in self.features],
        }

    @classmethod
    def from_dict(cls, values: Any) -> ServingSchema:
        """Reads the JSON document.

        Raises:
            ModelUnavailableError: for another format version or any malformed feature.
        """
        if not isinstance(values, Mapping):
            raise ModelUnavailableError("serving schema: the document must be a JSON object")
        if values.get("format_version") != FORMAT_VERSION:
            raise ModelUnavailableError(
                f"serving schema: format_version {values.get('format_version')!r} is not {FORMAT_VERSION}"
            )
        unknown = sorted(set(values) - _SCHEMA_KEYS)
        if unknown:
            raise ModelUnavailableError(f"serving schema: unknown keys {unknown}")
        try:
            policy = FieldPolicy(values.get("unknown_fields", FieldPolicy.REJECT))
        except ValueError as exc:
            raise ModelUnavailableError(
                "serving schema: unknown_fields must be 'reject' or 'ignore'"
            ) from exc
        features = values.get("features")
        if not isinstance(features, list) or not all(isinstance(item, Mapping) for item in features):
            raise ModelUnavailableError("serving schema: features must be a list of objects")
        return cls(tuple(FeatureSpec.from_dict(item) for item in features), policy)

    def write(self, path: Path) -> Path:
        """Writes the JSON document, creating parent folders."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")
        return path

    @classmethod
    def read(cls, path: Path) -> ServingSchema:
        """Reads ``serving_schema.json``.

        Raises:
            ModelUnavailableError: when the file is absent, not JSON, or malformed.
        """
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ModelUnavailableError(f"cannot read serving schema {path}: {exc}") from exc
        return cls.from_dict(document)


def _flag(values: Mapping[str, Any], key: str, default: bool, where: str) -> bool:
    flag = values.get(key, default)
    if not isinstance(flag, bool):
        raise ModelUnavailableError(f"{where}: {key} must be true or false")
    return flag


def _bound(values: Mapping[str, Any], key: str, kind: Kind, where: str) -> float | None:
    bound = values.get(key)
    if bound is None:
        return None
    if kind is Kind.STRING:
        raise ModelUnavailableError(f"{where}: {key} applies to numbers only")
    if isinstance(bound, bool) or not isinstance(bound, int | float) or not math.isfinite(bound):
        raise ModelUnavailableError(f"{where}: {key} must be a finite number or null")
    return float(bound)


def _allowed_values(values: Mapping[str, Any], kind: Kind, where: str) -> tuple[str, ...] | None:
    allowed = values.get("allowed_values")
    if allowed is None:
        return None
    if kind is not Kind.STRING:
        raise ModelUnavailableError(f"{where}: allowed_values applies to strings only")
    if not isinstance(allowed, list) or not allowed or not all(isinstance(v, str) for v in allowed):
        raise ModelUnavailableError(f"{where}: allowed_values must be a non-empty list of strings")
    if len(set(allowed)) != len(allowed):
        raise ModelUnavailableError(f"{where}: allowed_values has duplicates")
    return tuple(allowed)
