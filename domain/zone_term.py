"""The term's acts (§6): annual reports, review (复核), rectification (整改), revocation, deadlines."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from typing import Any

from domain import deadlines
from domain import intake
from domain.conditions import evaluation_checks
from domain.conditions import review_checks
from domain.deadlines import Deadline
from domain.errors import AlreadyRecordedError
from domain.errors import DeadlinePassedError
from domain.errors import IllegalTransitionError
from domain.errors import NotPermittedError
from domain.errors import TooEarlyError
from domain.errors import ZoneNotFoundError
from domain.indicators import IndicatorSystem
from domain.policy import Policy
from domain.state_case import STATUS_WORDS
from domain.values import Actor
from domain.values import add_months
from domain.values import local_date
from domain.zone_record import ZoneRecord


class TermActs(ZoneRecord):
    """The term's acts (§6): annual reports, review (复核), rectification (整改), revocation, deadlines."""

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
        self._require_status(
            "granted", "in_review", "review_passed", "recommended", "rectifying", doing="file an annual report"
        )
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
        checks = evaluation_checks(system, self.plan, self.creation_period.end_year, year, dict(report.statistics))
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
        checks = review_checks(self.plan, self.annual_reports.values())  # against the plan's goals (§6.4)
        if passed:  # the bureau then recommends the renewal and the leading group announces it (继续授予)
            self._record(
                self.ReviewPassed,
                actor=actor,
                at=at,
                reason=reasons,
                reviewed_term=term.number,
                checks=checks,
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
                checks=checks,
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
        self._record(getattr(self, self.DEADLINE_EVENTS[d.kind]), actor=actor, at=at, reason="", **d.event_data(at))
        if d.kind == "title_expired" and self.status == "granted":
            reason = "No review (复核) was requested before the title expired (§6.5)."
            self._revoke_by_process(actor, at, reason, "no_review_request")
