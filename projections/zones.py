"""The zone list and detail: one row per zone with the document the API returns."""

from __future__ import annotations

import json
from typing import Any

from application.representation import zone_document
from domain.policy import Policy
from domain.zone import Zone
from projections.base import ZoneStateProjection
from projections.storage import Tx
from projections.storage import ViewSpec
from projections.storage import dumps
from projections.storage import where

COLUMNS = ("zone_id", "name", "applicant_org", "status", "version", "batch", "applied_on", "updated_at", "document")


class ZonesProjection(ZoneStateProjection):
    """``GET /zones`` and ``GET /zones/{id}``."""

    spec = ViewSpec(
        name="view_zones",
        tables={
            "view_zones": "zone_id TEXT PRIMARY KEY, name TEXT, applicant_org TEXT, status TEXT, "
            "version INTEGER, batch TEXT, applied_on TEXT, updated_at TEXT, document TEXT",
        },
        indexes=("CREATE INDEX IF NOT EXISTS view_zones_org ON {view_zones} (applicant_org, status)",),
    )

    def write_zones(self, tx: Tx, zones: list[Zone]) -> None:
        policy: Policy = self.context["policy"]
        rows = []
        for zone in zones:
            document = zone_document(zone, policy, self.deadlines_of(tx, zone))
            rows.append(
                (
                    str(zone.id),
                    zone.name,
                    zone.applicant_org,
                    zone.status,
                    zone.version,
                    zone.batch,
                    zone.applied_on,
                    document["updated_at"],
                    dumps(document),
                )
            )
        tx.replace_rows("view_zones", "zone_id", [r[0] for r in rows], COLUMNS, rows)


def list_zones(tx: Tx, *, status: str | None, org: str | None, limit: int, offset: int) -> list[dict[str, Any]]:
    """Zone summaries, newest application first."""
    clause, params = where(("status = %s", status), ("applicant_org = %s", org))
    return tx.all(
        "SELECT zone_id, name, applicant_org, status, version, batch, applied_on, updated_at FROM {view_zones}"
        + clause
        + " ORDER BY applied_on DESC, zone_id LIMIT %s OFFSET %s",
        [*params, limit, offset],
    )


def get_zone(tx: Tx, zone_id: str) -> dict[str, Any] | None:
    """The zone's document as last projected."""
    row = tx.one("SELECT document FROM {view_zones} WHERE zone_id = %s", (zone_id,))
    return None if row is None else json.loads(row["document"])
