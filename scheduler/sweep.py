"""One deadline sweep: the due deadlines, read from the deadline view (or, without views, from every
zone), recorded through the application in due order. Safe to run twice, in two processes, or after a
crash: the zone refuses a deadline event it already has."""

from __future__ import annotations

import logging
from typing import Any
from uuid import UUID

from application.service import ZoneApplication
from domain.errors import AlreadyRecordedError
from domain.errors import IllegalTransitionError
from projections.deadlines import list_deadlines

log = logging.getLogger("zonecase.scheduler")


def due_from_view(runner: Any, now_iso: str) -> list[tuple[UUID, str, str]]:
    """``(zone_id, key, due_at)`` of every unrecorded deadline due by ``now``, soonest first."""
    out: list[tuple[UUID, str, str]] = []
    offset = 0
    while True:
        with runner.read("deadlines") as tx:
            rows = list_deadlines(tx, before=None, kind=None, limit=1000, offset=offset)
        for r in rows:
            if r["due_at"] <= now_iso and not r["recorded"]:
                out.append((UUID(r["zone_id"]), r["key"], r["due_at"]))
        if len(rows) < 1000 or (rows and rows[-1]["due_at"] > now_iso):
            return out
        offset += len(rows)


def due_from_zones(app: ZoneApplication) -> list[tuple[UUID, str, str]]:
    """The same, from every zone's events (no views in this process)."""
    out = []
    for zone_id in app.zone_ids():
        for d in app.due_deadlines(zone_id):
            out.append((zone_id, d.key, d.due_at.isoformat()))
    return sorted(out, key=lambda t: (t[2], str(t[0]), t[1]))


def sweep(app: ZoneApplication, runner: Any = None) -> list[dict[str, Any]]:
    """Fires what is due at the application's now, in due order; returns what this sweep recorded."""
    now = app.clock.now()
    if runner is not None:
        runner.wait_for(app.recorder.max_notification_id(), timeout=30)  # the view is current
        due = due_from_view(runner, now.isoformat())
    else:
        due = due_from_zones(app)
    fired: list[dict[str, Any]] = []
    for zone_id, key, due_at in due:
        try:
            app.record_deadline(zone_id, key)
        except (AlreadyRecordedError, IllegalTransitionError) as e:
            log.info("deadline %s of zone %s not recorded: %s", key, zone_id, e.message)
            continue  # another sweeper recorded it, or a step in between made it moot
        fired.append({"zone_id": str(zone_id), "kind": key.split(":")[0], "key": key, "due_at": due_at})
    return fired
