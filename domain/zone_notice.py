"""The public notice's acts (公示, §3.3): the notice, objections, and the grant."""

from __future__ import annotations

from datetime import UTC
from datetime import date
from datetime import datetime
from typing import Any

from domain import deadlines
from domain import intake
from domain.errors import DeadlinePassedError
from domain.errors import IllegalTransitionError
from domain.errors import InvalidValueError
from domain.errors import TooEarlyError
from domain.errors import ZoneNotFoundError
from domain.integrity import sha256_text
from domain.policy import Policy
from domain.state_case import STATUS_WORDS
from domain.values import Actor
from domain.values import day_after
from domain.zone_record import ZoneRecord


class NoticeActs(ZoneRecord):
    """The public notice's acts (公示, §3.3): the notice, objections, and the grant."""

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
