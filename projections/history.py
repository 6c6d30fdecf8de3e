"""The timeline: every event with its actor, reason, data and hash links."""

from __future__ import annotations

import json
from typing import Any

from domain.zone import Zone
from projections.base import Tx, ViewProjection, ViewSpec, dumps


class HistoryProjection(ViewProjection):
    """``GET /zones/{id}/history``."""

    spec = ViewSpec(
        name="view_history",
        tables={
            "view_history": "zone_id TEXT, seq INTEGER, type TEXT, at TEXT, actor TEXT, reason TEXT, data TEXT, "
            "hash TEXT, prev_hash TEXT, PRIMARY KEY (zone_id, seq)",
        },
    )

    def begin(self, tx: Tx) -> None:
        self._rows: list[tuple[Any, ...]] = []

    def handle(self, event: Any, tx: Tx) -> None:
        if isinstance(event, Zone.Event):
            self._rows.append(
                (
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
            "INSERT INTO {view_history} (zone_id, seq, type, at, actor, reason, data, hash, prev_hash) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (zone_id, seq) DO NOTHING",
            self._rows,
        )
        self._rows = []


def zone_history(tx: Tx, zone_id: str) -> list[dict[str, Any]]:
    """Every event of a zone in order."""
    rows = tx.all("SELECT * FROM {view_history} WHERE zone_id = %s ORDER BY seq", (zone_id,))
    return [
        {
            "seq": r["seq"],
            "type": r["type"],
            "at": r["at"],
            "actor": json.loads(r["actor"]),
            "reason": r["reason"],
            "data": json.loads(r["data"]),
            "hash": r["hash"],
            "prev_hash": r["prev_hash"],
        }
        for r in rows
    ]
