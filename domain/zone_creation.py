"""The creation period's acts (创建期, §3.4, §3.2.1): progress reports, supervision, the period's end, the
assessment application and its acceptance."""

from __future__ import annotations

from datetime import UTC
from datetime import date
from datetime import datetime
from typing import Any

from domain import intake
from domain.deadlines import CREATION_CLOSED
from domain.errors import DeadlinePassedError
from domain.errors import IllegalTransitionError
from domain.errors import InvalidValueError
from domain.errors import TooEarlyError
from domain.indicators import IndicatorSystem
from domain.state_case import STATUS_WORDS
from domain.values import Actor
from domain.zone_record import ZoneRecord

SUPERVISION_KINDS = ("supervision", "evaluation")  # 督导检查 (§3.4.3), 测评 (§6.3)
CREATION_PERIOD_OUTCOMES = ("extended", "cancelled")
REQUEST_OUTCOMES = ("accepted", "refused")
# Before the approval to start there is no creation to report on, supervise or end.
NOT_YET_ACCEPTED = ("applied", "returned")


class CreationActs(ZoneRecord):
    """The creation period's acts (创建期, §3.4, §3.2.1): progress, supervision, the period's end, the assessment
    application and its acceptance."""

    # --- during creation ------------------------------------------------------------------------

    def _in_creation(self, doing: str) -> None:
        """Refuses unless the zone is in its creation period: from the approval to start until the grant."""
        if self.status in NOT_YET_ACCEPTED or self.status in CREATION_CLOSED or self.terms:
            state = "granted the title" if self.terms else STATUS_WORDS[self.status]
            raise IllegalTransitionError(
                f"Cannot {doing}: the zone is {state}; this is possible only in its creation period (创建期, §1.1), "
                "from the approval to start (批复同意启动, §3.1.2) until the grant."
            )

    def report_progress(
        self,
        *,
        actor: Actor,
        at: datetime,
        summary: str,
        statistics: dict[str, Any] | None = None,
        documents: list[dict[str, Any]] | None = None,
    ) -> None:
        """The applicant reports its creation work's progress (创建工作进展情况, §3.4.2), whenever it chooses."""
        self._guard(at, actor, "applicant")
        self._in_creation("file a progress report (创建工作进展情况, §3.4.2)")
        self._record(
            self.ProgressReported,
            actor=actor,
            at=at,
            reason="",
            number=len(self.progress_reports) + 1,
            summary=intake.text(summary, "summary"),
            statistics=intake.statistics(statistics, "statistics", revenue_required=False),
            documents=intake.document_refs(documents, "documents", kinds=False),
            filed_at=at.astimezone(UTC).isoformat(),
        )

    def record_supervision(
        self,
        *,
        actor: Actor,
        at: datetime,
        kind: str,
        visited_on: date | str,
        findings: str,
        documents: list[dict[str, Any]] | None = None,
    ) -> None:
        """The bureau records a supervision visit (督导检查, §3.4.3) or an ad-hoc evaluation (测评, §6.3), from the
        approval to start through the title's term, review and rectification."""
        today = self._guard(at, actor, "bureau")
        if self.status in NOT_YET_ACCEPTED or self.status in CREATION_CLOSED:
            raise IllegalTransitionError(
                f"Cannot record a supervision visit or evaluation (督导检查/测评, §3.4.3, §6.3): the zone is "
                f"{STATUS_WORDS[self.status]}; this is possible from the approval to start (批复同意启动) through "
                "the title's term, its review (复核) and rectification (整改)."
            )
        kind = intake.choice(kind, "kind", SUPERVISION_KINDS)
        visited = intake.day(visited_on, "visited_on")
        starts_on = self.creation_period.starts_on
        if visited > today or (starts_on is not None and visited < starts_on):
            since = f" nor before the approval to start on {starts_on.isoformat()}" if starts_on else ""
            raise InvalidValueError(
                f"visited_on {visited.isoformat()} is not a day a visit can have taken place: not after today "
                f"({today.isoformat()}){since}.",
                [{"loc": ["visited_on"], "msg": "a past day since the approval to start"}],
            )
        self._record(
            self.SupervisionRecorded,
            actor=actor,
            at=at,
            reason="",
            number=len(self.supervisions) + 1,
            kind=kind,
            visited_on=visited.isoformat(),
            findings=intake.text(findings, "findings"),
            documents=intake.document_refs(documents, "documents", kinds=False),
            recorded_at=at.astimezone(UTC).isoformat(),
        )

    # --- the creation period's end --------------------------------------------------------------

    def decide_creation_period(
        self,
        *,
        actor: Actor,
        at: datetime,
        outcome: str,
        reasons: str,
        ends_on: date | str | None = None,
        documents: list[dict[str, Any]] | None = None,
    ) -> None:
        """Once the creation period has ended with no grant, the bureau extends it (a new last day) or cancels the
        creation qualification (取消创建资格) — the zone is then revoked."""
        today = self._guard(at, actor, "bureau")
        self._in_creation("decide on the creation period's end")
        period = self.creation_period
        if period.ends_on is None:
            raise IllegalTransitionError(
                "This zone was accepted before the approval to start recorded a creation period (创建期); it has no "
                "period to extend or end."
            )
        if today <= period.ends_on:
            raise TooEarlyError(
                f"The creation period (创建期) runs until {period.ends_on.isoformat()}; it can be extended or the "
                "creation qualification cancelled once it has ended."
            )
        outcome = intake.choice(outcome, "outcome", CREATION_PERIOD_OUTCOMES)
        reasons = intake.text(reasons, "reasons")
        refs = intake.document_refs(documents, "documents", kinds=False)
        if outcome == "cancelled":
            if ends_on is not None:
                raise InvalidValueError(
                    "A cancellation sets no new end.", [{"loc": ["ends_on"], "msg": "only with outcome extended"}]
                )
            self._record(
                self.Revoked,
                actor=actor,
                at=at,
                reason=reasons,
                cause="creation_period_ended",
                details=intake.PROCESS_REVOCATIONS["creation_period_ended"],
                revoked_on=today.isoformat(),
                scope="creation_qualification",
                documents=refs,
                creation_period_ended_on=period.ends_on.isoformat(),
            )
            return
        if ends_on is None:
            raise InvalidValueError(
                "An extension needs the period's new last day (ends_on).",
                [{"loc": ["ends_on"], "msg": "required with outcome extended"}],
            )
        new_end = intake.day(ends_on, "ends_on")
        if new_end <= period.ends_on or new_end < today:
            raise InvalidValueError(
                f"The new last day {new_end.isoformat()} must be later than the period's last day "
                f"({period.ends_on.isoformat()}) and not before today ({today.isoformat()}).",
                [{"loc": ["ends_on"], "msg": "a later day"}],
            )
        self._record(
            self.CreationPeriodExtended,
            actor=actor,
            at=at,
            reason=reasons,
            ends_on=new_end.isoformat(),
            previous_ends_on=period.ends_on.isoformat(),
            extended_on=today.isoformat(),
            documents=refs,
        )

    # --- the assessment application (评估申请, §3.2.1) ------------------------------------------

    def request_assessment(
        self,
        *,
        actor: Actor,
        at: datetime,
        summary: str,
        statistics: dict[str, Any],
        documents: list[dict[str, Any]],
        system: IndicatorSystem,
    ) -> None:
        """The applicant, having reached its targets, files its assessment application (评估申请, §3.2.1) within
        the creation period: documents and current statistics (threshold checks attached)."""
        today = self._guard(at, actor, "applicant")
        self._require_status("accepted", doing="file an assessment application (评估申请, §3.2.1)")
        ends_on = self.creation_period.ends_on
        if ends_on is not None and today > ends_on:
            raise DeadlinePassedError(
                f"The creation period (创建期) ended on {ends_on.isoformat()}; an assessment application is filed "
                "within it. The bureau may extend the period."
            )
        stats = intake.statistics(statistics, "statistics", revenue_required=True)
        refs = intake.document_refs(documents, "documents", kinds=False)
        if not refs:
            raise InvalidValueError(
                "An assessment application needs its documents: at least one.",
                [{"loc": ["documents"], "msg": "at least one document"}],
            )
        self._record(
            self.AssessmentRequested,
            actor=actor,
            at=at,
            reason="",
            number=len(self.assessment_requests) + 1,
            summary=intake.text(summary, "summary"),
            statistics=stats,
            documents=refs,
            checks=system.threshold_checks(stats),
            indicator_system=system.version,
            filed_at=at.astimezone(UTC).isoformat(),
        )

    def decide_assessment_request(self, *, actor: Actor, at: datetime, outcome: str, reasons: str = "") -> None:
        """The bureau accepts (受理) the assessment application — the panel may then be appointed — or refuses it
        with reasons (the zone is back in creation and may file again while the period runs)."""
        self._guard(at, actor, "bureau")
        self._require_status("assessment_requested", doing="decide an assessment application")
        outcome = intake.choice(outcome, "outcome", REQUEST_OUTCOMES)
        reasons = intake.text(reasons, "reasons", required=outcome == "refused")
        request = self.assessment_request
        assert request is not None
        event = self.AssessmentRequestAccepted if outcome == "accepted" else self.AssessmentRequestRefused
        self._record(
            event,
            actor=actor,
            at=at,
            reason=reasons,
            number=request.number,
            outcome=outcome,
            decided_at=at.astimezone(UTC).isoformat(),
        )
