"""The application service: the zone case application, its commands and its queries of the past."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from uuid import UUID

from application.commands import ZoneCommands
from domain.deadlines import Deadline
from domain.errors import InvalidValueError
from domain.errors import ZoneNotFoundError
from domain.zone import Zone


class ZoneApplication(ZoneCommands):
    """The zone case application: commands in, events recorded, state out."""

    name = "ZoneCase"

    # --- queries ------------------------------------------------------------------------------

    def due_deadlines(self, zone_id: UUID) -> list[Deadline]:
        """The deadlines due now for a zone and not yet recorded, in due order."""
        return self.get_zone(zone_id).due_deadlines(self.clock.now(), self.policy)

    def as_of(self, zone_id: UUID, instant: datetime) -> Zone:
        """The zone as it stood at ``instant``, rebuilt from the events recorded up to then."""
        if instant.tzinfo is None:
            raise InvalidValueError("as_of needs an instant with a time zone offset.")
        zone: Zone | None = None
        for event in self.events.get(zone_id):
            if event.timestamp > instant:  # type: ignore[attr-defined]
                break
            zone = event.mutate(zone)  # type: ignore[attr-defined]
        if not isinstance(zone, Zone):  # none yet, or not a zone's events (a call's, a calendar year's)
            raise ZoneNotFoundError(f"Zone {zone_id} did not exist at {instant.isoformat()}.")
        return zone

    def zones_as_of(self, instant: datetime) -> list[Zone]:
        """Every zone as it stood at ``instant`` (those that existed then), rebuilt from the events."""
        out = []
        for zone_id in self.zone_ids():
            try:
                out.append(self.as_of(zone_id, instant))
            except ZoneNotFoundError:
                continue
        return out

    def zone_ids(self) -> Iterator[UUID]:
        """Every zone's id, in the order the zones were created."""
        for n in self.notifications_of(_APPLIED_TOPIC):
            yield n.originator_id if isinstance(n.originator_id, UUID) else UUID(str(n.originator_id))


_APPLIED_TOPIC = f"{Zone.Applied.__module__}:{Zone.Applied.__qualname__}"
