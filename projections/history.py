"""The timeline: every event of the log with its position, actor, reason, data and hash links."""

from __future__ import annotations

import json
from typing import Any

from domain.chained import Chained
from projections.base import Tx, ViewProjection, ViewSpec, dumps


class HistoryProjection(ViewProjection):
    """``GET /zones/{id}/history``; also the leaves of the log's Merkle tree, in log order."""

    spec = ViewSpec(
        name="view_history",
        tables={
            "view_history": "position BIGINT PRIMARY KEY, zone_id TEXT, seq INTEGER, type TEXT, at TEXT, "
            "state TEXT, hash TEXT, prev_hash TEXT",
        },
        indexes=("CREATE UNIQUE INDEX IF NOT EXISTS view_history_zone ON {view_history} (zone_id, seq)",),
    )

    def begin(self, tx: Tx) -> None:
        self._rows: list[tuple[Any, ...]] = []
        # the stored JSON is kept as it is (no second encoding), unless the store compresses or encrypts it
        self._passthrough = self.mapper.compressor is None and self.mapper.cipher is None

    def handle(self, event: Any, tx: Tx) -> None:
        if not isinstance(event, Chained.Event):
            return
        if self._passthrough and tx.stored is not None:
            state = tx.stored.decode("utf-8")
        else:
            state = dumps({"actor": event.actor, "reason": event.reason, "data": event.data})
        self._rows.append(
            (
                tx.position,
                str(event.originator_id),
                event.originator_version,
                type(event).__name__,
                event.timestamp.isoformat(),
                state,
                event.hash,
                event.prev_hash,
            )
        )

    def finish(self, tx: Tx) -> None:
        tx.insert_many(
            "view_history", ("position", "zone_id", "seq", "type", "at", "state", "hash", "prev_hash"), self._rows
        )
        self._rows = []


def _entry(r: dict[str, Any]) -> dict[str, Any]:
    state = json.loads(r["state"])
    return {
        "position": r["position"],
        "seq": r["seq"],
        "type": r["type"],
        "at": r["at"],
        "actor": state["actor"],
        "reason": state["reason"],
        "data": state["data"],
        "hash": r["hash"],
        "prev_hash": r["prev_hash"],
    }


def zone_history(tx: Tx, zone_id: str) -> list[dict[str, Any]]:
    """Every event of a zone in order."""
    return [_entry(r) for r in tx.all("SELECT * FROM {view_history} WHERE zone_id = %s ORDER BY seq", (zone_id,))]


def rank_of(tx: Tx, zone_id: str, seq: int) -> tuple[int, int] | None:
    """``(leaf index, position)`` of a zone's event in the log."""
    row = tx.one("SELECT position FROM {view_history} WHERE zone_id = %s AND seq = %s", (zone_id, seq))
    if row is None:
        return None
    below = tx.one("SELECT COUNT(*) AS n FROM {view_history} WHERE position < %s", (row["position"],))
    return int(below["n"]) if below else 0, int(row["position"])
