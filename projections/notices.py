"""Public notices (公示): every notice as published, for anyone to read (no objector data)."""

from __future__ import annotations

from typing import Any

from domain.zone import Zone
from projections.base import Tx, ViewProjection, ViewSpec


class NoticesProjection(ViewProjection):
    """``GET /notices``."""

    spec = ViewSpec(
        name="view_notices",
        tables={
            "view_notices": "zone_id TEXT, number INTEGER, zone_name TEXT, applicant_org TEXT, text TEXT, "
            "text_sha256 TEXT, starts_on TEXT, ends_on TEXT, working_days INTEGER, calendar TEXT, "
            "published_at TEXT, objections INTEGER, outcome TEXT, PRIMARY KEY (zone_id, number)",
            "view_notices_zones": "zone_id TEXT PRIMARY KEY, name TEXT, applicant_org TEXT",
        },
        indexes=("CREATE INDEX IF NOT EXISTS view_notices_ends ON {view_notices} (ends_on)",),
    )

    def handle(self, event: Any, tx: Tx) -> None:
        if not isinstance(event, Zone.Event):
            return
        zone_id, d = str(event.originator_id), event.data
        if isinstance(event, Zone.Applied):
            tx.execute(
                "INSERT INTO {view_notices_zones} (zone_id, name, applicant_org) VALUES (%s, %s, %s) "
                "ON CONFLICT (zone_id) DO NOTHING",
                (zone_id, d["name"], d["applicant_org"]),
            )
        elif isinstance(event, Zone.Publicized):
            zone = tx.one("SELECT name, applicant_org FROM {view_notices_zones} WHERE zone_id = %s", (zone_id,))
            name, org = (zone["name"], zone["applicant_org"]) if zone else ("", "")
            tx.execute(
                "INSERT INTO {view_notices} (zone_id, number, zone_name, applicant_org, text, text_sha256, starts_on, "
                "ends_on, working_days, calendar, published_at, objections, outcome) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 0, 'in_force') "
                "ON CONFLICT (zone_id, number) DO NOTHING",
                (
                    zone_id,
                    d["number"],
                    name,
                    org,
                    d["text"],
                    d["text_sha256"],
                    d["starts_on"],
                    d["ends_on"],
                    d["working_days"],
                    d["calendar"],
                    d["published_at"],
                ),
            )
        elif isinstance(event, Zone.ObjectionRaised):
            tx.execute(
                "UPDATE {view_notices} SET objections = objections + 1 WHERE zone_id = %s AND number = %s",
                (zone_id, d["notice"]),
            )
        elif isinstance(event, Zone.ObjectionResolved) and d["outcome"] == "upheld":
            outcome = "sent_back" if d["consequence"] == "reassess" else "rejected"
            tx.execute(
                "UPDATE {view_notices} SET outcome = %s WHERE zone_id = %s AND outcome = 'in_force'", (outcome, zone_id)
            )
        elif isinstance(event, Zone.Granted):
            tx.execute(
                "UPDATE {view_notices} SET outcome = 'granted' WHERE zone_id = %s AND outcome = 'in_force'", (zone_id,)
            )
        elif isinstance(event, Zone.Revoked):
            tx.execute(
                "UPDATE {view_notices} SET outcome = 'revoked' WHERE zone_id = %s AND outcome = 'in_force'", (zone_id,)
            )


def list_notices(tx: Tx, *, limit: int, offset: int) -> list[dict[str, Any]]:
    """Notices, the latest first."""
    return tx.all(
        "SELECT zone_id, number, zone_name, text, text_sha256, starts_on, ends_on, working_days, calendar, "
        "published_at, objections, outcome FROM {view_notices} ORDER BY starts_on DESC, zone_id, number "
        "LIMIT %s OFFSET %s",
        (limit, offset),
    )
