"""Kubernetes naming rules for the objects and labels the rollout renders.

The rules are those of the Kubernetes API (``IsDNS1123Label``, ``IsDNS1123Subdomain``,
``IsQualifiedName``, ``IsValidLabelValue``): checking them here turns what would be an API server
rejection at ``kubectl apply`` into an error at rendering time that names the field.
"""

from __future__ import annotations

import re

from contracts.errors import RolloutError

_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_LABEL = re.compile(_LABEL)
_DNS1123_SUBDOMAIN = re.compile(rf"{_LABEL}(\.{_LABEL})*")
_QUALIFIED_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
_LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")

_LABEL_RULE = "at most 63 lowercase letters, digits or '-', starting and ending with a letter or digit"
_SUBDOMAIN_RULE = (
    "at most 253 lowercase letters, digits, '-' and '.', each dot-separated part starting and ending "
    "with a letter or digit"
)
_NAME_RULE = "at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit"


def _check(pattern: re.Pattern[str], limit: int, value: str, what: str, rule: str) -> str:
    if not isinstance(value, str) or len(value) > limit or not pattern.fullmatch(value):
        raise RolloutError(f"{what} {value!r} is not valid in Kubernetes: {rule}")
    return value


def check_dns_label(value: str, what: str) -> str:
    """Returns ``value`` when it is an RFC 1123 label (a container or graph unit name).

    Raises:
        RolloutError: naming ``what`` and the rule.
    """
    return _check(_DNS1123_LABEL, 63, value, what, _LABEL_RULE)


def check_dns_subdomain(value: str, what: str) -> str:
    """Returns ``value`` when it is an RFC 1123 subdomain (an object name).

    Raises:
        RolloutError: naming ``what`` and the rule.
    """
    return _check(_DNS1123_SUBDOMAIN, 253, value, what, _SUBDOMAIN_RULE)


def check_label_value(value: str, what: str) -> str:
    """Returns ``value`` when it is a valid label value (empty allowed).

    Raises:
        RolloutError: naming ``what`` and the rule.
    """
    return _check(_LABEL_VALUE, 63, value, what, "empty, or " + _NAME_RULE)


def check_qualified_key(key: str, what: str) -> str:
    """Returns ``key`` when it is a valid label or annotation key: an optional DNS-subdomain prefix and
    ``/``, then a name.

    Raises:
        RolloutError: naming ``what`` and the rule.
    """
    prefix, slash, name = key.rpartition("/")
    if slash:
        _check(_DNS1123_SUBDOMAIN, 253, prefix, f"{what} prefix of {key!r}", _SUBDOMAIN_RULE)
    _check(_QUALIFIED_NAME, 63, name, f"{what} {key!r}: name", _NAME_RULE)
    return key


def to_dns_label(text: str) -> str:
    """The closest RFC 1123 label to ``text``: lowercased, other characters as ``-``, trimmed to 63.

    Raises:
        RolloutError: when nothing usable is left.
    """
    label = re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")[:63].rstrip("-")
    if not label:
        raise RolloutError(f"{text!r} has no letters or digits to make a Kubernetes name from")
    return label
