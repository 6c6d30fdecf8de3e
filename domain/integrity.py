"""Canonical serialisation and the SHA-256 hash chain that makes every stored event tamper-evident.

Two hash schemes (docs/record-format.md): events recorded now carry ``hash_scheme: "jcs-sha256/1"`` in their
body and are hashed over RFC 8785 (JCS) canonical JSON, with every float recorded as a decimal string; events
stored before it carry no scheme and keep verifying under the rule they were hashed with (``legacy_hash``).
"""

from __future__ import annotations

import hashlib
import json
import math
from datetime import UTC
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import rfc8785

GENESIS_HASH = "0" * 64
HASH_SCHEME = "jcs-sha256/1"  # what every new event records in its body
DECIMAL = "$decimal"  # a recorded float: {"$decimal": "0.65"}
MAX_INTEGER = 2**53 - 1  # the integers every JSON reader (JavaScript's included) holds exactly


class UnknownHashSchemeError(ValueError):
    """An event names a hash scheme this code does not know."""


def canonical_json(obj: Any) -> bytes:
    """Deterministic JSON: sorted keys, no spaces, UTF-8, no NaN (the legacy scheme and tree heads)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")


def jcs(obj: Any) -> bytes:
    """RFC 8785 canonical JSON (UTF-8)."""
    return rfc8785.dumps(obj)


def plain(obj: Any) -> Any:
    """The value as it will read back from the store: JSON types only (tuples become lists)."""
    return json.loads(canonical_json(obj))


def decimal_text(x: float) -> str:
    """A float as the shortest decimal that reads back as it, without exponent or trailing zeros (-0 is 0)."""
    if not math.isfinite(x):
        raise ValueError(f"{x} is not a number that can be recorded")
    if x == 0:
        return "0"
    text = format(Decimal(repr(x)), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def recorded(value: Any) -> Any:
    """A plain JSON value as the current scheme records it: floats as ``{"$decimal": text}``, no binary float."""
    kind = type(value)
    if kind is float:
        return {DECIMAL: decimal_text(value)}
    if kind is int and not -MAX_INTEGER <= value <= MAX_INTEGER:
        raise ValueError(f"the integer {value} is beyond ±{MAX_INTEGER}, which not every reader holds exactly")
    if kind is dict:
        if DECIMAL in value:
            raise ValueError(f"the key {DECIMAL!r} is reserved for recorded decimals")
        return {k: recorded(v) for k, v in value.items()}
    if kind is list:
        return [recorded(v) for v in value]
    return value


def read_back(value: Any) -> Any:
    """The values a recorded value stands for: ``{"$decimal": text}`` becomes a float again (the rest is shared)."""
    kind = type(value)
    if kind is dict:
        if len(value) == 1 and DECIMAL in value:
            return float(value[DECIMAL])
        out = None
        for k, v in value.items():
            r = read_back(v)
            if r is not v:
                out = out if out is not None else dict(value)
                out[k] = r
        return value if out is None else out
    if kind is list:
        items = [read_back(v) for v in value]
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    return value


def values_of(data: Any, scheme: str | None) -> Any:
    """An event's recorded data as the values it stands for, under the event's hash scheme."""
    return read_back(data) if scheme == HASH_SCHEME else data


def timestamp_text(timestamp: datetime) -> str:
    """The hashed and exported form of an instant: ISO 8601 in UTC with ``+00:00`` (microseconds if any)."""
    return timestamp.astimezone(UTC).isoformat()


def hash_document(
    topic: str, originator_id: UUID | str, version: int, timestamp: datetime | str, body: dict[str, Any]
) -> dict[str, Any]:
    """What the current scheme hashes: the exported event without ``position`` and ``hash``."""
    return {
        "originator_id": str(originator_id),
        "version": version,
        "topic": topic,
        "timestamp": timestamp if isinstance(timestamp, str) else timestamp_text(timestamp),
        "body": body,
    }


def legacy_hash(topic: str, originator_id: UUID | str, version: int, timestamp: datetime, body: dict[str, Any]) -> str:
    """The rule events stored without a ``hash_scheme`` were hashed with (Python's ``json.dumps``, floats and all)."""
    doc = {
        "topic": topic,
        "originator_id": str(originator_id),
        "originator_version": version,
        "timestamp": timestamp_text(timestamp),
        "body": body,
    }
    return hashlib.sha256(canonical_json(doc)).hexdigest()


def event_hash(
    topic: str, originator_id: UUID | str, version: int, timestamp: datetime | str, body: dict[str, Any]
) -> str:
    """SHA-256 over the event's identity, time and body (which includes ``prev_hash``), by the body's scheme.

    A timestamp given as text is hashed as written under the current scheme (an export's, for instance).
    """
    scheme = body.get("hash_scheme")
    if scheme is None:
        at = datetime.fromisoformat(timestamp) if isinstance(timestamp, str) else timestamp
        return legacy_hash(topic, originator_id, version, at, body)
    if scheme != HASH_SCHEME:
        raise UnknownHashSchemeError(f"unknown hash scheme {scheme!r}")
    return hashlib.sha256(jcs(hash_document(topic, originator_id, version, timestamp, body))).hexdigest()


def sha256_text(text: str) -> str:
    """SHA-256 of a text as UTF-8 (the published notice text, for instance)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
