"""The zone's record (集聚区案件): its events, the guards every act passes, and the state read back."""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import UTC
from datetime import date
from datetime import datetime
from typing import Any
from typing import ClassVar

from eventsourcing.domain import Aggregate

from domain import intake
from domain.chained import Chained
from domain.chained import Data
from domain.errors import IllegalTransitionError
from domain.errors import NotPermittedError
from domain.errors import OutOfOrderError
from domain.records import as_plain
from domain.records import frozen
from domain.records import with_item
from domain.state import ZoneState
from domain.state_assessment import Assessment
from domain.state_assessment import Conflict
from domain.state_assessment import Panel
from domain.state_assessment import Recusal
from domain.state_case import STATUS_WORDS
from domain.state_case import CreationPeriod
from domain.state_case import Document
from domain.state_case import FormalDecision
from domain.state_case import Plan
from domain.state_case import SelfAssessment
from domain.state_case import Site
from domain.state_creation import AssessmentRequest
from domain.state_creation import ProgressReport
from domain.state_creation import Supervision
from domain.state_term import AnnualReport
from domain.state_term import Notice
from domain.state_term import Objection
from domain.state_term import Recommendation
from domain.state_term import Review
from domain.state_term import Revocation
from domain.state_term import Term
from domain.values import Actor
from domain.values import local_date
from domain.values import permit


