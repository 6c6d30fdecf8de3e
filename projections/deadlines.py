"""Deadlines: for every zone, the deadlines its history implies (moot ones leave the view)."""

from __future__ import annotations

from typing import Any

from domain.deadlines import Deadline
from domain.zone import Zone
from projections.base import ZoneStateProjection
from projections.storage import Tx
from projections.storage import ViewSpec
from projections.storage import where


class DeadlinesProjection(ZoneStateProjection):
    """``GET /deadlines``; the scheduler's sweep can read what is due from here."""

    spec = ViewSpec(
        name="view_deadlines",
        tables={
            "view_deadlines": "zone_id TEXT, key TEXT, kind TEXT, zone_name TEXT, applicant_org TEXT, due_on TEXT, "
            "due_at TEXT, recorded INTEGER, PRIMARY KEY (zone_id, key)",
        },
        indexes=("CREATE INDEX IF NOT EXISTS view_deadlines_due ON {view_deadlines} (due_at)",),
    )

    def write_zones(self, tx: Tx, zones: list[Zone]) -> None:
        tx.replace_rows(
            "view_deadlines",
            "zone_id",
            [str(z.id) for z in zones],
            ("zone_id", "key", "kind", "zone_name", "applicant_org", "due_on", "due_at", "recorded"),
            [_row(z, d) for z in zones for d in self.deadlines_of(tx, z)],
        )


def _row(z: Zone, d: Deadline) -> tuple[Any, ...]:
    return (str(z.id), d.key, d.kind, z.name, z.applicant_org, d.day.isoformat(), d.due_at.isoformat(), int(d.recorded))


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
    clause, params = where(
        ("kind = %s", kind), ("zone_id = %s", zone_id), ("applicant_org = %s", org), ("due_at < %s", before)
    )
    return tx.all(
        "SELECT zone_id, key, kind, zone_name, applicant_org, due_on, due_at, recorded FROM {view_deadlines}"
        + clause
        + " ORDER BY due_at, zone_id, key LIMIT %s OFFSET %s",
        [*params, limit, offset],
    )
