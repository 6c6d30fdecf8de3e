"""The commands of the process, one method per act: each takes a zone id, the actor and plain values,
checks what the service knows (documents uploaded, the batch, the indicator system, the calendar), and
runs the zone's own method through ``run`` — which loads, acts, saves and retries once."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.persistence import IntegrityError
from typing_extensions import Unpack

from application.core import Idempotency, Options, ZoneCore
from application.representation import objection_receipt
from application.workdays import sources
from domain.errors import VersionConflictError
from domain.values import SYSTEM, Actor, local_date
from domain.zone import Zone


class ZoneCommands(ZoneCore):
    """Every act of the process on a zone, one method each."""

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
        idempotency: Idempotency | None = None,
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
            self._save_with(zone, idempotency, None)
        except IntegrityError:
            raise VersionConflictError("A zone with this id already exists; nothing was recorded.") from None
        return zone

    def formal_review(
        self, zone_id: UUID, actor: Actor, *, outcome: str, reasons: str = "", **options: Unpack[Options]
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

        return self.run(zone_id, act, **options)

    def supplement(
        self,
        zone_id: UUID,
        actor: Actor,
        *,
        materials: list[dict[str, Any]],
        statistics: dict[str, Any] | None = None,
        plan: dict[str, Any] | None = None,
        note: str = "",
        **options: Unpack[Options],
    ) -> Zone:
        """The applicant supplements a returned application."""
        self._check_documents(materials, "materials")
        return self.run(
            zone_id,
            lambda z, at: z.supplement(
                actor=actor, at=at, materials=materials, statistics=statistics, plan=plan, note=note
            ),
            **options,
        )

    def appoint_panel(
        self,
        zone_id: UUID,
        actor: Actor,
        *,
        experts: list[dict[str, Any]],
        methods: list[str],
        reason: str = "",
        **options: Unpack[Options],
    ) -> Zone:
        """The bureau appoints the expert panel."""
        return self.run(
            zone_id,
            lambda z, at: z.appoint_panel(
                actor=actor, at=at, experts=experts, methods=methods, policy=self.policy, reason=reason
            ),
            **options,
        )

    def declare_conflict(self, zone_id: UUID, actor: Actor, *, reason: str, **options: Unpack[Options]) -> Zone:
        """A panel expert declares a conflict of interest."""
        return self.run(zone_id, lambda z, at: z.declare_conflict(actor=actor, at=at, reason=reason), **options)

    def file_scores(
        self,
        zone_id: UUID,
        actor: Actor,
        *,
        scores: dict[str, Any],
        comment: str = "",
        **options: Unpack[Options],
    ) -> Zone:
        """A panel expert files scores for every indicator."""
        return self.run(
            zone_id,
            lambda z, at: z.file_scores(actor=actor, at=at, scores=scores, comment=comment, system=self._system_for(z)),
            **options,
        )

    def conclude_assessment(
        self,
        zone_id: UUID,
        actor: Actor,
        *,
        passed: bool,
        report: dict[str, Any],
        reasons: str,
        **options: Unpack[Options],
    ) -> Zone:
        """The bureau confirms the panel's report and forms the conclusion."""
        self._check_documents([report], "report")
        return self.run(
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
            **options,
        )

    def publish_notice(
        self,
        zone_id: UUID,
        actor: Actor,
        *,
        text: str,
        starts_on: date | None = None,
        working_days: int | None = None,
        **options: Unpack[Options],
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

        return self.run(zone_id, act, **options)

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
        idempotency: Idempotency | None = None,
    ) -> tuple[Zone, str]:
        """Anyone raises an objection during the notice; returns the zone and the objection id."""
        self._check_documents(evidence, "evidence")
        oid = objection_id or str(uuid4())
        zone = self.run(
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
            idempotency=idempotency,
            answer=lambda z: objection_receipt(z, oid),
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
        **options: Unpack[Options],
    ) -> Zone:
        """The bureau resolves an objection."""
        return self.run(
            zone_id,
            lambda z, at: z.resolve_objection(
                actor=actor, at=at, objection_id=objection_id, outcome=outcome, consequence=consequence, reasons=reasons
            ),
            **options,
        )

    def grant(
        self,
        zone_id: UUID,
        actor: Actor,
        *,
        announcement_no: str,
        reason: str = "",
        **options: Unpack[Options],
    ) -> Zone:
        """The leading group grants the title."""
        return self.run(
            zone_id,
            lambda z, at: z.grant(
                actor=actor, at=at, announcement_no=announcement_no, policy=self.policy, reason=reason
            ),
            **options,
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
        **options: Unpack[Options],
    ) -> Zone:
        """The applicant files a year's report."""
        self._check_documents(documents, "documents")
        return self.run(
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
            **options,
        )

    def evaluate_annual_report(
        self,
        zone_id: UUID,
        actor: Actor,
        *,
        year: int,
        rating: str,
        comments: str,
        **options: Unpack[Options],
    ) -> Zone:
        """The bureau's yearly tracking evaluation of a report."""
        return self.run(
            zone_id,
            lambda z, at: z.evaluate_annual_report(
                actor=actor, at=at, year=year, rating=rating, comments=comments, system=self._system_for(z)
            ),
            **options,
        )

    def request_review(self, zone_id: UUID, actor: Actor, *, reason: str = "", **options: Unpack[Options]) -> Zone:
        """The applicant requests the review (复核)."""
        return self.run(zone_id, lambda z, at: z.request_review(actor=actor, at=at, reason=reason), **options)

    def decide_review(
        self,
        zone_id: UUID,
        actor: Actor,
        *,
        passed: bool,
        reasons: str,
        rectification_months: int | None = None,
        **options: Unpack[Options],
    ) -> Zone:
        """The bureau decides a review."""
        return self.run(
            zone_id,
            lambda z, at: z.decide_review(
                actor=actor,
                at=at,
                passed=passed,
                reasons=reasons,
                policy=self.policy,
                rectification_months=rectification_months,
            ),
            **options,
        )

    def submit_rectification(
        self,
        zone_id: UUID,
        actor: Actor,
        *,
        summary: str,
        documents: list[dict[str, Any]] | None = None,
        **options: Unpack[Options],
    ) -> Zone:
        """The applicant submits its rectification."""
        self._check_documents(documents, "documents")
        return self.run(
            zone_id,
            lambda z, at: z.submit_rectification(actor=actor, at=at, summary=summary, documents=documents),
            **options,
        )

    def revoke(self, zone_id: UUID, actor: Actor, *, reason: str, details: str, **options: Unpack[Options]) -> Zone:
        """The bureau revokes the title or the creation qualification."""
        return self.run(zone_id, lambda z, at: z.revoke(actor=actor, at=at, reason=reason, details=details), **options)

    def record_deadline(self, zone_id: UUID, key: str) -> Zone:
        """Records one due deadline event (the scheduler's command); refused if already recorded."""
        return self.run(zone_id, lambda z, at: z.record_deadline(actor=SYSTEM, at=at, key=key, policy=self.policy))