class ZoneRecord(Chained, ZoneState):
    """What a zone records and how its state is rebuilt; the acts that record it are in the ``zone_*`` modules."""

    # Every act checks first and then records; the events' ``assign`` methods only build the state from what was
    # recorded, so that replaying the stored events always rebuilds the same state. The events are redefined on
    # ``Zone`` by eventsourcing (``domain.zone:Zone.Applied`` …): that is the topic every stored event names.

    class Event(Chained.Event):
        """Every zone event: who, why, what, and its place in the hash chain."""

    def __deepcopy__(self, memo: dict[int, Any]) -> ZoneRecord:
        """A copy to act on (the repository hands out copies of the zones it keeps loaded): every value of the
        state is frozen (``domain.state``), so the copy shares them; only the list of unsaved events is its own."""
        twin = object.__new__(type(self))
        twin.__dict__.update(self.__dict__)
        twin._pending_events = list(self._pending_events)
        return twin

    # --- events -------------------------------------------------------------------------------

    class Applied(Event, Aggregate.Created):
        """The applicant filed its application (申请)."""

        def assign(self, z: ZoneRecord, d: Data) -> None:  # what a new zone has not had yet: ZoneState's defaults
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

        def assign(self, z: ZoneRecord, d: Data) -> None:
            z.status = self.status
            z.formal_decision = FormalDecision.from_data(d, reasons=self.reason)

    class FormallyAccepted(FormalReviewed):
        """The bureau's formal review (形式审查) found the application complete and eligible: the approval to start
        (批复同意启动), which opens the creation period (创建期; recorded from v2, absent before)."""

        status = "accepted"

        def assign(self, z: ZoneRecord, d: Data) -> None:
            super().assign(z, d)
            if "creation_period" in d:
                z.creation_period = z.creation_period.opened(d["creation_period"])

    class ApplicationReturned(FormalReviewed):
        """The bureau returned the application for supplement."""

        status = "returned"

    class ApplicationRejected(FormalReviewed):
        """The bureau rejected the application at formal review."""

        status = "rejected"

    class Supplemented(Event):
        """The applicant supplemented its materials; the application awaits formal review again."""

        def assign(self, z: ZoneRecord, d: Data) -> None:
            z.status = "applied"
            z.materials = Document.from_list(d["materials"])
            if d.get("self_assessment") is not None:
                z.self_assessment = SelfAssessment.from_data(d["self_assessment"])
            if d.get("plan") is not None:
                z.plan = Plan.from_data(d["plan"])

    # --- creation (v2): progress, supervision, the creation period, the assessment application ---------

    class ProgressReported(Event):
        """The applicant reported its creation work's progress (创建工作进展情况, §3.4.2)."""

        def assign(self, z: ZoneRecord, d: Data) -> None:
            z.progress_reports = (*z.progress_reports, ProgressReport.from_data(d))

    class SupervisionRecorded(Event):
        """The bureau recorded a supervision visit (督导检查, §3.4.3) or an ad-hoc evaluation (测评, §6.3)."""

        def assign(self, z: ZoneRecord, d: Data) -> None:
            z.supervisions = (*z.supervisions, Supervision.from_data(d, recorded_by=self.actor))

    class CreationPeriodExtended(Event):
        """The bureau extended the creation period after it ended with no grant."""

        def assign(self, z: ZoneRecord, d: Data) -> None:
            z.creation_period = z.creation_period.extended(d, reasons=self.reason)

    class AssessmentRequested(Event):
        """The applicant filed its assessment application (评估申请, §3.2.1)."""

        def assign(self, z: ZoneRecord, d: Data) -> None:
            z.status = "assessment_requested"
            z.assessment_requests = (*z.assessment_requests, AssessmentRequest.from_data(d))

    class AssessmentRequestDecided(Event):
        """The bureau decided the assessment application; each subclass names the outcome."""

        status: ClassVar[str]

        def assign(self, z: ZoneRecord, d: Data) -> None:
            z.status = self.status
            decided = z.assessment_requests[-1].decided(d, reasons=self.reason)
            z.assessment_requests = (*z.assessment_requests[:-1], decided)

    class AssessmentRequestAccepted(AssessmentRequestDecided):
        """The bureau accepted (受理) the assessment application: the assessment may begin."""

        status = "assessment_accepted"

    class AssessmentRequestRefused(AssessmentRequestDecided):
        """The bureau refused the assessment application; the applicant may file again in the creation period."""

        status = "accepted"

    class PanelAppointed(Event):
        """The bureau appointed the expert panel (专家评估组)."""

        def assign(self, z: ZoneRecord, d: Data) -> None:
            z.status = "assessing"
            z.panel = Panel.from_data(d, appointed_at=self.timestamp.isoformat(), appointed_by=self.actor)

    class ConflictDeclared(Event):
        """An expert declared a conflict of interest and will not score."""

        def assign(self, z: ZoneRecord, d: Data) -> None:
            assert z.panel is not None
            conflict = Conflict(declared_at=d["declared_at"], reason=self.reason)
            z.panel = z.panel.with_conflict(d["expert"], conflict)

    class ScoresFiled(Event):
        """An expert filed (or re-filed) scores for the 25 indicators."""

        def assign(self, z: ZoneRecord, d: Data) -> None:
            assert z.panel is not None
            z.panel = z.panel.with_sheet(d["expert"], d["scores"], d["comment"], d["filed_at"], self.reason or None)

    class Assessed(Event):
        """The bureau confirmed the panel's report and formed the conclusion (评估结论)."""

        def assign(self, z: ZoneRecord, d: Data) -> None:
            z.status = "assessed" if d["passed"] else "not_passed"
            z.assessment = Assessment.from_data(d, reasons=self.reason)
            z.assessments = (*z.assessments, z.assessment)

    # --- assessment: panel integrity (v2) ------------------------------------------------------

    class PanelMembersAdded(Event):
        """The bureau added experts to the sitting panel (增补专家, §3.2)."""

        def assign(self, z: ZoneRecord, d: Data) -> None:
            assert z.panel is not None
            z.panel = z.panel.with_members(d["experts"], added_at=d["added_at"])

    class ExpertRecused(Event):
        """The bureau recused an expert of the panel (回避) with reasons: the expert may not score."""

        def assign(self, z: ZoneRecord, d: Data) -> None:
            assert z.panel is not None
            recusal = Recusal(recused_at=d["recused_at"], recused_by=frozen(self.actor), reasons=self.reason)
            z.panel = z.panel.with_recusal(d["expert"], recusal)

    class Publicized(Event):
        """The bureau published the public notice (公示)."""

        def assign(self, z: ZoneRecord, d: Data) -> None:
            z.status = "in_notice"
            z.notice = Notice.from_data(d)
            z.notices = (*z.notices, z.notice)

    class ObjectionRaised(Event):
        """Someone raised an objection (异议) during the public notice."""

        def assign(self, z: ZoneRecord, d: Data) -> None:
            z.objections = with_item(z.objections, d["objection_id"], Objection.from_data(d))

    class ObjectionResolved(Event):
        """The bureau resolved an objection: dismissed, or upheld with its consequence."""

        def assign(self, z: ZoneRecord, d: Data) -> None:
            resolved = z.objections[d["objection_id"]].resolved(d, reasons=self.reason)
            z.objections = with_item(z.objections, d["objection_id"], resolved)
            for other in d.get("superseded", ()):  # since v2: the notice's other open objections, named
                z.objections = with_item(z.objections, other, z.objections[other].superseded(d["objection_id"]))
            if d["outcome"] == "upheld":
                # since v2 the status the zone goes back to is recorded (reassess: assessment_accepted); v1: accepted
                z.status = d.get("returns_to") or ("accepted" if d["consequence"] == "reassess" else "rejected")
                if d["consequence"] == "reassess":
                    z.panel = None
                    z.assessment = None

    class Granted(Event):
        """The leading group granted the title (授予称号) for a term; since v2 by announcement (公告) on the bureau's
        recommendation, also the renewal after a passed review (继续授予)."""

        def assign(self, z: ZoneRecord, d: Data) -> None:
            z.status = "granted"
            z.terms = (*z.terms, Term.from_data(d))
            if z.recommendations:  # v1's grants had none
                done = z.recommendations[-1].decided("granted", d["granted_at"], self.reason, d["announcement_no"])
                z.recommendations = (*z.recommendations[:-1], done)
            if d.get("renewal") and z.review is not None:
                z.reviews = (*z.reviews, z.review)
                z.review = None

    class AnnualReported(Event):
        """The applicant filed the annual report (年度报告) for a year."""

        def assign(self, z: ZoneRecord, d: Data) -> None:
            z.annual_reports = with_item(z.annual_reports, str(d["year"]), AnnualReport.from_data(d))

    class AnnualEvaluated(Event):
        """The bureau recorded its yearly tracking evaluation (跟踪评价) of a report."""

        def assign(self, z: ZoneRecord, d: Data) -> None:
            evaluated = z.annual_reports[str(d["year"])].evaluated(d, comments=self.reason)
            z.annual_reports = with_item(z.annual_reports, str(d["year"]), evaluated)

    class ReviewRequested(Event):
        """The applicant requested the review (复核申请) before expiry."""

        def assign(self, z: ZoneRecord, d: Data) -> None:
            z.status = "in_review"
            z.review = Review.from_data(d)

    class ReviewPassed(Event):
        """The review passed (复核通过): in v1 the title was granted again at once; since v2 the renewal follows by
        recommendation and announcement (继续授予, §6.4)."""

        def assign(self, z: ZoneRecord, d: Data) -> None:
            assert z.review is not None
            if "term" in d:  # v1: the pass itself granted the new term
                z.status = "granted"
                z.terms = (*z.terms, Term.from_data(d["term"]))
                z.reviews = (*z.reviews, replace(z.review, passed=True, reasons=self.reason))
                z.review = None
            else:  # since v2: the bureau recommends the renewal and the leading group announces it
                z.status = "review_passed"
                z.review = replace(z.review, passed=True, reasons=self.reason, checks=frozen(d["checks"]))

    class RectificationOrdered(Event):
        """The review failed: a rectification period (整改期) is ordered."""

        def assign(self, z: ZoneRecord, d: Data) -> None:
            assert z.review is not None
            z.status = "rectifying"
            z.review = z.review.ordered(d, reasons=self.reason)

    class Rectified(Event):
        """The applicant submitted its rectification (整改); the zone is reviewed again."""

        def assign(self, z: ZoneRecord, d: Data) -> None:
            assert z.review is not None
            z.status = "in_review"
            z.review = z.review.rectified(d)

    class Revoked(Event):
        """The title (or the creation qualification) was revoked (撤销)."""

        def assign(self, z: ZoneRecord, d: Data) -> None:
            z.status = "revoked"
            z.revocation = Revocation.from_data(d, reasons=self.reason)

    # --- recommendation and grant (v2) --------------------------------------------------------

    class Recommended(Event):
        """The bureau recommended the grant (提请, §3.3), or the renewal (继续授予, §6.4), to the leading group."""

        def assign(self, z: ZoneRecord, d: Data) -> None:
            z.status = "recommended"
            z.recommendations = (*z.recommendations, Recommendation.from_data(d, reasons=self.reason))

    class GrantRefused(Event):
        """The leading group declined the recommended grant (or renewal); the case goes back to the bureau."""

        def assign(self, z: ZoneRecord, d: Data) -> None:
            z.status = d["returns_to"]  # assessed (a grant) or in_review (a renewal)
            done = z.recommendations[-1].decided("refused", d["refused_at"], self.reason)
            z.recommendations = (*z.recommendations[:-1], done)
            if d["returns_to"] == "in_review" and z.review is not None:  # the review is to be decided again
                z.review = replace(z.review, passed=None, reasons=None, checks=None)

    class DeadlineEvent(Event):
        """A deadline the scheduler recorded; each one at most once."""

        def assign(self, z: ZoneRecord, d: Data) -> None:
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

    class CreationPeriodEnded(DeadlineEvent):
        """The creation period (创建期) ended with no grant: the bureau extends it or cancels the qualification."""

    DEADLINE_EVENTS: ClassVar[dict[str, str]] = {
        "notice_ended": "NoticeEnded",
        "annual_report_overdue": "AnnualReportOverdue",
        "review_window_opened": "ReviewWindowOpened",
        "title_expired": "TitleExpired",
        "rectification_overdue": "RectificationOverdue",
        "creation_period_ended": "CreationPeriodEnded",
    }

    STATE_FIELDS: ClassVar[tuple[str, ...]] = tuple(ZoneState.__annotations__)

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

    # --- reading ------------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        """The whole state as plain values (what a replay must reproduce exactly)."""
        out = copy.deepcopy({name: as_plain(getattr(self, name)) for name in self.STATE_FIELDS})
        out["id"] = str(self.id)
        out["version"] = self.version
        out["created_on"] = self.created_on.isoformat()
        out["modified_on"] = self.modified_on.isoformat()
        return out
