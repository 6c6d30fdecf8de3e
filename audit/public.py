"""The events the public may read in full: the public notices (公示) and the revocations with their circular (通报).

The notice board verifies each of them in the visitor's browser: it needs the event exactly as the export writes it
(``docs/record-format.md``) to recompute its hash, and then its inclusion in a signed tree head."""

from __future__ import annotations

from typing import Any
from uuid import UUID

PUBLIC_EVENTS = ("domain.zone:Zone.Publicized", "domain.zone:Zone.Revoked")


def export_record(app: Any, n: Any) -> dict[str, Any]:
    """One stored event (a notification) as the export writes it: position, id, version, topic, time, hash, body."""
    state = app.mapper.transcoder.decode(n.state)
    return {
        "position": n.id,
        "originator_id": str(n.originator_id),
        "version": n.originator_version,
        "topic": n.topic,
        "timestamp": state.pop("timestamp").isoformat(),
        "hash": state.pop("hash"),
        "body": state,
    }


def public_record(app: Any, zone_id: UUID, seq: int, position: int) -> dict[str, Any] | None:
    """The zone's event ``seq`` (at log ``position``) as exported, if it is a public act; else None. A revocation is
    public only with its circular: those the process recorded itself carry none and stay internal."""
    page = app.recorder.select_notifications(start=position, limit=1)
    if not page or page[0].originator_id != zone_id or page[0].originator_version != seq:
        return None
    if page[0].topic not in PUBLIC_EVENTS:
        return None
    record = export_record(app, page[0])
    if record["topic"].endswith(".Revoked") and not record["body"]["data"].get("circular"):
        return None
    return record
