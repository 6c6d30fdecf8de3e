"""A call for applications (申报通知, PROCESS.md step 0): published and corrected by the bureau, hash-chained
like a zone. It names the filing window, the creation period, who may apply and which materials, and it
keeps the cases filed in it, so that one organisation holds at most one open case per call."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from datetime import datetime
from typing import TYPE_CHECKING
from typing import Any
from uuid import NAMESPACE_URL
from uuid import UUID
from uuid import uuid5

from domain import intake
from domain.chained import Chained
from domain.chained import Data
from domain.conditions import REQUIRED_MATERIALS
from domain.conditions import Batch
from domain.errors import DuplicateApplicationError
from domain.errors import InvalidValueError
from domain.values import Actor
from domain.values import permit

CALL_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,49}$")
CLOSED_STATUSES = ("rejected", "not_passed", "revoked")  # a case in any other status is still open
EXEMPTIBLE = tuple(kind for kind, _ in REQUIRED_MATERIALS)  # item (4) is named by the call itself
TERMS = (
    "name",
    "opens_on",
    "closes_on",
    "creation_period",
    "members",
    "members_only",
    "exempt_materials",
    "other_materials_required",
    "pass_mark",
)


def call_aggregate_id(call_id: str) -> UUID:
    """The id of a call's aggregate (one per call id)."""
    return uuid5(NAMESPACE_URL, f"zonecase:call:{call_id}")


class Call(Chained):
    """One call for applications (申报批次) as the bureau published it, with its corrections and its cases."""

    class Event(Chained.Event):
        """Every event of a call."""

    class Published(Event, Chained.Created):
        """The bureau (or, for the calls shipped with the software, the system) published the call."""

        def assign(self, c: Call, d: Data) -> None:
            c.call_id = d["id"]
            c.cases = {}
            c.history = ()
            _take_terms(c, self, d, "published")

    class Corrected(Event):
        """The bureau corrected the call (the earlier terms stay in the history)."""

        def assign(self, c: Call, d: Data) -> None:
            _take_terms(c, self, d, "corrected")

    class CaseOpened(Event):
        """An organisation's application opened a case in the call."""

        def assign(self, c: Call, d: Data) -> None:
            c.cases = {**c.cases, d["org"]: (*c.cases.get(d["org"], ()), d["zone_id"])}

    if TYPE_CHECKING:  # set by the events' assign (a class annotation would become a dataclass field)
        call_id: str
        name: str
        opens_on: str | None
        closes_on: str | None
        creation_period: dict[str, int]
        members: list[dict[str, str]]
        members_only: bool
        exempt_materials: list[str]
        other_materials_required: list[str]
        pass_mark: float | None
        history: tuple[dict[str, Any], ...]
        cases: dict[str, tuple[str, ...]]

    # --- recording ----------------------------------------------------------------------------

    @classmethod
    def publish(cls, *, actor: Actor, at: datetime, call_id: Any, reason: str = "", **terms: Any) -> Call:
        """The bureau publishes a call (the system only the calls shipped with the software)."""
        permit(actor.role, ("bureau", "system"))
        intake.instant(at)
        data = {"id": _call_id(call_id), **validate(**terms)}
        return cls._start(
            cls.Published, aggregate_id=call_aggregate_id(data["id"]), actor=actor, at=at, reason=reason, **data
        )

    def correct(self, *, actor: Actor, at: datetime, reason: Any, **terms: Any) -> None:
        """The bureau replaces the call's terms; a reason is required, and something must change."""
        permit(actor.role, ("bureau",))
        intake.instant(at)
        if not isinstance(reason, str) or not reason.strip():
            raise InvalidValueError("A correction needs its reason.", [{"loc": ["reason"], "msg": "required"}])
        data = validate(**terms)
        if all(getattr(self, term) == data[term] for term in TERMS):
            raise InvalidValueError(
                f"The correction changes nothing: the call {self.call_id} reads so already.",
                [{"loc": [], "msg": "no term differs from the call as it stands"}],
            )
        self._record(self.Corrected, actor=actor, at=at, reason=reason.strip(), **data)

    def open_case(self, *, actor: Actor, at: datetime, zone_id: UUID, earlier: Mapping[str, str]) -> UUID | None:
        """Records that the actor's organisation opens a case (``zone_id``) in this call, given the status of
        each of its earlier cases here (``earlier``: zone id → status). Refuses while one of them is open; returns
        the latest closed one, which the new case follows (``previous_case``)."""
        intake.instant(at)
        cases = self.cases.get(actor.org, ())
        still_open = [z for z in cases if earlier.get(z) not in CLOSED_STATUSES]
        if still_open:
            case = still_open[-1]
            raise DuplicateApplicationError(
                f"{actor.org} already has an open case in the call {self.call_id}: zone {case} "
                f"({earlier.get(case, 'status unknown')}). It may apply again once that case is rejected, "
                "not passed or revoked.",
                open_case=case,
            )
        self._record(self.CaseOpened, actor=actor, at=at, org=actor.org, zone_id=str(zone_id))
        return UUID(cases[-1]) if cases else None

    def register_earlier_case(self, *, actor: Actor, at: datetime, org: str, zone_id: UUID) -> None:
        """Records a case filed before calls were on the record (the system, when it imports the call)."""
        permit(actor.role, ("system",))
        self._record(
            self.CaseOpened,
            actor=actor,
            at=at,
            reason="Filed before the call was recorded.",
            org=org,
            zone_id=str(zone_id),
        )

    # --- reading ------------------------------------------------------------------------------

    def cases_of(self, org: str) -> tuple[str, ...]:
        """The zone ids of the cases ``org`` opened in this call, oldest first."""
        return self.cases.get(org, ())

    def batch(self) -> Batch:
        """The call as the zone's rules read it."""
        return Batch(
            id=self.call_id,
            name=self.name,
            start_year=self.creation_period["start_year"],
            end_year=self.creation_period["end_year"],
            members={m["org"]: m["name"] for m in self.members},
            members_only=self.members_only,
            exempt_materials=tuple(self.exempt_materials),
            other_materials_required=tuple(self.other_materials_required),
            opens_on=None if self.opens_on is None else date.fromisoformat(self.opens_on),
            closes_on=None if self.closes_on is None else date.fromisoformat(self.closes_on),
            pass_mark=self.pass_mark,
        )


