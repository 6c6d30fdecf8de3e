"""The application service: one method per command, taking ids and plain values, returning the zone."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import date, datetime
from typing import Any, cast
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import DomainEventProtocol, MutableOrImmutableAggregate
from eventsourcing.persistence import ApplicationRecorder, IntegrityError, Recording

from application.clock import Clock, SystemClock
from application.commands import Act, Idempotency, ZoneCommands
from application.commands import PreconditionFailedError as PreconditionFailedError
from application.representation import shown_zone
from application.store import MemoryRecorder, SideTables
from application.workdays import ChineseWorkingDays, OverridableCalendar, WorkingDayCalendar, nth_working_day
from domain.calendar_year import CalendarYear, calendar_year_id
from domain.conditions import Batch
from domain.errors import InvalidValueError, VersionConflictError, ZoneNotFoundError
from domain.indicators import IndicatorSystem
from domain.policy import Policy
from domain.values import Actor
from domain.zone import Zone


class ZoneApplication(ZoneCommands, Application[UUID]):
    """The zone case application: commands in (``ZoneCommands``), events recorded, state out."""

    name = "ZoneCase"

    def __init__(
        self,
        env: dict[str, str] | None = None,
        *,
        clock: Clock | None = None,
        system: IndicatorSystem,
        batches: dict[str, Batch],
        policy: Policy | None = None,
        calendar: WorkingDayCalendar | None = None,
        document_exists: Callable[[str], bool] | None = None,
    ) -> None:
        super().__init__(env)
        self.clock = clock or SystemClock()
        self.system = system
        self.systems = {system.version: system}
        self.batches = batches
        self.policy = policy or Policy()
        self.calendar = OverridableCalendar(calendar or ChineseWorkingDays(), self.calendar_override)
        self.document_exists = document_exists
        self.save_listeners: list[Callable[[int], None]] = []
        self._local = threading.local()

    def construct_recorder(self) -> ApplicationRecorder:
        """The library's recorder for the store, extended with idempotency keys and document metadata."""
        if self.env.get("PERSISTENCE_MODULE") == "eventsourcing.popo":
            return MemoryRecorder()
        return super().construct_recorder()

    @property
    def side_tables(self) -> SideTables:
        """Idempotency keys and document metadata, kept beside the events."""
        return cast(SideTables, self.recorder)

    def save(
        self, *objs: MutableOrImmutableAggregate[UUID] | DomainEventProtocol[UUID] | None, **kwargs: Any
    ) -> list[Recording[UUID]]:
        """Saves, remembers the log position for this thread, and tells the listeners (the view runner)."""
        recordings = super().save(*objs, **kwargs)
        if recordings:
            position = max(r.notification.id for r in recordings)
            self._local.position = position
            for listener in list(self.save_listeners):
                listener(position)
        return recordings

    def answer(self, zone: Zone, role: str) -> dict[str, Any]:
        """The zone as a command's caller with ``role`` is shown it, deadlines flagged against the clock."""
        return shown_zone(zone, self.policy, role, self.clock.now())

    def last_position(self) -> int | None:
        """The log position of the last events this thread saved (for read-your-writes)."""
        return getattr(self._local, "position", None)

    def forget_position(self) -> None:
        """Clears this thread's remembered position (a new request begins)."""
        self._local.position = None

    # --- plumbing -----------------------------------------------------------------------------

    def get_zone(self, zone_id: UUID) -> Zone:
        """The zone's current state, rebuilt from its events."""
        try:
            zone: Any = self.repository.get(zone_id)
        except AggregateNotFoundError:
            raise ZoneNotFoundError(f"No zone {zone_id}.") from None
        assert isinstance(zone, Zone)
        return zone

    def run(
        self,
        zone_id: UUID,
        act: Act,
        *,
        expected_version: int | None = None,
        idempotency: Idempotency | None = None,
        answer: Callable[[Zone], dict[str, Any]] | None = None,
    ) -> Zone:
        """Loads, acts, saves; a concurrent write is retried once on fresh state, then reported.

        With ``idempotency`` the answer (``answer(zone)``, by default the zone as its caller sees it) is
        stored in the same transaction as the events."""
        for attempt in (1, 2):
            zone = self.get_zone(zone_id)
            if expected_version is not None and zone.version != expected_version:
                raise PreconditionFailedError(
                    f"The zone is at version {zone.version}, not {expected_version}: someone else changed it. "
                    "Reload it and try again.",
                    current_version=zone.version,
                )
            act(zone, self.clock.now())
            try:
                self._save_with(zone, idempotency, answer)
            except IntegrityError:
                if attempt == 2:
                    raise VersionConflictError(
                        "The zone was changed by someone else at the same moment, twice; nothing was recorded. "
                        "Try again."
                    ) from None
                continue
            return zone
        raise AssertionError("unreachable")  # pragma: no cover

    def _save_with(
        self, zone: Zone, idempotency: Idempotency | None, answer: Callable[[Zone], dict[str, Any]] | None
    ) -> None:
        if idempotency is None:
            self.save(zone)
            return
        body = answer(zone) if answer is not None else self.answer(zone, idempotency.role)
        self.save(zone, idempotency=idempotency.record(body))

    def _system_for(self, zone: Zone) -> IndicatorSystem:
        try:
            return self.systems[zone.indicator_system]
        except KeyError:
            raise InvalidValueError(f"Indicator system {zone.indicator_system} is not loaded.") from None

    def _check_documents(self, refs: list[dict[str, Any]] | None, field: str) -> None:
        if self.document_exists is None or not refs:
            return
        unknown = [
            {"loc": [field, i, "sha256"], "msg": "no document with this hash has been uploaded"}
            for i, ref in enumerate(refs)
            if isinstance(ref, dict) and isinstance(ref.get("sha256"), str) and not self.document_exists(ref["sha256"])
        ]
        if unknown:
            raise InvalidValueError(f"{field} references documents that were never uploaded.", unknown)

    def _batch(self, batch_id: str) -> Batch:
        try:
            return self.batches[batch_id]
        except (KeyError, TypeError):
            raise InvalidValueError(
                f"Unknown batch {batch_id!r}; open calls for applications: {', '.join(sorted(self.batches))}.",
                [{"loc": ["batch"], "msg": "unknown batch"}],
            ) from None

    # --- the working-day calendar ---------------------------------------------------------------

    def calendar_override(self, year: int) -> CalendarYear | None:
        """The calendar the bureau entered for ``year``, if any."""
        try:
            entered: Any = self.repository.get(calendar_year_id(year))
        except AggregateNotFoundError:
            return None
        assert isinstance(entered, CalendarYear)
        return entered

    def enter_calendar(
        self,
        actor: Actor,
        *,
        year: int,
        holidays: list[date],
        working_days: list[date],
        source: str,
        reason: str = "",
    ) -> CalendarYear:
        """The bureau enters (or corrects, with a reason) a year's holidays and adjusted working days."""
        now = self.clock.now()
        existing = self.calendar_override(year)
        if existing is None:
            entered = CalendarYear.enter(
                actor=actor,
                at=now,
                year=year,
                holidays=holidays,
                working_days=working_days,
                source=source,
                reason=reason,
            )
        else:
            existing.correct(
                actor=actor, at=now, holidays=holidays, working_days=working_days, source=source, reason=reason
            )
            entered = existing
        try:
            self.save(entered)
        except IntegrityError:
            raise VersionConflictError("The calendar was changed at the same moment; nothing was recorded.") from None
        return entered

    def notice_period(self, starts_on: date, working_days: int | None = None) -> tuple[date, int]:
        """The notice's last day: the N-th working day counting ``starts_on`` (default N from policy)."""
        n = self.policy.notice_working_days if working_days is None else working_days
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= 60:
            raise InvalidValueError("working_days must be 1 to 60.", [{"loc": ["working_days"], "msg": "1..60"}])
        return nth_working_day(self.calendar.pinned(), starts_on, n), n

    # --- queries ------------------------------------------------------------------------------

    def due_deadlines(self, zone_id: UUID) -> list[dict[str, Any]]:
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
        if zone is None:
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
        start = 1
        while True:
            batch = self.recorder.select_notifications(start=start, limit=500, topics=[_APPLIED_TOPIC])
            for n in batch:
                yield n.originator_id if isinstance(n.originator_id, UUID) else UUID(str(n.originator_id))
            if len(batch) < 500:
                return
            start = batch[-1].id + 1


_APPLIED_TOPIC = f"{Zone.Applied.__module__}:{Zone.Applied.__qualname__}"
