"""The Zone aggregate (集聚区): one designation case, from application to grant, review or revocation."""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import UTC
from datetime import date
from datetime import datetime
from typing import Any
from typing import ClassVar
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain import deadlines
from domain import intake
from domain.chained import Chained
from domain.chained import Data
from domain.conditions import Batch
from domain.conditions import basic_conditions
from domain.conditions import materials_check
from domain.conditions import plan_target_checks
from domain.deadlines import Deadline
from domain.errors import AlreadyRecordedError
from domain.errors import ConditionsNotMetError
from domain.errors import ConflictOfInterestError
from domain.errors import DeadlinePassedError
from domain.errors import IllegalTransitionError
from domain.errors import InvalidValueError
from domain.errors import NotOnPanelError
from domain.errors import NotPermittedError
from domain.errors import OutOfOrderError
from domain.errors import TooEarlyError
from domain.errors import ZoneNotFoundError
from domain.indicators import IndicatorSystem
from domain.integrity import sha256_text
from domain.policy import Policy
from domain.records import as_plain
from domain.records import with_item
from domain.state import STATUS_WORDS
from domain.state import AnnualReport
from domain.state import Assessment
from domain.state import Conflict
from domain.state import CreationPeriod
from domain.state import Document
from domain.state import FormalDecision
from domain.state import Notice
from domain.state import Objection
from domain.state import Panel
from domain.state import Plan
from domain.state import Review
from domain.state import Revocation
from domain.state import SelfAssessment
from domain.state import Site
from domain.state import Term
from domain.state import ZoneState
from domain.values import Actor
from domain.values import add_months
from domain.values import day_after
from domain.values import local_date
from domain.values import permit


