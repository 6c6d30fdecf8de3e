"""The timeline: every event of the log in order, with its position, type, time and hash links (what it
says — actor, reason, data — comes from the store when a timeline is read)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

from domain.chained import Chained
from projections.base import ViewProjection
from projections.storage import Tx
from projections.storage import ViewSpec


class HistoryProjection(ViewProjection):
    """``GET /zones/{id}/history``; also the leaves of the log's Merkle tree, in log order.

    A row places an event in the log (position, zone, sequence, type, time, hash links); what the event
    says (actor, reason, data) is read from the store's own copy when asked for, not copied here."""

    spec = ViewSpec(
        name="view_history",
        tables={
            "view_history": "position BIGINT PRIMARY KEY, zone_id TEXT, seq INTEGER, type TEXT, at TEXT, "
            "hash TEXT, prev_hash TEXT",
        },
        indexes=("CREATE UNIQUE INDEX IF NOT EXISTS view_history_zone ON {view_history} (zone_id, seq)",),
    )

    def begin(self, tx: Tx) -> None:
        self._rows: list[tuple[Any, ...]] = []
        self._ids: dict[UUID, str] = {}  # a zone's events mostly come together: its id as text, once

    def handle(self, event: Any, tx: Tx) -> None:
        if isinstance(event, Chained.Event):
            zone_id = self._ids.get(event.originator_id)
            if zone_id is None:
                zone_id = self._ids[event.originator_id] = str(event.originator_id)
            self._rows.append(
                (
                    tx.position,
                    zone_id,
                    event.originator_version,
                    type(event).__name__,
                    event.timestamp.isoformat(),
                    event.hash,
                    event.prev_hash,
                )
            )

    def finish(self, tx: Tx) -> None:
        tx.insert_many("view_history", ("position", "zone_id", "seq", "type", "at", "hash", "prev_hash"), self._rows)
        self._rows = []


def zone_history(tx: Tx, zone_id: UUID, events: Iterable[Any]) -> list[dict[str, Any]]:
    """Every event of a zone in order, as far as the view has got: its place in the log from the view,
    what it says from ``events`` (the zone's events as the store holds them)."""
    said = {e.originator_version: e for e in events}
    rows = tx.all("SELECT * FROM {view_history} WHERE zone_id = %s ORDER BY seq", (str(zone_id),))
    return [
        {
            "position": r["position"],
            "seq": r["seq"],
            "type": r["type"],
            "at": r["at"],
            "actor": said[r["seq"]].actor,
            "reason": said[r["seq"]].reason,
            "data": said[r["seq"]].values,
            "hash": r["hash"],
            "prev_hash": r["prev_hash"],
        }
        for r in rows
        if r["seq"] in said
    ]


def rank_of(tx: Tx, zone_id: str, seq: int) -> tuple[int, int] | None:
    """``(leaf index, position)`` of a zone's event in the log."""
    row = tx.one("SELECT position FROM {view_history} WHERE zone_id = %s AND seq = %s", (zone_id, seq))
    if row is None:
        return None
    below = tx.one("SELECT COUNT(*) AS n FROM {view_history} WHERE position < %s", (row["position"],))
    return int(below["n"]) if below else 0, int(row["position"])


def publications(tx: Tx, zone_id: str, kind: str = "Publicized") -> list[dict[str, int]]:
    """For each of a zone's public acts of ``kind`` (``Publicized``: its notices; ``Revoked``: its revocation), in
    order: the event's ``seq`` and the size of the log up to and including it (the smallest tree head that covers
    it)."""
    published = tx.all(
        "SELECT seq, position FROM {view_history} WHERE zone_id = %s AND type = %s ORDER BY seq", (zone_id, kind)
    )
    out = []
    for row in published:
        below = tx.one("SELECT COUNT(*) AS n FROM {view_history} WHERE position <= %s", (row["position"],))
        out.append({"seq": int(row["seq"]), "size": int(below["n"]) if below else 0})
    return out


def hashes_after(tx: Tx, position: int, limit: int | None = None) -> list[dict[str, Any]]:
    """``{position, hash}`` of every event after ``position`` (at most ``limit``), in log order (the Merkle tree's
    leaves)."""
    if limit is None:
        return tx.all("SELECT position, hash FROM {view_history} WHERE position > %s ORDER BY position", (position,))
    return tx.all(
        "SELECT position, hash FROM {view_history} WHERE position > %s ORDER BY position LIMIT %s", (position, limit)
    )


def hashes_from(tx: Tx, position: int, limit: int) -> list[str]:
    """The hashes of ``limit`` events from ``position`` on (included), in log order."""
    rows = tx.all("SELECT hash FROM {view_history} WHERE position >= %s ORDER BY position LIMIT %s", (position, limit))
    return [str(r["hash"]) for r in rows]


def leaf_index_of(tx: Tx, position: int) -> int | None:
    """The leaf index (rank in the log) of the event at ``position``, or None if there is none there."""
    if tx.one("SELECT position FROM {view_history} WHERE position = %s", (position,)) is None:
        return None
    below = tx.one("SELECT COUNT(*) AS n FROM {view_history} WHERE position < %s", (position,))
    return int(below["n"]) if below else 0
