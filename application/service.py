"""The application service: one method per command, taking ids and plain values, returning the zone."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any, cast
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import DomainEventProtocol, MutableOrImmutableAggregate
from eventsourcing.persistence import ApplicationRecorder, IntegrityError, Recording

from application.clock import Clock, SystemClock
from application.store import IdempotencyRecord, MemoryRecorder, SideTables
from application.workdays import ChineseWorkingDays, OverridableCalendar, WorkingDayCalendar, nth_working_day, sources
from domain.calendar_year import CalendarYear, calendar_year_id
from domain.conditions import Batch
from domain.deadlines import Deadline
from domain.errors import InvalidValueError, VersionConflictError, ZoneNotFoundError
from domain.indicators import IndicatorSystem
from domain.policy import Policy
from domain.values import SYSTEM, Actor, local_date
from domain.zone import Zone


class PreconditionFailedError(VersionConflictError):
    """The caller's ``If-Match`` version is not the zone's version; nothing was recorded."""

    code = "precondition_failed"


class ZoneApplication(Application[UUID]):
    """The zone case application: commands in, events recorded, state out."""

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
        render = getattr(self._local, "idempotency", None)
        if render is not None and "idempotency" not in kwargs and objs and isinstance(objs[0], Zone):
            kwargs["idempotency"] = render(objs[0])
        recordings = super().save(*objs, **kwargs)
        if recordings:
            position = max(r.notification.id for r in recordings)
            self._local.position = position
            for listener in list(self.save_listeners):
                listener(position)
        return recordings

    @contextmanager
    def idempotent(self, render: Callable[[Zone], IdempotencyRecord]) -> Iterator[None]:
        """Within this block, the events a command saves are stored with ``render(zone)``, atomically."""
        self._local.idempotency = render
        try:
            yield
        finally:
            self._local.idempotency = None

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

    def _command(
        self, zone_id: UUID, act: Callable[[Zone, datetime], None], expected_version: int | None = None
    ) -> Zone:
        """Loads, acts, saves; a concurrent write is retried once on fresh state, then reported."""
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
                self.save(zone)
            except IntegrityError:
                if attempt == 2:
                    raise VersionConflictError(
                        "The zone was changed by someone else at the same moment, twice; nothing was recorded. "
                        "Try again."
                    ) from None
                continue
            return zone
        raise AssertionError("unreachable")  # pragma: no cover

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

    # --- commands -----------------------------------------------------------------------------

    def apply(
        self,
        actor: Actor,
        *,
        name: str,
        area_type: str,
        sites: list[dict[str, Any]],
        batch: str,
        materials: list[dict[str, Any]],
        self_assessment: dict[str, Any] | None = None,
        plan: dict[str, Any] | None = None,
        zone_id: UUID | None = None,
    ) -> Zone:
        """An applicant files an application; returns the new zone (status ``applied``)."""
        self._check_documents(materials, "materials")
        zone = Zone.file_application(
            zone_id=zone_id or uuid4(),
            actor=actor,
            at=self.clock.now(),
            name=name,
            area_type=area_type,
            sites=sites,
            batch=self._batch(batch),
            materials=materials,
            self_assessment=self_assessment,
            plan=plan,
            system=self.system,
        )
        try:
            self.save(zone)
        except IntegrityError:
            raise VersionConflictError("A zone with this id already exists; nothing was recorded.") from None
        return zone

    def formal_review(
        self, zone_id: UUID, actor: Actor, *, outcome: str, reasons: str = "", expected_version: int | None = None
    ) -> Zone:
        """The bureau's formal review: accepted, returned or rejected."""

        def act(z: Zone, at: datetime) -> None:
            z.formal_review(
                actor=actor,
                at=at,
                outcome=outcome,
                reasons=reasons,
                batch=self._batch(z.batch),
                system=self._system_for(z),
            )

        return self._command(zone_id, act, expected_version)

    def supplement(
        self,
        zone_id: UUID,
        actor: Actor,
        *,
        materials: list[dict[str, Any]],
        statistics: dict[str, Any] | None = None,
        plan: dict[str, Any] | None = None,
        note: str = "",
        expected_version: int | None = None,
    ) -> Zone:
        """The applicant supplements a returned application."""
        self._check_documents(materials, "materials")
        return self._command(
            zone_id,
            lambda z, at: z.supplement(
                actor=actor, at=at, materials=materials, statistics=statistics, plan=plan, note=note
            ),
            expected_version,
        )

    def appoint_panel(
        self,
        zone_id: UUID,
        actor: Actor,
        *,
        experts: list[dict[str, Any]],
        methods: list[str],
        reason: str = "",
        expected_version: int | None = None,
    ) -> Zone:
        """The bureau appoints the expert panel."""
        return self._command(
            zone_id,
            lambda z, at: z.appoint_panel(
                actor=actor, at=at, experts=experts, methods=methods, policy=self.policy, reason=reason
            ),
            expected_version,
        )

    def declare_conflict(
        self, zone_id: UUID, actor: Actor, *, reason: str, expected_version: int | None = None
    ) -> Zone:
        """A panel expert declares a conflict of interest."""
        return self._command(
            zone_id, lambda z, at: z.declare_conflict(actor=actor, at=at, reason=reason), expected_version
        )

    def file_scores(
        self,
        zone_id: UUID,
        actor: Actor,
        *,
        scores: dict[str, Any],
        comment: str = "",
        expected_version: int | None = None,
    ) -> Zone:
        """A panel expert files scores for every indicator."""
        return self._command(
            zone_id,
            lambda z, at: z.file_scores(actor=actor, at=at, scores=scores, comment=comment, system=self._system_for(z)),
            expected_version,
        )

    def conclude_assessment(
        self,
        zone_id: UUID,
        actor: Actor,
        *,
        passed: bool,
        report: dict[str, Any],
        reasons: str,
        expected_version: int | None = None,
    ) -> Zone:
        """The bureau confirms the panel's report and forms the conclusion."""
        self._check_documents([report], "report")
        return self._command(
            zone_id,
            lambda z, at: z.conclude_assessment(
                actor=actor,
                at=at,
                passed=passed,
                report=report,
                reasons=reasons,
                system=self._system_for(z),
                policy=self.policy,
            ),
            expected_version,
        )

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

    def publish_notice(
        self,
        zone_id: UUID,
        actor: Actor,
        *,
        text: str,
        starts_on: date | None = None,
        working_days: int | None = None,
        expected_version: int | None = None,
    ) -> Zone:
        """The bureau publishes the public notice; its end is counted in working days."""

        def act(z: Zone, at: datetime) -> None:
            start = starts_on or local_date(at)
            ends_on, n = self.notice_period(start, working_days)
            z.publish_notice(
                actor=actor,
                at=at,
                text=text,
                starts_on=start,
                ends_on=ends_on,
                working_days=n,
                calendar=sources(self.calendar.pinned(), start, ends_on),
            )

        return self._command(zone_id, act, expected_version)

    def raise_objection(
        self,
        zone_id: UUID,
        actor: Actor,
        *,
        objector_name: str,
        contact: str,
        text: str,
        evidence: list[dict[str, Any]] | None = None,
        objection_id: str | None = None,
    ) -> tuple[Zone, str]:
        """Anyone raises an objection during the notice; returns the zone and the objection id."""
        self._check_documents(evidence, "evidence")
        oid = objection_id or str(uuid4())
        zone = self._command(
            zone_id,
            lambda z, at: z.raise_objection(
                actor=actor,
                at=at,
                objection_id=oid,
                objector_name=objector_name,
                contact=contact,
                text=text,
                evidence=evidence,
            ),
        )
        return zone, oid

    def resolve_objection(
        self,
        zone_id: UUID,
        actor: Actor,
        *,
        objection_id: str,
        outcome: str,
        consequence: str | None = None,
        reasons: str,
        expected_version: int | None = None,
    ) -> Zone:
        """The bureau resolves an objection."""
        return self._command(
            zone_id,
            lambda z, at: z.resolve_objection(
                actor=actor, at=at, objection_id=objection_id, outcome=outcome, consequence=consequence, reasons=reasons
            ),
            expected_version,
        )

    def grant(
        self,
        zone_id: UUID,
        actor: Actor,
        *,
        announcement_no: str,
        reason: str = "",
        expected_version: int | None = None,
    ) -> Zone:
        """The leading group grants the title."""
        return self._command(
            zone_id,
            lambda z, at: z.grant(
                actor=actor, at=at, announcement_no=announcement_no, policy=self.policy, reason=reason
            ),
            expected_version,
        )

    def file_annual_report(
        self,
        zone_id: UUID,
        actor: Actor,
        *,
        year: int,
        statistics: dict[str, Any],
        summary: str,
        documents: list[dict[str, Any]] | None = None,
        expected_version: int | None = None,
    ) -> Zone:
        """The applicant files a year's report."""
        self._check_documents(documents, "documents")
        return self._command(
            zone_id,
            lambda z, at: z.file_annual_report(
                actor=actor,
                at=at,
                year=year,
                statistics=statistics,
                summary=summary,
                documents=documents,
                policy=self.policy,
            ),
            expected_version,
        )

    def evaluate_annual_report(
        self,
        zone_id: UUID,
        actor: Actor,
        *,
        year: int,
        rating: str,
        comments: str,
        expected_version: int | None = None,
    ) -> Zone:
        """The bureau's yearly tracking evaluation of a report."""
        return self._command(
            zone_id,
            lambda z, at: z.evaluate_annual_report(
                actor=actor, at=at, year=year, rating=rating, comments=comments, system=self._system_for(z)
            ),
            expected_version,
        )

    def request_review(
        self, zone_id: UUID, actor: Actor, *, reason: str = "", expected_version: int | None = None
    ) -> Zone:
        """The applicant requests the review (复核)."""
        return self._command(
            zone_id, lambda z, at: z.request_review(actor=actor, at=at, reason=reason), expected_version
        )

    def decide_review(
        self,
        zone_id: UUID,
        actor: Actor,
        *,
        passed: bool,
        reasons: str,
        rectification_months: int | None = None,
        expected_version: int | None = None,
    ) -> Zone:
        """The bureau decides a review."""
        return self._command(
            zone_id,
            lambda z, at: z.decide_review(
                actor=actor,
                at=at,
                passed=passed,
                reasons=reasons,
                policy=self.policy,
                rectification_months=rectification_months,
            ),
            expected_version,
        )

    def submit_rectification(
        self,
        zone_id: UUID,
        actor: Actor,
        *,
        summary: str,
        documents: list[dict[str, Any]] | None = None,
        expected_version: int | None = None,
    ) -> Zone:
        """The applicant submits its rectification."""
        self._check_documents(documents, "documents")
        return self._command(
            zone_id,
            lambda z, at: z.submit_rectification(actor=actor, at=at, summary=summary, documents=documents),
            expected_version,
        )

    def revoke(
        self, zone_id: UUID, actor: Actor, *, reason: str, details: str, expected_version: int | None = None
    ) -> Zone:
        """The bureau revokes the title or the creation qualification."""
        return self._command(
            zone_id, lambda z, at: z.revoke(actor=actor, at=at, reason=reason, details=details), expected_version
        )

    def record_deadline(self, zone_id: UUID, key: str) -> Zone:
        """Records one due deadline event (the scheduler's command); refused if already recorded."""
        return self._command(zone_id, lambda z, at: z.record_deadline(actor=SYSTEM, at=at, key=key, policy=self.policy))

    def due_deadlines(self, zone_id: UUID) -> list[Deadline]:
        """The deadlines due now for a zone and not yet recorded, in due order."""
        return self.get_zone(zone_id).due_deadlines(self.clock.now(), self.policy)

    # --- queries ------------------------------------------------------------------------------

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

    def history(self, zone_id: UUID) -> list[dict[str, Any]]:
        """Every event of a zone in order, with actor, reason, data and its hash links."""
        out = [
            {
                "seq": e.originator_version,
                "type": type(e).__name__,
                "at": e.timestamp.isoformat(),  # type: ignore[attr-defined]
                "actor": e.actor,  # type: ignore[attr-defined]
                "reason": e.reason,  # type: ignore[attr-defined]
                "data": e.data,  # type: ignore[attr-defined]
                "hash": e.hash,  # type: ignore[attr-defined]
                "prev_hash": e.prev_hash,  # type: ignore[attr-defined]
            }
            for e in self.events.get(zone_id)
        ]
        if not out:
            raise ZoneNotFoundError(f"No zone {zone_id}.")
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
