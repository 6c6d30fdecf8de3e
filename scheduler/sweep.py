"""One deadline sweep: every zone's due deadlines recorded through the application, in due order."""

from __future__ import annotations

from typing import Any

from domain.errors import AlreadyRecordedError, IllegalTransitionError
from zonecase.app import ZoneApplication


def sweep(app: ZoneApplication) -> list[dict[str, Any]]:
    """Fires what is due at the application's now; safe to run twice (the zone refuses repeats)."""
    fired: list[dict[str, Any]] = []
    for zone_id in app.zone_ids():
        for deadline in app.due_deadlines(zone_id):
            try:
                app.record_deadline(zone_id, deadline["key"])
            except (AlreadyRecordedError, IllegalTransitionError):
                continue  # another sweeper recorded it, or a step in between made it moot
            fired.append(
                {
                    "zone_id": str(zone_id),
                    "kind": deadline["kind"],
                    "key": deadline["key"],
                    "due_at": deadline["due_at"].isoformat(),
                }
            )
    return fired
