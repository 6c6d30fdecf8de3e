"""Public notices (公示) and revocation circulars (通报): every one as published, for anyone to read (no
objector data)."""

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
CIRCULAR_COLUMNS = (
    "zone_id",
    "zone_name",
    "applicant_org",
    "number",
    "text",
    "text_sha256",
    "ground",
    "scope",
    "revoked_on",
    "published_at",
)


class NoticesProjection(ZoneStateProjection):
    """``GET /notices``: the notices, and the circulars of revocations on §6.6's grounds."""

    spec = ViewSpec(
        name="view_notices",
        tables={
            "view_notices": "zone_id TEXT, number INTEGER, zone_name TEXT, applicant_org TEXT, text TEXT, "
            "text_sha256 TEXT, starts_on TEXT, ends_on TEXT, working_days INTEGER, calendar TEXT, "
            "published_at TEXT, objections INTEGER, outcome TEXT, PRIMARY KEY (zone_id, number)",
            # a table of their own: the notices' rows stay exactly as they were
            "view_circulars": "zone_id TEXT PRIMARY KEY, zone_name TEXT, applicant_org TEXT, number TEXT, "
            "text TEXT, text_sha256 TEXT, ground TEXT, scope TEXT, revoked_on TEXT, published_at TEXT",
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
        circulated = [z for z in zones if z.revocation is not None and z.revocation.circular is not None]
        tx.replace_rows(
            "view_circulars", "zone_id", [str(z.id) for z in circulated], CIRCULAR_COLUMNS, _circulars(circulated)
        )


def _circulars(zones: list[Zone]) -> list[tuple[Any, ...]]:
    rows = []
    for z in zones:
        revocation = z.revocation
        assert revocation is not None and revocation.circular is not None
        circular = revocation.circular
        rows.append(
            (
                str(z.id),
                z.name,
                z.applicant_org,
                circular.number,
                circular.text,
                circular.text_sha256,
                revocation.cause,
                revocation.scope,
                revocation.revoked_on.isoformat(),
                z.modified_on.isoformat(),  # a revocation is the zone's last event
            )
        )
    return rows


def list_notices(tx: Tx, *, limit: int, offset: int) -> list[dict[str, Any]]:
    """Notices and circulars (``kind``), the latest first; a circular's ``starts_on`` is its revocation's day
    and its document number is ``circular_number``."""
    return tx.all(
        "SELECT * FROM (SELECT 'notice' AS kind, zone_id, number, NULL AS circular_number, zone_name, text, "
        "text_sha256, starts_on, ends_on, working_days, calendar, published_at, objections, outcome, "
        "NULL AS ground, NULL AS scope FROM {view_notices} "
        "UNION ALL SELECT 'circular', zone_id, NULL, number, zone_name, text, text_sha256, revoked_on, NULL, NULL, "
        "NULL, published_at, NULL, NULL, ground, scope FROM {view_circulars}) AS items "
        "ORDER BY starts_on DESC, zone_id, kind DESC, number LIMIT %s OFFSET %s",
        (limit, offset),
    )
