"""Calls for applications (申报通知) on the service: published and corrected by the bureau, read from the store,
imported once from the calls file on first start; and the one rule of filing they keep — one open case per
organisation and call — enforced on the call's own record, saved with the zone it opens."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from application.core import Idempotency
from application.core import ZoneCore
from application.core import expect_version
from application.core import retried_once
from domain.call import Call
from domain.call import call_aggregate_id
from domain.chained import topic_of
from domain.conditions import Batch
from domain.errors import AlreadyExistsError
from domain.errors import CallNotFoundError
from domain.errors import InvalidValueError
from domain.values import SYSTEM
from domain.values import Actor
from domain.zone import Zone

PUBLISHED = topic_of(Call.Published)
APPLIED = topic_of(Zone.Applied)


def call_document(call: Call) -> dict[str, Any]:
    """The call as the API shows it (to anyone): its terms, and who published and corrected it, when and why."""
    return {
        "id": call.call_id,
        "name": call.name,
        "opens_on": call.opens_on,
        "closes_on": call.closes_on,
        "creation_period": dict(call.creation_period),
        "members": [dict(m) for m in call.members],
        "members_only": call.members_only,
        "exempt_materials": list(call.exempt_materials),
        "other_materials_required": list(call.other_materials_required),
        "pass_mark": call.pass_mark,
        "version": call.version,
        "published_at": call.history[0]["at"],
        "updated_at": call.history[-1]["at"],
        "history": [dict(entry) for entry in call.history],
    }


def terms_of(batch: Batch) -> dict[str, Any]:
    """A call of the calls file as the terms ``Call.publish`` takes."""
    return {
        "name": batch.name,
        "opens_on": batch.opens_on,
        "closes_on": batch.closes_on,
        "creation_period": {"start_year": batch.start_year, "end_year": batch.end_year},
        "members": [{"org": org, "name": name} for org, name in batch.members.items()],
        "members_only": batch.members_only,
        "exempt_materials": list(batch.exempt_materials),
        "other_materials_required": list(batch.other_materials_required),
        "pass_mark": batch.pass_mark,
    }


class CallBook(ZoneCore):
    """The calls for applications: each its own hash-chained record in the store, beside the zones."""

    # --- queries ------------------------------------------------------------------------------

    def find_call(self, call_id: str) -> Call | None:
        """The call with this id as it stands, or None."""
        return self.find(call_aggregate_id(call_id), Call)

    def call(self, call_id: str) -> Call:
        """The call with this id as it stands (``not_found`` when none was published)."""
        call = self.find_call(call_id)
        if call is None:
            raise CallNotFoundError(f"No call for applications {call_id!r} has been published.")
        return call

    def calls(self) -> list[Call]:
        """Every call, in the order they were published."""
        out = []
        for n in self.notifications_of(PUBLISHED):
            call: Any = self.repository.get(UUID(str(n.originator_id)))
            out.append(call)
        return out

    # --- the bureau's commands ------------------------------------------------------------------

    def publish_call(
        self, actor: Actor, *, call_id: str, idempotency: Idempotency | None = None, reason: str = "", **terms: Any
    ) -> Call:
        """The bureau publishes a call for applications; an id taken is refused (``already_exists``)."""
        taken = AlreadyExistsError(f"A call {call_id!r} was published already; correct it instead.")
        if self.find_call(call_id) is not None:
            raise taken
        call = Call.publish(actor=actor, at=self.clock.now(), call_id=call_id, reason=reason, **terms)
        try:
            self._save_call(call, idempotency)
        except IntegrityError:  # published by someone else at the same moment
            raise taken from None
        return call

    def correct_call(
        self,
        actor: Actor,
        call_id: str,
        reason: str,
        *,
        expected_version: int | None = None,
        idempotency: Idempotency | None = None,
        **terms: Any,
    ) -> Call:
        """The bureau corrects a call's terms, with its reason; a concurrent write is retried once."""

        def attempt() -> Call:
            call = self.call(call_id)
            expect_version("call", call.version, expected_version)
            call.correct(actor=actor, at=self.clock.now(), reason=reason, **terms)
            self._save_call(call, idempotency)  # an application may have opened a case meanwhile
            return call

        return retried_once(attempt, "The call changed at the same moment, twice")

    def import_calls(self) -> list[str]:
        """Publishes, as the system, each call of the calls file the store does not hold yet (on first start),
        with the cases already filed in it; returns the ids published. A second start, or a second process
        at the same moment, publishes nothing."""
        missing = [batch for batch in self.batches.values() if self.find_call(batch.id) is None]
        earlier = self._cases_filed_before_calls() if missing else {}
        published = []
        for batch in missing:
            at = self.clock.now()
            call = Call.publish(
                actor=SYSTEM, at=at, call_id=batch.id, reason="Imported from the calls file.", **terms_of(batch)
            )
            for org, zone_id in earlier.get(batch.id, []):
                call.register_earlier_case(actor=SYSTEM, at=at, org=org, zone_id=zone_id)
            try:
                self.save(call)
            except IntegrityError:  # another process imported it at the same moment
                continue
            published.append(batch.id)
        return published

    # --- filing in a call -----------------------------------------------------------------------

    def _call_for(self, batch_id: Any) -> Call:
        call = self.find_call(batch_id) if isinstance(batch_id, str) else None
        if call is None:
            known = ", ".join(c.call_id for c in self.calls()) or "none"
            raise InvalidValueError(
                f"Unknown batch {batch_id!r}; calls for applications: {known}.",
                [{"loc": ["batch"], "msg": "unknown batch"}],
            )
        return call

    def _batch(self, batch_id: str) -> Batch:
        return self._call_for(batch_id).batch()

    def _statuses(self, call: Call, org: str) -> dict[str, str]:
        """The status of each case ``org`` opened in ``call``."""
        return {zone_id: self.get_zone(UUID(zone_id)).status for zone_id in call.cases_of(org)}

    def _save_call(self, call: Call, idempotency: Idempotency | None) -> None:
        if idempotency is None:
            self.save(call)
        else:
            self.save(call, idempotency=idempotency.record(call_document(call)))

    def _cases_filed_before_calls(self) -> dict[str, list[tuple[str, UUID]]]:
        """Per call id, the (organisation, zone) of every application in the log (a store of before calls)."""
        out: dict[str, list[tuple[str, UUID]]] = {}
        for n in self.notifications_of(APPLIED):
            applied: Any = self.mapper.to_domain_event(n)
            out.setdefault(applied.values["batch"], []).append((applied.values["applicant_org"], applied.originator_id))
        return out