class Zone(Chained, ZoneState):
    """A software and IT services industry cluster zone's designation case."""

    # Every public method checks first and then records; the events' ``assign`` methods only build the
    # state from what was recorded, so that replaying the stored events always rebuilds the same state.

    class Event(Chained.Event):
        """Every zone event: who, why, what, and its place in the hash chain."""

    # --- events -------------------------------------------------------------------------------

    class Applied(Event, Aggregate.Created):
        """The applicant filed its application (申请)."""

        def assign(self, z: Zone, d: Data) -> None:  # what a new zone has not had yet: ZoneState's defaults
            z.name = d["name"]
            z.applicant_org = d["applicant_org"]
            z.area_type = d["area_type"]
            z.sites = tuple(Site(address=s["address"], name=s["name"]) for s in d["sites"])
            z.batch = d["batch"]
            z.creation_period = CreationPeriod(**d["creation_period"])
            z.materials = Document.from_list(d["materials"])
            z.self_assessment = SelfAssessment.from_data(d["self_assessment"])
            z.plan = Plan.from_data(d["plan"])
            z.indicator_system = d["indicator_system"]
            z.status = "applied"
            z.applied_on = d["applied_on"]

    class FormalReviewed(Event):
        """The bureau's formal review (形式审查) decided; each subclass names the outcome."""

        status: ClassVar[str]

        def assign(self, z: Zone, d: Data) -> None:
            z.status = self.status
            z.formal_decision = FormalDecision.from_data(d, reasons=self.reason)

    class FormallyAccepted(FormalReviewed):
        """The bureau's formal review (形式审查) found the application complete and eligible."""

        status = "accepted"

    class ApplicationReturned(FormalReviewed):
        """The bureau returned the application for supplement."""

        status = "returned"

    class ApplicationRejected(FormalReviewed):
        """The bureau rejected the application at formal review."""

        status = "rejected"

    class Supplemented(Event):
        """The applicant supplemented its materials; the application awaits formal review again."""

        def assign(self, z: Zone, d: Data) -> None:
            z.status = "applied"
            z.materials = Document.from_list(d["materials"])
            if d.get("self_assessment") is not None:
                z.self_assessment = SelfAssessment.from_data(d["self_assessment"])
            if d.get("plan") is not None:
                z.plan = Plan.from_data(d["plan"])

    class PanelAppointed(Event):
        """The bureau appointed the expert panel (专家评估组)."""

        def assign(self, z: Zone, d: Data) -> None:
            z.status = "assessing"
            z.panel = Panel.from_data(d, appointed_at=self.timestamp.isoformat(), appointed_by=self.actor)

    class ConflictDeclared(Event):
        """An expert declared a conflict of interest and will not score."""

        def assign(self, z: Zone, d: Data) -> None:
            assert z.panel is not None
            conflict = Conflict(declared_at=d["declared_at"], reason=self.reason)
            z.panel = z.panel.with_conflict(d["expert"], conflict)

    class ScoresFiled(Event):
        """An expert filed (or re-filed) scores for the 25 indicators."""

        def assign(self, z: Zone, d: Data) -> None:
            assert z.panel is not None
            z.panel = z.panel.with_sheet(d["expert"], d["scores"], d["comment"], d["filed_at"])

    class Assessed(Event):
        """The bureau confirmed the panel's report and formed the conclusion (评估结论)."""

        def assign(self, z: Zone, d: Data) -> None:
            z.status = "assessed" if d["passed"] else "not_passed"
            z.assessment = Assessment.from_data(d, reasons=self.reason)
            z.assessments = (*z.assessments, z.assessment)

    class Publicized(Event):
        """The bureau published the public notice (公示)."""

        def assign(self, z: Zone, d: Data) -> None:
            z.status = "in_notice"
            z.notice = Notice.from_data(d)
            z.notices = (*z.notices, z.notice)

    class ObjectionRaised(Event):
        """Someone raised an objection (异议) during the public notice."""

        def assign(self, z: Zone, d: Data) -> None:
            z.objections = with_item(z.objections, d["objection_id"], Objection.from_data(d))

    class ObjectionResolved(Event):
        """The bureau resolved an objection: dismissed, or upheld with its consequence."""

        def assign(self, z: Zone, d: Data) -> None:
            resolved = z.objections[d["objection_id"]].resolved(d, reasons=self.reason)
            z.objections = with_item(z.objections, d["objection_id"], resolved)
            if d["outcome"] == "upheld":
                z.status = "accepted" if d["consequence"] == "reassess" else "rejected"
                if d["consequence"] == "reassess":
                    z.panel = None
                    z.assessment = None

    class Granted(Event):
        """The leading group granted the title (授予称号) for a term."""

        def assign(self, z: Zone, d: Data) -> None:
            z.status = "granted"
            z.terms = (*z.terms, Term.from_data(d))

    class AnnualReported(Event):
        """The applicant filed the annual report (年度报告) for a year."""

        def assign(self, z: Zone, d: Data) -> None:
            z.annual_reports = with_item(z.annual_reports, str(d["year"]), AnnualReport.from_data(d))

    class AnnualEvaluated(Event):
        """The bureau recorded its yearly tracking evaluation (跟踪评价) of a report."""

        def assign(self, z: Zone, d: Data) -> None:
            evaluated = z.annual_reports[str(d["year"])].evaluated(d, comments=self.reason)
            z.annual_reports = with_item(z.annual_reports, str(d["year"]), evaluated)

    class ReviewRequested(Event):
        """The applicant requested the review (复核申请) before expiry."""

        def assign(self, z: Zone, d: Data) -> None:
            z.status = "in_review"
            z.review = Review.from_data(d)

    class ReviewPassed(Event):
        """The review passed: the title is granted again for a new term."""

        def assign(self, z: Zone, d: Data) -> None:
            assert z.review is not None
            z.status = "granted"
            z.terms = (*z.terms, Term.from_data(d["term"]))
            z.reviews = (*z.reviews, replace(z.review, passed=True, reasons=self.reason))
            z.review = None

    class RectificationOrdered(Event):
        """The review failed: a rectification period (整改期) is ordered."""

        def assign(self, z: Zone, d: Data) -> None:
            assert z.review is not None
            z.status = "rectifying"
            z.review = z.review.ordered(d, reasons=self.reason)

    class Rectified(Event):
        """The applicant submitted its rectification (整改); the zone is reviewed again."""

        def assign(self, z: Zone, d: Data) -> None:
            assert z.review is not None
            z.status = "in_review"
            z.review = z.review.rectified(d)

    class Revoked(Event):
        """The title (or the creation qualification) was revoked (撤销)."""

        def assign(self, z: Zone, d: Data) -> None:
            z.status = "revoked"
            z.revocation = Revocation.from_data(d, reasons=self.reason)

    class DeadlineEvent(Event):
        """A deadline the scheduler recorded; each one at most once."""

        def assign(self, z: Zone, d: Data) -> None:
            z.deadlines_recorded = (*z.deadlines_recorded, d["key"])

    class NoticeEnded(DeadlineEvent):
        """The public notice period ended."""

    class AnnualReportOverdue(DeadlineEvent):
        """January 31 passed without the annual report for a year."""

    class ReviewWindowOpened(DeadlineEvent):
        """The 3 months before expiry began: the review may now be requested."""

    class TitleExpired(DeadlineEvent):
        """The title's term ended."""

    class RectificationOverdue(DeadlineEvent):
        """The rectification period ended without a submission."""

    DEADLINE_EVENTS: ClassVar[dict[str, type[DeadlineEvent]]] = {
        "notice_ended": NoticeEnded,
        "annual_report_overdue": AnnualReportOverdue,
        "review_window_opened": ReviewWindowOpened,
        "title_expired": TitleExpired,
        "rectification_overdue": RectificationOverdue,
    }

    STATE_FIELDS: ClassVar[tuple[str, ...]] = tuple(ZoneState.__annotations__)

    # --- recording ----------------------------------------------------------------------------

    @classmethod
    def file_application(
        cls,
        *,
        zone_id: UUID,
        actor: Actor,
        at: datetime,
        name: str,
        area_type: str,
        sites: list[dict[str, Any]],
        batch: Batch,
        materials: list[dict[str, Any]],
        system: IndicatorSystem,
        self_assessment: dict[str, Any] | None = None,
        plan: dict[str, Any] | None = None,
        previous_case: UUID | None = None,
    ) -> Zone:
        """The applicant files an application (申请, §3.1.1) within the call's window; returns the new zone
        (``previous_case``: the organisation's earlier case in the call, rejected, not passed or revoked)."""
        if actor.role != "applicant" or not actor.org:
            raise NotPermittedError("Only an applicant (a town government or park committee) may apply.")
        intake.instant(at)
        name = intake.text(name, "name", limit=200)
        area_type = intake.area_type(area_type)
        clean_sites = intake.sites(sites)
        if batch.members_only and actor.org not in batch.members:
            raise NotPermittedError(
                f"The batch {batch.id} is created by {', '.join(batch.members.values())} only "
                f"(§1.3); organisation {actor.org} is not one of them."
            )
        batch.check_window(local_date(at))
        own_assessment = intake.self_assessment(system, self_assessment)
        data: dict[str, Any] = {
            "name": name,
            "applicant_org": actor.org,
            "area_type": area_type,
            "sites": clean_sites,
            "batch": batch.id,
            "creation_period": {"start_year": batch.start_year, "end_year": batch.end_year},
            "materials": intake.document_refs(materials, "materials", kinds=True),
            "self_assessment": own_assessment,
            "plan": intake.plan(plan),
            "indicator_system": system.version,
            "applied_on": local_date(at).isoformat(),
        }
        if previous_case is not None:  # only then: a first case records what it always recorded
            data["previous_case"] = str(previous_case)
        return cls._start(cls.Applied, aggregate_id=zone_id, actor=actor, at=at, **data)

    # --- guards -------------------------------------------------------------------------------

    def _guard(self, at: datetime, actor: Actor, *roles: str, own_zone_only: bool = True) -> date:
        intake.instant(at)
        permit(actor.role, roles)
        if own_zone_only and actor.role == "applicant" and actor.org != self.applicant_org:
            raise NotPermittedError("An applicant may act only on its own organisation's zone.")
        if self.status == "revoked":
            raise IllegalTransitionError(
                f"This zone was revoked on {self.revocation.revoked_on.isoformat() if self.revocation else '?'}; "
                "nothing more can be recorded for it."
            )
        if at.astimezone(UTC) < self.modified_on:
            raise OutOfOrderError(
                f"This zone's latest entry is dated {self.modified_on.isoformat()}; "
                f"an entry cannot be dated earlier ({at.astimezone(UTC).isoformat()})."
            )
        return local_date(at)

    def _require_status(self, *statuses: str, doing: str) -> None:
        if self.status not in statuses:
            allowed = " or ".join(STATUS_WORDS[s] for s in statuses)
            raise IllegalTransitionError(
                f"Cannot {doing}: the zone is {STATUS_WORDS[self.status]}; this is possible only when it is {allowed}."
            )

    # --- formal review ------------------------------------------------------------------------

    def formal_review(
        self, *, actor: Actor, at: datetime, outcome: str, reasons: str, batch: Batch, system: IndicatorSystem
    ) -> None:
        """The bureau's formal review (形式审查, §3.1.2): accept, return for supplement, or reject."""
        self._guard(at, actor, "bureau")
        self._require_status("applied", doing="record a formal review")
        outcome = intake.formal_outcome(outcome)
        reasons = intake.text(reasons, "reasons", required=outcome != "accepted")
        # the materials checklist (§5) and the measurable basic conditions (§4)
        if batch.id != self.batch:
            raise InvalidValueError(f"The zone applied in batch {self.batch}, not {batch.id}.")
        materials = [m.as_dict() for m in self.materials]
        checks = materials_check(batch, self.applicant_org, materials) + basic_conditions(
            system, dict(self.self_assessment.statistics), self.plan.as_dict()
        )
        if outcome == "accepted":
            failing = [c for c in checks if not c["passed"]]
            if failing:
                raise ConditionsNotMetError(
                    "The application cannot be formally accepted: " + "; ".join(c["rule"] for c in failing) + ".",
                    checks=failing,
                )
            self._record(self.FormallyAccepted, actor=actor, at=at, reason=reasons, outcome=outcome, checks=checks)
        elif outcome == "returned":
            self._record(self.ApplicationReturned, actor=actor, at=at, reason=reasons, outcome=outcome, checks=checks)
        else:
            self._record(self.ApplicationRejected, actor=actor, at=at, reason=reasons, outcome=outcome, checks=checks)

    def supplement(
        self,
        *,
        actor: Actor,
        at: datetime,
        materials: list[dict[str, Any]],
        statistics: dict[str, Any] | None = None,
        plan: dict[str, Any] | None = None,
        note: str = "",
    ) -> None:
        """The applicant supplements a returned application (补充材料)."""
        self._guard(at, actor, "applicant")
        self._require_status("returned", doing="supplement the application")
        added = intake.document_refs(materials, "materials", kinds=True)
        if not added and statistics is None and plan is None:
            raise InvalidValueError("A supplement must add materials, statistics or a plan.")
        merged = [m.as_dict() for m in self.materials]
        for m in added:
            if m not in merged:
                merged.append(m)
        sa = None
        if statistics is not None:
            stats = intake.statistics(statistics, "statistics", revenue_required=True)
            sa = {**self.self_assessment.as_dict(), "statistics": stats}
        self._record(
            self.Supplemented,
            actor=actor,
            at=at,
            reason=intake.text(note, "note", required=False),
            added=added,
            materials=merged,
            self_assessment=sa,
            plan=intake.plan(plan) if plan is not None else None,
        )

    # --- assessment ---------------------------------------------------------------------------

    def appoint_panel(
        self,
        *,
        actor: Actor,
        at: datetime,
        experts: list[dict[str, Any]],
        methods: list[str],
        policy: Policy,
        reason: str = "",
    ) -> None:
        """The bureau appoints the expert panel (§3.2); a new panel replaces one that has not concluded."""
        self._guard(at, actor, "bureau")
        self._require_status("accepted", "assessing", doing="appoint an expert panel")
        clean = intake.experts(experts, policy.min_panel_size)
        methods = intake.methods(methods)
        round_ = (self.panel.round + 1) if self.panel else len(self.assessments) + 1
        self._record(
            self.PanelAppointed,
            actor=actor,
            at=at,
            reason=intake.text(reason, "reason", required=False),
            round=round_,
            experts=clean,
            methods=methods,
        )

    def _panel_of(self, actor: Actor) -> Panel:
        assert self.panel is not None
        if not any(e.sub == actor.sub for e in self.panel.experts):
            raise NotOnPanelError("You are not on this zone's expert panel.")
        return self.panel

    def declare_conflict(self, *, actor: Actor, at: datetime, reason: str) -> None:
        """An expert on the panel declares a conflict of interest (回避); they may not score."""
        self._guard(at, actor, "expert")
        self._require_status("assessing", doing="declare a conflict of interest")
        panel = self._panel_of(actor)
        if actor.sub in panel.conflicts:
            raise IllegalTransitionError("You have already declared a conflict of interest for this assessment.")
        self._record(
            self.ConflictDeclared,
            actor=actor,
            at=at,
            reason=intake.text(reason, "reason"),
            expert=actor.sub,
            round=panel.round,
            declared_at=at.astimezone(UTC).isoformat(),
        )

    def file_scores(
        self, *, actor: Actor, at: datetime, scores: dict[str, Any], comment: str, system: IndicatorSystem
    ) -> None:
        """An unconflicted panel expert files scores for every indicator (re-filing replaces)."""
        self._guard(at, actor, "expert")
        self._require_status("assessing", doing="file scores")
        panel = self._panel_of(actor)
        if actor.sub in panel.conflicts:
            raise ConflictOfInterestError("You declared a conflict of interest for this zone and may not score it.")
        self._check_system(system)
        sheet = system.validate_scores(scores)
        self._record(
            self.ScoresFiled,
            actor=actor,
            at=at,
            reason="",
            expert=actor.sub,
            round=panel.round,
            scores=sheet,
            comment=intake.text(comment, "comment", required=False),
            indicator_system=system.version,
            filed_at=at.astimezone(UTC).isoformat(),
            replaces_earlier=actor.sub in panel.sheets,
        )

    def _check_system(self, system: IndicatorSystem) -> None:
        if system.version != self.indicator_system:
            raise InvalidValueError(
                f"This zone is assessed under indicator system {self.indicator_system}, not {system.version}."
            )

    def conclude_assessment(
        self,
        *,
        actor: Actor,
        at: datetime,
        passed: bool,
        report: dict[str, Any],
        reasons: str,
        system: IndicatorSystem,
        policy: Policy,
    ) -> None:
        """The bureau confirms the panel's report and forms the conclusion (§3.2.3)."""
        self._guard(at, actor, "bureau")
        self._require_status("assessing", doing="conclude the assessment")
        passed = intake.passed(passed)
        reports = intake.document_refs([report], "report", kinds=False)
        reasons = intake.text(reasons, "reasons")
        self._check_system(system)
        panel = self.panel
        assert panel is not None
        counted = panel.counted()
        missing = [s for s in counted if s not in panel.sheets]
        if not counted:
            raise IllegalTransitionError("Every expert on the panel declared a conflict; appoint a new panel.")
        if missing:
            raise IllegalTransitionError(
                "The assessment cannot be concluded: these panel experts have not filed scores: "
                + ", ".join(missing)
                + "."
            )
        result = system.panel_result([dict(panel.sheets[s].scores) for s in counted], policy.panel_method)
        self._record(
            self.Assessed,
            actor=actor,
            at=at,
            reason=reasons,
            passed=passed,
            report=reports[0],
            result=result,
            **panel.as_concluded(),
        )

    # --- public notice ------------------------------------------------------------------------

    def publish_notice(
        self, *, actor: Actor, at: datetime, text: str, starts_on: date, ends_on: date, working_days: int, calendar: str
    ) -> None:
        """The bureau publishes the public notice (公示, §3.3); its text and hash become the record."""
        today = self._guard(at, actor, "bureau")
        self._require_status("assessed", doing="publish the public notice")
        text = intake.text(text, "text", limit=100000)
        if starts_on < today:
            raise InvalidValueError(
                f"The notice cannot start in the past ({starts_on.isoformat()} is before today, {today.isoformat()}).",
                [{"loc": ["starts_on"], "msg": "not before today"}],
            )
        if ends_on < starts_on or working_days < 1:
            raise InvalidValueError("The notice must run for at least one working day.")
        self._record(
            self.Publicized,
            actor=actor,
            at=at,
            reason="",
            number=len(self.notices) + 1,
            text=text,
            text_sha256=sha256_text(text),
            starts_on=starts_on.isoformat(),
            ends_on=ends_on.isoformat(),
            working_days=working_days,
            calendar=calendar,
            published_at=at.astimezone(UTC).isoformat(),
        )

    def raise_objection(
        self,
        *,
        actor: Actor,
        at: datetime,
        objection_id: str,
        objector_name: str,
        contact: str,
        text: str,
        evidence: list[dict[str, Any]] | None = None,
    ) -> None:
        """Anyone raises an objection (异议) while the public notice runs."""
        # anyone may object (a town objecting to another town's zone acts as a member of the public)
        today = self._guard(at, actor, "public", "applicant", "bureau", "expert", "leading_group", own_zone_only=False)
        if self.status != "in_notice" or self.notice is None:
            raise DeadlinePassedError(
                f"Objections are taken only during a public notice (公示); the zone is {STATUS_WORDS[self.status]}."
            )
        starts, ends = self.notice.starts_on, self.notice.ends_on
        if today < starts:
            raise TooEarlyError(f"The public notice starts on {starts.isoformat()}; objections are taken from then.")
        if today > ends:
            raise DeadlinePassedError(f"The public notice ended on {ends.isoformat()}; objections are no longer taken.")
        if objection_id in self.objections:
            raise IllegalTransitionError("This objection is already recorded.")
        self._record(
            self.ObjectionRaised,
            actor=actor,
            at=at,
            reason="",
            objection_id=objection_id,
            notice=self.notice.number,
            objector_name=intake.text(objector_name, "objector_name", limit=200),
            contact=intake.text(contact, "contact", limit=500),
            text=intake.text(text, "text"),
            evidence=intake.document_refs(evidence, "evidence", kinds=False),
            raised_at=at.astimezone(UTC).isoformat(),
        )

    def resolve_objection(
        self, *, actor: Actor, at: datetime, objection_id: str, outcome: str, consequence: str | None, reasons: str
    ) -> None:
        """The bureau resolves an objection: dismissed, or upheld (→ reassessment or rejection)."""
        self._guard(at, actor, "bureau")
        objection = self.objections.get(objection_id)
        if objection is None:
            raise ZoneNotFoundError(f"This zone has no objection {objection_id}.")
        if objection.status != "open":
            raise IllegalTransitionError(f"This objection was already resolved ({objection.status}).")
        self._require_status("in_notice", doing="resolve an objection")
        intake.resolution(outcome, consequence)
        self._record(
            self.ObjectionResolved,
            actor=actor,
            at=at,
            reason=intake.text(reasons, "reasons"),
            objection_id=objection_id,
            outcome=outcome,
            consequence=consequence,
            resolved_at=at.astimezone(UTC).isoformat(),
        )

    # --- grant and term -----------------------------------------------------------------------

    def grant(self, *, actor: Actor, at: datetime, announcement_no: str, policy: Policy, reason: str = "") -> None:
        """The leading group grants the title (授予) — only after the notice, with no objection open or upheld."""
        today = self._guard(at, actor, "leading_group")
        self._require_status("in_notice", doing="grant the title")
        assert self.notice is not None
        ends = self.notice.ends_on
        if today <= ends:
            raise TooEarlyError(
                f"The public notice (公示) runs until {ends.isoformat()}; the title can be granted "
                f"from {day_after(ends).isoformat()} (经公示无异议, §3.3)."
            )
        current = [o for o in self.objections.values() if o.notice == self.notice.number]
        open_ = [o.objection_id for o in current if o.status == "open"]
        upheld = [o.objection_id for o in current if o.status == "upheld"]
        if open_:
            raise IllegalTransitionError(
                "The title cannot be granted while an objection to the notice is open: " + ", ".join(open_) + "."
            )
        if upheld:  # an upheld objection moves the zone on; kept as a second line of defence
            raise IllegalTransitionError("The title cannot be granted: an objection to the notice was upheld.")
        term = deadlines.new_term(
            1, today, policy, announcement_no=intake.text(announcement_no, "announcement_no", limit=200)
        )
        self._record(
            self.Granted, actor=actor, at=at, reason=intake.text(reason, "reason", required=False), **term.as_dict()
        )

    def file_annual_report(
        self,
        *,
        actor: Actor,
        at: datetime,
        year: int,
        statistics: dict[str, Any],
        summary: str,
        documents: list[dict[str, Any]] | None,
        policy: Policy,
    ) -> None:
        """The applicant reports a year's work and statistics (§6.2); after January 31 it is marked late."""
        today = self._guard(at, actor, "applicant")
        self._require_status("granted", "in_review", "rectifying", doing="file an annual report")
        year = intake.year(year)
        held = deadlines.held_years(self.terms)
        if year not in held:
            raise IllegalTransitionError(
                f"{year} is not a year in which this zone held the title (years held: {', '.join(map(str, held))})."
            )
        if year >= today.year:
            raise TooEarlyError(f"The report on {year} can be filed once {year} has ended.")
        if str(year) in self.annual_reports:
            raise IllegalTransitionError(f"The annual report on {year} was already filed.")
        due = deadlines.report_due_on(year, policy)
        self._record(
            self.AnnualReported,
            actor=actor,
            at=at,
            reason="",
            year=year,
            statistics=intake.statistics(statistics, "statistics", revenue_required=True),
            summary=intake.text(summary, "summary"),
            documents=intake.document_refs(documents, "documents", kinds=False),
            due_on=due.isoformat(),
            late=today > due,
            filed_at=at.astimezone(UTC).isoformat(),
        )

    def evaluate_annual_report(
        self, *, actor: Actor, at: datetime, year: int, rating: str, comments: str, system: IndicatorSystem
    ) -> None:
        """The bureau's yearly tracking evaluation (跟踪评价, §6.2–6.3), with threshold checks attached."""
        self._guard(at, actor, "bureau")
        report = self.annual_reports.get(str(year))
        if report is None:
            raise ZoneNotFoundError(f"No annual report on {year} has been filed for this zone.")
        if report.evaluation is not None:
            raise IllegalTransitionError(f"The annual report on {year} has already been evaluated.")
        rating = intake.rating(rating)
        stats = dict(report.statistics)
        checks = system.threshold_checks(stats) + plan_target_checks(self.plan.targets, year, stats)
        self._record(
            self.AnnualEvaluated,
            actor=actor,
            at=at,
            reason=intake.text(comments, "comments"),
            year=year,
            rating=rating,
            checks=checks,
            indicator_system=system.version,
        )

    # --- review (复核) and rectification (整改) -------------------------------------------------

    def request_review(self, *, actor: Actor, at: datetime, reason: str = "") -> None:
        """The applicant requests the review within the 3 months before expiry (§6.5)."""
        today = self._guard(at, actor, "applicant")
        if self.status in ("in_review", "rectifying"):
            raise IllegalTransitionError("A review (复核) has already been requested for this term.")
        self._require_status("granted", doing="request a review")
        term = self.current_term
        assert term is not None
        opens, until = term.review_window_opens_on, term.valid_until
        if today < opens:
            raise TooEarlyError(
                f"A review can be requested from {opens.isoformat()} (3 months before the title expires on "
                f"{term.expiry.isoformat()})."
            )
        if today > until:
            raise DeadlinePassedError(
                f"The title expired on {term.expiry.isoformat()}; the review was not requested in time."
            )
        self._record(
            self.ReviewRequested,
            actor=actor,
            at=at,
            reason=intake.text(reason, "reason", required=False),
            term=term.number,
            requested_at=at.astimezone(UTC).isoformat(),
        )

    def decide_review(
        self,
        *,
        actor: Actor,
        at: datetime,
        passed: bool,
        reasons: str,
        policy: Policy,
        rectification_months: int | None = None,
    ) -> None:
        """The bureau decides the review: passed → new term; failed → rectification; failed again → revoked."""
        today = self._guard(at, actor, "bureau")
        lapsed = deadlines.rectification_lapsed(self)  # then a failed decision needs no submission (§6.4)
        if self.status == "rectifying" and (passed is not False or not lapsed):
            then = ", or decided as failed now that the period ended with nothing submitted" if lapsed else ""
            raise IllegalTransitionError(
                f"The zone is in its rectification period (整改期); it is reviewed again once it submits its "
                f"rectification{then}."
            )
        self._require_status("in_review", "rectifying", doing="decide a review")
        passed = intake.passed(passed)
        reasons = intake.text(reasons, "reasons")
        assert self.review is not None
        term = self.current_term
        assert term is not None
        if passed:
            next_term = deadlines.new_term(term.number + 1, term.expiry, policy, announcement_no="")
            self._record(
                self.ReviewPassed,
                actor=actor,
                at=at,
                reason=reasons,
                term=next_term.as_dict(),
                after_rectification=self.review.rectification is not None,
            )
        elif self.status == "rectifying":  # the period ended with nothing submitted
            self._revoke_by_process(actor, at, reasons, "rectification_not_submitted")
        elif self.review.rectification is None:
            months = intake.rectification_months(
                policy.rectification_months if rectification_months is None else rectification_months
            )
            self._record(
                self.RectificationOrdered,
                actor=actor,
                at=at,
                reason=reasons,
                months=months,
                ordered_on=today.isoformat(),
                due_on=add_months(today, months).isoformat(),
            )
        else:
            self._revoke_by_process(actor, at, reasons, "review_failed_after_rectification")

    def submit_rectification(
        self, *, actor: Actor, at: datetime, summary: str, documents: list[dict[str, Any]] | None = None
    ) -> None:
        """The applicant submits its rectification (整改); the zone returns to review."""
        today = self._guard(at, actor, "applicant")
        self._require_status("rectifying", doing="submit a rectification")
        assert self.review is not None and self.review.rectification is not None
        due = self.review.rectification.due_on
        self._record(
            self.Rectified,
            actor=actor,
            at=at,
            reason="",
            summary=intake.text(summary, "summary"),
            documents=intake.document_refs(documents, "documents", kinds=False),
            late=today > due,
            submitted_on=today.isoformat(),
        )

    def revoke(
        self,
        *,
        actor: Actor,
        at: datetime,
        reason: str,
        details: str,
        evidence: list[dict[str, Any]],
        circular: dict[str, Any],
    ) -> None:
        """The bureau revokes on §6.6's grounds (statistics duty, concealment, fraud), on evidence and with a
        public circular (通报): the creation qualification before a grant (取消创建资格), the title after."""
        today = self._guard(at, actor, "bureau")
        if self.status in ("applied", "returned"):
            raise IllegalTransitionError(
                f"The zone is {STATUS_WORDS[self.status]}: it has not been formally accepted and holds no creation "
                "qualification to cancel; rejection at formal review (形式审查) is the act there."
            )
        if self.status in ("rejected", "not_passed"):
            raise IllegalTransitionError(
                f"The zone is {STATUS_WORDS[self.status]}: it holds no title or creation qualification to revoke."
            )
        data = intake.revocation(reason, details, evidence, circular)
        scope = "title" if self.terms else "creation_qualification"
        self._record(
            self.Revoked, actor=actor, at=at, reason=data["details"], revoked_on=today.isoformat(), scope=scope, **data
        )

    def _revoke_by_process(self, actor: Actor, at: datetime, reason: str, cause: str) -> None:
        # §6.4 and §6.5 revoke by the course of the process itself: no ground to prove, no circular
        details, day = intake.PROCESS_REVOCATIONS[cause], local_date(at).isoformat()
        self._record(self.Revoked, actor=actor, at=at, reason=reason, cause=cause, details=details, revoked_on=day)

    # --- deadlines (recorded by the scheduler, each at most once) -----------------------------

    def due_deadlines(self, at: datetime, policy: Policy) -> list[Deadline]:
        """The deadlines this zone's history has made due by ``at`` and not yet recorded, in due order."""
        return deadlines.due(self, at, policy)

    def deadlines(self, policy: Policy) -> list[Deadline]:
        """Every deadline the history implies and has not made moot, recorded or not, in due order."""
        return deadlines.implied(self, policy)

    def record_deadline(self, *, actor: Actor, at: datetime, key: str, policy: Policy) -> None:
        """Records one due deadline by its key (e.g. ``annual_report_overdue:2023``); refuses it twice."""
        if actor.role != "system":
            raise NotPermittedError("Deadlines are recorded by the scheduler only.")
        if key in self.deadlines_recorded:
            raise AlreadyRecordedError(f"The deadline {key} is already recorded for this zone.")
        self._guard(at, actor, "system")
        matches = [d for d in self.due_deadlines(at, policy) if d.key == key]
        if not matches:
            raise IllegalTransitionError(
                f"The deadline {key} is not due for this zone now (or the history made it moot)."
            )
        d = matches[0]
        self._record(self.DEADLINE_EVENTS[d.kind], actor=actor, at=at, reason="", **d.event_data(at))
        if d.kind == "title_expired" and self.status == "granted":
            reason = "No review (复核) was requested before the title expired (§6.5)."
            self._revoke_by_process(actor, at, reason, "no_review_request")

    # --- reading ------------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        """The whole state as plain values (what a replay must reproduce exactly)."""
        out = copy.deepcopy({name: as_plain(getattr(self, name)) for name in self.STATE_FIELDS})
        out["id"] = str(self.id)
        out["version"] = self.version
        out["created_on"] = self.created_on.isoformat()
        out["modified_on"] = self.modified_on.isoformat()
        return out
