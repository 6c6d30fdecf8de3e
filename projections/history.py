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
            "actor TEXT, reason TEXT, data TEXT, hash TEXT, prev_hash TEXT",
        },
        indexes=("CREATE UNIQUE INDEX IF NOT EXISTS view_history_zone ON {view_history} (zone_id, seq)",),
    )

    def begin(self, tx: Tx) -> None:
        self._rows: list[tuple[Any, ...]] = []

    def handle(self, event: Any, tx: Tx) -> None:
        if isinstance(event, Chained.Event):
            self._rows.append(
                (
                    tx.position,
                    str(event.originator_id),
                    event.originator_version,
                    type(event).__name__,
                    event.timestamp.isoformat(),
                    dumps(event.actor),
                    event.reason,
                    dumps(event.data),
                    event.hash,
                    event.prev_hash,
                )
            )

    def finish(self, tx: Tx) -> None:
        tx.executemany(
            "INSERT INTO {view_history} (position, zone_id, seq, type, at, actor, reason, data, hash, prev_hash) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (position) DO NOTHING",
            self._rows,
        )
        self._rows = []


def _entry(r: dict[str, Any]) -> dict[str, Any]:
    return {
        "position": r["position"],
        "seq": r["seq"],
        "type": r["type"],
        "at": r["at"],
        "actor": json.loads(r["actor"]),
        "reason": r["reason"],
        "data": json.loads(r["data"]),
        "hash": r["hash"],
        "prev_hash": r["prev_hash"],
    }


def zone_history(tx: Tx, zone_id: str) -> list[dict[str, Any]]:
    """Every event of a zone in order."""
    return [_entry(r) for r in tx.all("SELECT * FROM {view_history} WHERE zone_id = %s ORDER BY seq", (zone_id,))]


def log_hashes(tx: Tx, limit: int | None = None) -> list[tuple[int, str]]:
    """``(position, hash)`` of the log's events in order (the Merkle tree's leaves)."""
    sql = "SELECT position, hash FROM {view_history} ORDER BY position"
    if limit is not None:
        return [(r["position"], r["hash"]) for r in tx.all(sql + " LIMIT %s", (limit,))]
    return [(r["position"], r["hash"]) for r in tx.all(sql)]


def rank_of(tx: Tx, zone_id: str, seq: int) -> tuple[int, int] | None:
    """``(leaf index, position)`` of a zone's event in the log."""
    row = tx.one("SELECT position FROM {view_history} WHERE zone_id = %s AND seq = %s", (zone_id, seq))
    if row is None:
        return None
    below = tx.one("SELECT COUNT(*) AS n FROM {view_history} WHERE position < %s", (row["position"],))
    return int(below["n"]) if below else 0, int(row["position"])
