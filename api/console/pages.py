"""The console's pages across zones: the zone list, the deadlines, the inspection report, dynamic management."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from typing import Any

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
from api.deps import read
from projections.zones import get_zone
from projections.zones import list_zones

router = APIRouter(prefix="/console", include_in_schema=False)
MAX_ZONES = 1000


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
