"""Public notices (公示): every notice as published, for anyone to read (no objector data)."""

from __future__ import annotations

from typing import Any

from domain.zone import Zone
from projections.base import ZoneStateProjection
from projections.storage import Tx
from projections.storage import ViewSpec


def notice_outcome(zone: Zone, number: int) -> str:
    """What became of a notice: in force, granted, sent back, rejected, or closed."""
    for objection in zone.objections.values():
        resolution = objection.resolution
        if objection.notice == number and resolution and resolution.outcome == "upheld":
            return "sent_back" if resolution.consequence == "reassess" else "rejected"
    if number == len(zone.notices):
        if zone.terms:
            return "granted"
        if zone.status == "in_notice":
            return "in_force"
        return zone.status  # revoked, or otherwise closed
    return "closed"


COLUMNS = (
    "zone_id",
    "number",
    "zone_name",
    "applicant_org",
    "text",
    "text_sha256",
    "starts_on",
    "ends_on",
    "working_days",
    "calendar",
    "published_at",
    "objections",
    "outcome",
)


class NoticesProjection(ZoneStateProjection):
    """``GET /notices``."""

    spec = ViewSpec(
        name="view_notices",
        tables={
            "view_notices": "zone_id TEXT, number INTEGER, zone_name TEXT, applicant_org TEXT, text TEXT, "
            "text_sha256 TEXT, starts_on TEXT, ends_on TEXT, working_days INTEGER, calendar TEXT, "
            "published_at TEXT, objections INTEGER, outcome TEXT, PRIMARY KEY (zone_id, number)",
        },
        indexes=("CREATE INDEX IF NOT EXISTS view_notices_starts ON {view_notices} (starts_on)",),
    )

    def write_zones(self, tx: Tx, zones: list[Zone]) -> None:
        published = [z for z in zones if z.notices]
        tx.replace_rows(
            "view_notices",
            "zone_id",
            [str(z.id) for z in published],
            COLUMNS,
            [
                (
                    str(z.id),
                    n.number,
                    z.name,
                    z.applicant_org,
                    n.text,
                    n.text_sha256,
                    n.starts_on.isoformat(),
                    n.ends_on.isoformat(),
                    n.working_days,
                    n.calendar,
                    n.published_at,
                    sum(1 for o in z.objections.values() if o.notice == n.number),
                    notice_outcome(z, n.number),
                )
                for z in published
                for n in z.notices
            ],
        )


def list_notices(tx: Tx, *, limit: int, offset: int) -> list[dict[str, Any]]:
    """Notices, the latest first."""
    return tx.all(
        "SELECT zone_id, number, zone_name, text, text_sha256, starts_on, ends_on, working_days, calendar, "
        "published_at, objections, outcome FROM {view_notices} ORDER BY starts_on DESC, zone_id, number "
        "LIMIT %s OFFSET %s",
        (limit, offset),
    )
