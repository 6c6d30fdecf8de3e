"""Deadlines: for every zone, the deadlines its history implies (moot ones leave the view)."""

from __future__ import annotations

from typing import Any

from domain.policy import Policy
from domain.zone import Zone
from projections.base import SnapshotProjection, Tx, ViewSpec


class DeadlinesProjection(SnapshotProjection):
    """``GET /deadlines``; the scheduler's sweep reads what is due from here."""

    spec = ViewSpec(
        name="view_deadlines",
        tables={
            "view_deadlines": "zone_id TEXT, key TEXT, kind TEXT, zone_name TEXT, applicant_org TEXT, due_on TEXT, "
            "due_at TEXT, recorded INTEGER, PRIMARY KEY (zone_id, key)",
            "view_deadlines_state": "zone_id TEXT PRIMARY KEY, version INTEGER, snapshot TEXT",
        },
        indexes=("CREATE INDEX IF NOT EXISTS view_deadlines_due ON {view_deadlines} (due_at)",),
    )
    snapshot_table = "view_deadlines_state"

    def write_zone(self, tx: Tx, zone: Zone) -> None:
        policy: Policy = self.context["policy"]
        tx.execute("DELETE FROM {view_deadlines} WHERE zone_id = %s", (str(zone.id),))
        tx.executemany(
            "INSERT INTO {view_deadlines} (zone_id, key, kind, zone_name, applicant_org, due_on, due_at, recorded) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
            [
                (
                    str(zone.id),
                    d["key"],
                    d["kind"],
                    zone.name,
                    zone.applicant_org,
                    d["day"].isoformat(),
                    d["due_at"].isoformat(),
                    int(d["recorded"]),
                )
                for d in zone.deadlines(policy)
            ],
        )


def list_deadlines(
    tx: Tx,
    *,
    before: str | None,
    kind: str | None,
    zone_id: str | None = None,
    org: str | None = None,
    limit: int = 500,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Deadlines, soonest first (``before``: an ISO instant bounding ``due_at``)."""
    where, params = [], []
    for column, value in (("kind", kind), ("zone_id", zone_id), ("applicant_org", org)):
        if value:
            where.append(f"{column} = %s")
            params.append(value)
    if before:
        where.append("due_at < %s")
        params.append(before)
    clause = (" WHERE " + " AND ".join(where)) if where else ""
    return tx.all(
        "SELECT zone_id, key, kind, zone_name, applicant_org, due_on, due_at, recorded FROM {view_deadlines}"
        + clause
        + " ORDER BY due_at, zone_id, key LIMIT %s OFFSET %s",
        [*params, limit, offset],
    )
