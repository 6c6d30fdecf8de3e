"""The grant's acts (授予, §2.1, §3.3, §6.4): the bureau's recommendation (提请), the leading group's
announcement (公告) or its refusal — for the first grant and for the renewal after a passed review (继续授予)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC
from datetime import date
from datetime import datetime
from typing import Any

from domain import deadlines
from domain import intake
from domain.errors import IllegalTransitionError
from domain.errors import InvalidValueError
from domain.errors import ObjectionOpenError
from domain.errors import TooEarlyError
from domain.policy import Policy
from domain.state_case import STATUS_WORDS
from domain.state_term import Recommendation
from domain.values import Actor
from domain.values import day_after
from domain.values import local_date
from domain.zone_record import ZoneRecord


class GrantActs(ZoneRecord):
    """The grant's acts: recommendation (提请), grant by announcement (公告授予) or its refusal, also for renewal."""

    def recommend(self, *, actor: Actor, at: datetime, document: dict[str, Any], reasons: str) -> None:
        """The bureau recommends the grant to the leading group once the notice has ended with no objection open
        or upheld (经公示无异议的，由市工业和信息化局提请, §3.3) — or the renewal after a passed review (§6.4)."""
        today = self._guard(at, actor, "bureau")
        refused = self.recommendation is not None and self.recommendation.outcome == "refused"
        if self.status == "review_passed":
            kind, notice, considered = "renewal", None, []
        elif self.status == "in_notice" or (self.status == "assessed" and refused and self.notice is not None):
            assert self.notice is not None
            kind, notice = "grant", self.notice.number
            considered = self._notice_cleared(today, doing="recommend the grant (提请, §3.3)")
        else:
            raise IllegalTransitionError(
                f"Cannot recommend the grant (提请, §3.3): the zone is {STATUS_WORDS[self.status]}. The bureau "
                "recommends the grant once the public notice (公示) has ended with no objection open or upheld "
                "(经公示无异议), and the renewal once the review (复核) has passed (继续授予, §6.4)."
            )
        term = self.current_term.number if kind == "renewal" and self.current_term else None
        self._record(
            self.Recommended,
            actor=actor,
            at=at,
            reason=intake.text(reasons, "reasons"),
            kind=kind,
            document=intake.document_ref(document, "document"),
            notice=notice,
            term=term,
            considered=considered,
            recommended_at=at.astimezone(UTC).isoformat(),
        )

    def _notice_cleared(self, today: date, *, doing: str) -> list[str]:
        """Refuses unless the notice has ended with every objection resolved and none upheld; the dismissed
        objections to it, which the recommendation considered."""
        assert self.notice is not None
        ends = self.notice.ends_on
        if today <= ends:
            raise TooEarlyError(
                f"Cannot {doing}: the public notice (公示) runs until {ends.isoformat()}; the bureau can recommend "
                f"from {day_after(ends).isoformat()} (经公示无异议, §3.3)."
            )
        open_ = [o.objection_id for o in self.objections.values() if o.status == "open"]
        if open_:
            raise ObjectionOpenError(
                f"Cannot {doing}: an objection (异议) is still open — {', '.join(open_)}; the bureau resolves every "
                "objection first (经公示无异议, §3.3)."
            )
        current = [o for o in self.objections.values() if o.notice == self.notice.number]
        if any(o.status == "upheld" for o in current):  # an upheld objection moves the zone on; a second defence
            raise IllegalTransitionError(f"Cannot {doing}: an objection to the notice was upheld.")
        return [o.objection_id for o in current if o.status == "dismissed"]

    def grant(
        self,
        *,
        actor: Actor,
        at: datetime,
        announcement_no: str,
        policy: Policy,
        announced_on: date | None = None,
        document: dict[str, Any] | None = None,
        term_years: int | None = None,
        term_reasons: str | None = None,
        reason: str = "",
    ) -> None:
        """The leading group grants the title by announcement (发布公告授予, §3.3) on the bureau's recommendation
        (§2.1): a first term from the announcement, or a renewal continuing from the old term's end (§6.4)."""
        today = self._guard(at, actor, "leading_group")
        recommendation = self._recommended(doing="grant the title by announcement (公告授予, §3.3)")
        years, why = intake.term_years(term_years, term_reasons, policy.term_years)
        announced = today if announced_on is None else announced_on
        recommended_on = local_date(datetime.fromisoformat(recommendation.recommended_at))
        if announced > today or announced < recommended_on:
            raise InvalidValueError(
                f"announced_on must lie between the recommendation ({recommended_on.isoformat()}) and today "
                f"({today.isoformat()}).",
                [{"loc": ["announced_on"], "msg": "between the recommendation and today"}],
            )
        renewal = recommendation.kind == "renewal"
        current = self.current_term
        if renewal:  # 继续授予: the new term continues from the old one's end, whatever the decision's date
            assert current is not None
            number, start = current.number + 1, current.expiry
        else:
            number, start = 1, announced
        term = deadlines.new_term(
            number,
            start,
            policy,
            announcement_no=intake.text(announcement_no, "announcement_no", limit=200),
            years=years,
        )
        ref = None if document is None else intake.document_ref(document, "document")
        extra: dict[str, Any] = {"renewal": True} if renewal else {}
        if why:
            extra["term_reasons"] = why
        term = replace(term, announced_on=announced, term_years=years)
        self._record(
            self.Granted,
            actor=actor,
            at=at,
            reason=intake.text(reason, "reason", required=False),
            **term.as_dict(),
            **({"announcement_document": ref} if ref else {}),
            **extra,
            granted_at=at.astimezone(UTC).isoformat(),
        )

    def refuse_grant(self, *, actor: Actor, at: datetime, reasons: str) -> None:
        """The leading group declines the recommended grant, with reasons: the case goes back to the bureau
        (``assessed``, to recommend again or not), or a renewal back to review (``in_review``)."""
        self._guard(at, actor, "leading_group")
        recommendation = self._recommended(doing="decline a grant")
        returns_to = "in_review" if recommendation.kind == "renewal" else "assessed"
        self._record(
            self.GrantRefused,
            actor=actor,
            at=at,
            reason=intake.text(reasons, "reasons"),
            kind=recommendation.kind,
            returns_to=returns_to,
            refused_at=at.astimezone(UTC).isoformat(),
        )

    def _recommended(self, *, doing: str) -> Recommendation:
        recommendation = self.recommendation
        if self.status != "recommended" or recommendation is None:
            then = (
                " The bureau recommends once the public notice (公示) has ended with no objection open."
                if self.status == "in_notice"
                else " The bureau recommends the renewal first (继续授予, §6.4)."
                if self.status == "review_passed"
                else ""
            )
            raise IllegalTransitionError(
                f"Cannot {doing}: the leading group acts on the bureau's recommendation (提请, §2.1, §3.3), and the "
                f"zone is {STATUS_WORDS[self.status]}, with none pending.{then}"
            )
        return recommendation