def _take_terms(c: Call, event: Call.Event, d: Data, kind: str) -> None:
    changed = [] if kind == "published" else [term for term in TERMS if getattr(c, term) != d[term]]
    for term in TERMS:
        setattr(c, term, d[term])
    entry = {
        "seq": event.originator_version,
        "kind": kind,
        "at": event.timestamp.isoformat(),
        "actor": event.actor,
        "reason": event.reason,
        "changed": changed,
    }
    c.history = (*c.history, entry)


def _call_id(value: Any) -> str:
    if not isinstance(value, str) or not CALL_ID.match(value):
        raise InvalidValueError(
            "A call's id is 1 to 50 letters, digits, '.', '_' or '-', beginning with a letter or digit.",
            [{"loc": ["id"], "msg": "letters, digits, '.', '_', '-' (e.g. 2021-first)"}],
        )
    return value


def validate(
    *,
    name: Any,
    creation_period: Any,
    opens_on: Any = None,
    closes_on: Any = None,
    members: Any = (),
    members_only: Any = False,
    exempt_materials: Any = (),
    other_materials_required: Any = (),
    pass_mark: Any = None,
) -> dict[str, Any]:
    """A call's terms as recorded; every fault is listed (``InvalidValueError`` with ``errors``)."""
    errors: list[dict[str, Any]] = []
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        errors.append({"loc": ["name"], "msg": "a name of 1 to 200 characters"})
    window = {"opens_on": _day(opens_on, "opens_on", errors), "closes_on": _day(closes_on, "closes_on", errors)}
    if window["opens_on"] and window["closes_on"] and window["closes_on"] < window["opens_on"]:
        errors.append({"loc": ["closes_on"], "msg": f"before opens_on ({window['opens_on']})"})
    period = _period(creation_period, errors)
    named = _members(members, errors)
    if not isinstance(members_only, bool):
        errors.append({"loc": ["members_only"], "msg": "true or false"})
    elif members_only and not named:
        errors.append({"loc": ["members_only"], "msg": "a call for named members only must name its members"})
    exempt = _names(exempt_materials, "exempt_materials", errors, allowed=EXEMPTIBLE)
    if exempt and not named:
        errors.append({"loc": ["exempt_materials"], "msg": "exemptions are for the named members; name them"})
    others = _names(other_materials_required, "other_materials_required", errors)
    if pass_mark is not None and (
        isinstance(pass_mark, bool) or not isinstance(pass_mark, (int, float)) or not 0 <= pass_mark <= 100
    ):
        errors.append({"loc": ["pass_mark"], "msg": "a percentage from 0 to 100"})
    if errors:
        raise InvalidValueError("The call for applications is not valid.", errors)
    return {
        "name": name.strip(),
        **window,
        "creation_period": period,
        "members": named,
        "members_only": members_only,
        "exempt_materials": exempt,
        "other_materials_required": others,
        "pass_mark": pass_mark,
    }


