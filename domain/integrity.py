"""Canonical serialisation and the SHA-256 hash chain that makes every stored event tamper-evident."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC
from datetime import datetime
from typing import Any
from uuid import UUID

GENESIS_HASH = "0" * 64


def canonical_json(obj: Any) -> bytes:
    """Deterministic JSON: sorted keys, no spaces, UTF-8, no NaN."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")


def plain(obj: Any) -> Any:
    """The value as it will read back from the store: JSON types only (tuples become lists)."""
    return json.loads(canonical_json(obj))


def event_hash(topic: str, originator_id: UUID, version: int, timestamp: datetime, body: dict[str, Any]) -> str:
    """SHA-256 over the event's identity, time and body (which includes ``prev_hash``)."""
    doc = {
        "topic": topic,
        "originator_id": str(originator_id),
        "originator_version": version,
        "timestamp": timestamp.astimezone(UTC).isoformat(),
        "body": body,
    }
    return hashlib.sha256(canonical_json(doc)).hexdigest()


def sha256_text(text: str) -> str:
    """SHA-256 of a text as UTF-8 (the published notice text, for instance)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
