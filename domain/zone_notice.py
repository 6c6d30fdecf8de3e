"""The public notice's acts (公示, §3.3): the notice, objections raised or registered, and their resolution."""

from __future__ import annotations

from datetime import UTC
from datetime import date
from datetime import datetime
from typing import Any

from domain import intake
from domain.errors import DeadlinePassedError
from domain.errors import IllegalTransitionError
from domain.errors import InvalidValueError
from domain.errors import TooEarlyError
from domain.errors import ZoneNotFoundError
from domain.integrity import sha256_text
from domain.objectors import Objector
from domain.state_case import STATUS_WORDS
from domain.values import Actor
from domain.values import local_date
from domain.zone_record import ZoneRecord


class NoticeActs(ZoneRecord):
    """The public notice's acts (公示, §3.3): the notice, objections raised or registered, and their resolution."""

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
        objector: Objector,
        text: str,
        evidence: list[dict[str, Any]] | None = None,
    ) -> None:
        """Anyone raises an objection (异议) while the public notice runs; the record holds the objector's reference
        and a salted commitment to their name and contact, not the name and contact (PIPL: kept apart, erasable)."""
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
        self._record_objection(actor, at, objection_id, objector, text, evidence)

    def register_objection(
        self,
        *,
        actor: Actor,
        at: datetime,
        objection_id: str,
        objector: Objector,
        text: str,
        channel: str | None,
        received_at: datetime | None,
        evidence: list[dict[str, Any]] | None = None,
    ) -> None:
        """The bureau registers an objection it received by letter, phone, visit or email during the notice (公示,
        §3.3) — also after the notice's last day, for one received within it, as long as nothing was recommended."""
        self._guard(at, actor, "bureau")
        channel = intake.channel(channel)
        if not isinstance(received_at, datetime):
            raise InvalidValueError(
                "received_at must be given: when the bureau received the objection.",
                [{"loc": ["received_at"], "msg": "an instant with offset"}],
            )
        intake.instant(received_at)
        if self.status != "in_notice" or self.notice is None:
            raise IllegalTransitionError(
                "An objection is registered only while its notice (公示) stands and nothing has been recommended "
                f"(提请, §3.3); the zone is {STATUS_WORDS[self.status]}."
            )
        if received_at > at:
            raise InvalidValueError(
                "received_at is later than now: an objection is registered once it has been received.",
                [{"loc": ["received_at"], "msg": "not in the future"}],
            )
        starts, ends = self.notice.starts_on, self.notice.ends_on
        received_on = local_date(received_at)
        if received_on < starts:
            raise TooEarlyError(
                f"The objection was received on {received_on.isoformat()}, before the public notice (公示) started on "
                f"{starts.isoformat()}; only objections received during the notice are registered (§3.3)."
            )
        if received_on > ends:
            raise DeadlinePassedError(
                f"The objection was received on {received_on.isoformat()}, after the public notice (公示) ended on "
                f"{ends.isoformat()} (to the end of that day, Asia/Shanghai); it cannot be registered (§3.3)."
            )
        self._record_objection(
            actor,
            at,
            objection_id,
            objector,
            text,
            evidence,
            channel=channel,
            received_at=received_at.astimezone(UTC).isoformat(),
        )

    def _record_objection(
        self,
        actor: Actor,
        at: datetime,
        objection_id: str,
        objector: Objector,
        text: str,
        evidence: list[dict[str, Any]] | None,
        **registered: Any,
    ) -> None:
        """Records an objection on the current notice (``registered``: how the bureau received it), once."""
        assert self.notice is not None
        if objection_id in self.objections:
            raise IllegalTransitionError("This objection is already recorded.")
        self._record(
            self.ObjectionRaised,
            actor=actor,
            at=at,
            reason="",
            objection_id=objection_id,
            notice=self.notice.number,
            objector_ref=objector.ref,
            objector_commitment=objector.commitment,
            text=intake.text(text, "text"),
            evidence=intake.document_refs(evidence, "evidence", kinds=False),
            raised_at=at.astimezone(UTC).isoformat(),
            **registered,
        )

    def resolve_objection(
        self, *, actor: Actor, at: datetime, objection_id: str, outcome: str, consequence: str | None, reasons: str
    ) -> None:
        """The bureau resolves an objection: dismissed, or upheld (→ reassessment or rejection)."""
        self._guard(at, actor, "bureau")
        objection = self.objections.get(objection_id)
        if objection is None:
            raise ZoneNotFoundError(f"This zone has no objection {objection_id}.")
        if objection.status == "superseded":
            raise IllegalTransitionError(
                f"This objection was closed as superseded when objection {objection.superseded_by} to the same "
                "notice was upheld; it needs no resolution of its own."
            )
        if objection.status != "open":
            raise IllegalTransitionError(f"This objection was already resolved ({objection.status}).")
        self._require_status("in_notice", doing="resolve an objection")
        intake.resolution(outcome, consequence)
        upheld: dict[str, Any] = {}
        if outcome == "upheld":  # the zone goes back; the notice's other open objections close with it, named
            others = [
                o.objection_id
                for o in self.objections.values()
                if o.notice == objection.notice and o.status == "open" and o.objection_id != objection_id
            ]
            upheld = {
                "returns_to": "assessment_accepted" if consequence == "reassess" else "rejected",
                "superseded": others,
            }
        self._record(
            self.ObjectionResolved,
            actor=actor,
            at=at,
            reason=intake.text(reasons, "reasons"),
            objection_id=objection_id,
            outcome=outcome,
            consequence=consequence,
            resolved_at=at.astimezone(UTC).isoformat(),
            **upheld,
        )
