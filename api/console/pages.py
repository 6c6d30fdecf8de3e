"""The console's pages across zones: the zone list, the deadlines, the inspection report (dynamic management:
``api.console.dynamic``)."""

from __future__ import annotations

from datetime import date
from datetime import datetime
from datetime import time
from datetime import timedelta
from typing import Annotated
from typing import Any
from uuid import UUID

from fastapi import APIRouter
from fastapi import Query
from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.responses import Response

from api.console import words
from api.console.session import render
from api.console.session import sees_all
from api.console.session import viewer
from api.deps import Principal
from api.deps import ServicesDep
from api.deps import instant_param
from api.deps import read
from api.deps import require_roles
from api.errors import ApiProblem
from api.routers import zone_queries
from audit.inspection import DEADLINE_EVENTS
from audit.inspection import inspect
from domain.values import SHANGHAI
from projections.deadlines import list_deadlines
from projections.zones import get_zone
from projections.zones import list_zones

router = APIRouter(prefix="/console", include_in_schema=False)
MAX_ZONES = 1000
MAX_DEADLINES = 5000
LATE = timedelta(hours=24)  # a deadline recorded later than this is late: GET /audit/inspection's default tolerance


def zone_documents(c: Any, principal: Principal, status: str | None = None, org: str | None = None) -> list[Any]:
    """The zones the reader may see (an applicant: its own organisation's), each with its document."""
    if not sees_all(principal):
        org = principal.org
    with read(c, "zones") as tx:
        rows = list_zones(tx, status=status or None, org=org or None, limit=MAX_ZONES, offset=0)
        return [(r, get_zone(tx, r["zone_id"]) or {}) for r in rows]


def zone_line(row: dict[str, Any], document: dict[str, Any], now: datetime) -> dict[str, Any]:
    """One line of the zone list: status, call, stage dates, next open deadline, overdue ones."""
    deadlines = sorted(document.get("deadlines") or [], key=lambda d: d["due_at"])
    pending = [d for d in deadlines if not d["recorded"]]
    overdue = [d for d in pending if datetime.fromisoformat(d["due_at"]) <= now]
    notice, term = document.get("notice") or {}, document.get("term") or {}
    return {
        **row,
        "status_words": words.STATUS.get(row["status"], row["status"]),
        "notice": notice,
        "granted_on": term.get("granted_on"),
        "valid_until": document.get("valid_until"),
        "next_deadline": next((d for d in pending if d not in overdue), None),
        "overdue": overdue,
    }


@router.get("/zones", response_class=HTMLResponse)
def zones(
    request: Request,
    c: ServicesDep,
    status: Annotated[str | None, Query(max_length=40)] = None,
    call: Annotated[str | None, Query(max_length=200)] = None,
    org: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """Every zone the reader may see, with status, call, stage dates, next deadline and overdue flags; filtered by
    status, call and organisation."""
    principal = viewer(request)
    status = status if status in words.STATUS else None
    found = zone_documents(c, principal, status=status, org=org)
    calls = sorted({r["batch"] for r, _ in found if r["batch"]})
    now = c.clock.now()
    lines = [zone_line(r, d, now) for r, d in found if not call or r["batch"] == call]
    context = {
        "zones": lines,
        "calls": calls,
        "statuses": words.STATUS,
        "deadline_words": words.DEADLINES,
        "chosen": {"status": status or "", "call": call or "", "org": org or ""},
        "org_fixed": not sees_all(principal),
    }
    return render(request, "zones.html", context)


@router.get("/deadlines", response_class=HTMLResponse)
def deadlines(request: Request, c: ServicesDep) -> Response:
    """Open deadlines across the zones the reader may see, soonest first, overdue flagged (``GET /deadlines``'s
    query); and the deadlines recorded late, each with its lag as its event recorded it."""
    principal = viewer(request)
    org = None if sees_all(principal) else principal.org
    now = c.clock.now()
    with read(c, "deadlines") as tx:
        rows = list_deadlines(tx, before=None, kind=None, org=org, limit=MAX_DEADLINES, offset=0)
    pending = [
        {**r, "overdue": datetime.fromisoformat(r["due_at"]) <= now, "words": words.DEADLINES.get(r["kind"], r["kind"])}
        for r in rows
        if not r["recorded"]
    ]
    late: list[dict[str, Any]] = []
    names = {r["zone_id"]: r["zone_name"] for r in rows}
    for zone_id in sorted({r["zone_id"] for r in rows if r["recorded"]}):
        for e in zone_queries.history(UUID(zone_id), c, principal):
            data = e.get("data") or {}
            if e["type"] in DEADLINE_EVENTS and int(data.get("lag_seconds") or 0) > LATE.total_seconds():
                kind = str(data.get("kind") or "")
                late.append(
                    {
                        "zone_id": zone_id,
                        "zone_name": names.get(zone_id, zone_id),
                        "seq": e["seq"],
                        "kind": kind,
                        "key": data.get("key"),
                        "words": words.DEADLINES.get(kind, words.EVENTS.get(e["type"], e["type"])),
                        "due_at": data.get("due_at"),
                        "recorded_at": data.get("recorded_at") or e["at"],
                        "lag_seconds": data.get("lag_seconds"),
                    }
                )
    late.sort(key=lambda d: (str(d["due_at"]), d["zone_id"], d["seq"]))
    context = {
        "pending": pending,
        "overdue_count": sum(d["overdue"] for d in pending),
        "late": late,
        "late_hours": int(LATE.total_seconds() // 3600),
        "now": now,
    }
    return render(request, "deadlines.html", context)


def period_bound(value: str | None, name: str, *, end: bool) -> datetime | None:
    """A period's bound from the form: a date (its start, or for ``to`` its end, in Asia/Shanghai) or an ISO
    instant with an offset; empty → none; anything else → 422."""
    text = (value or "").strip()
    if not text:
        return None
    try:
        if len(text) == 10:
            return instant_param(
                datetime.combine(date.fromisoformat(text), time.max if end else time.min, SHANGHAI), name
            )
        return instant_param(datetime.fromisoformat(text), name)
    except ValueError:
        raise ApiProblem(
            422, "validation_failed", f"{name}: 日期格式应为 YYYY-MM-DD · expected a date, YYYY-MM-DD."
        ) from None


@router.get("/inspection", response_class=HTMLResponse)
def inspection(
    request: Request,
    c: ServicesDep,
    start: Annotated[str | None, Query(alias="from", max_length=40)] = None,
    to: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    """The inspector's report for the chosen period (bureau, inspector), as ``GET /audit/inspection`` gives it:
    each finding with its rule, detail and a link to the event; the counts checked; "no findings" when clean."""
    principal = viewer(request)
    require_roles(principal, "bureau", "inspector")
    begin = period_bound(start, "from", end=False)
    end = period_bound(to, "to", end=True) or c.clock.now()
    report = inspect(c.app, start=begin, end=end, lag_tolerance=LATE).as_dict()
    with read(c, "zones") as tx:
        names = {r["zone_id"]: r["name"] for r in list_zones(tx, status=None, org=None, limit=10**6, offset=0)}
    findings = [
        {**f, "rule_words": words.RULES.get(f["rule"], f["rule"]), "zone_name": names.get(f["zone_id"])}
        for f in report["findings"]
    ]
    context = {
        "report": report,
        "findings": findings,
        "checked": [(words.CHECKED.get(k, k), v) for k, v in report["checked"].items()],
        "chosen": {"from": (start or "").strip(), "to": (to or "").strip()},
        "period_from": begin,
        "period_to": end,
        "event_words": words.EVENTS,
    }
    return render(request, "inspection.html", context)