def _day(value: Any, field: str, errors: list[dict[str, Any]]) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            pass
    if isinstance(value, datetime) or not isinstance(value, date):
        errors.append({"loc": [field], "msg": "a date (YYYY-MM-DD)"})
        return None
    return value.isoformat()


def _period(value: Any, errors: list[dict[str, Any]]) -> dict[str, int]:
    if not isinstance(value, Mapping):
        errors.append({"loc": ["creation_period"], "msg": "an object with start_year and end_year"})
        return {}
    out = {}
    for key in ("start_year", "end_year"):
        year = value.get(key)
        if isinstance(year, bool) or not isinstance(year, int) or not 2000 <= year <= 2100:
            errors.append({"loc": ["creation_period", key], "msg": "a year from 2000 to 2100"})
        else:
            out[key] = year
    if len(out) == 2 and out["end_year"] < out["start_year"]:
        errors.append({"loc": ["creation_period", "end_year"], "msg": f"before start_year ({out['start_year']})"})
    return out


def _members(value: Any, errors: list[dict[str, Any]]) -> list[dict[str, str]]:
    if not isinstance(value, (list, tuple)):
        errors.append({"loc": ["members"], "msg": "a list of {org, name}"})
        return []
    out: list[dict[str, str]] = []
    for i, m in enumerate(value):
        org = m.get("org") if isinstance(m, Mapping) else None
        name = m.get("name") if isinstance(m, Mapping) else None
        if not isinstance(org, str) or not org.strip() or len(org) > 100:
            errors.append({"loc": ["members", i, "org"], "msg": "an organisation id"})
        elif any(o["org"] == org.strip() for o in out):
            errors.append({"loc": ["members", i, "org"], "msg": f"{org.strip()} is named twice"})
        elif not isinstance(name, str) or not name.strip() or len(name) > 200:
            errors.append({"loc": ["members", i, "name"], "msg": "the organisation's name"})
        else:
            out.append({"org": org.strip(), "name": name.strip()})
    return out


def _names(value: Any, field: str, errors: list[dict[str, Any]], allowed: tuple[str, ...] | None = None) -> list[str]:
    if not isinstance(value, (list, tuple)):
        errors.append({"loc": [field], "msg": "a list"})
        return []
    out: list[str] = []
    for i, item in enumerate(value):
        if not isinstance(item, str) or not item.strip() or len(item) > 300:
            errors.append({"loc": [field, i], "msg": "a text of 1 to 300 characters"})
        elif allowed is not None and item not in allowed:
            errors.append({"loc": [field, i], "msg": f"one of {', '.join(allowed)}"})
        elif item.strip() in out:
            errors.append({"loc": [field, i], "msg": f"{item.strip()} is named twice"})
        else:
            out.append(item.strip())
    return out
