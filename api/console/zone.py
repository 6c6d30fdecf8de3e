"""The console's zone page: the timeline of every event, the state as of a past date, the deadlines, the notices
with their objections, the assessment (charts with their tables) and a badge that verifies the latest event in
the browser. Everything is read through the API's own queries and redaction (``api.routers.zone_queries``)."""

from __future__ import annotations

import json
import re
from datetime import date
from datetime import datetime
from datetime import time
from typing import Annotated
from typing import Any
from uuid import UUID

from fastapi import APIRouter
from fastapi import Path
from fastapi import Query
from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.responses import JSONResponse
from fastapi.responses import Response

from api.console import words
from api.console.fmt import Bar
from api.console.fmt import bar_chart
from api.console.session import CONSOLE_HEADERS
from api.console.session import render
from api.console.session import sees_all
from api.console.session import viewer
from api.deps import Principal
from api.deps import Services
from api.deps import ServicesDep
from api.deps import instant_param
from api.deps import read
from api.deps import require_roles
from api.errors import ApiProblem
from api.routers import zone_queries
from api.routers.documents import document_download
from application.objectors import revealed
from application.representation import SEES_OBJECTORS
from application.representation import flag_overdue
from application.representation import objection_page
from application.representation import redact
from application.representation import zone_document
from audit.public import export_record
from domain.errors import ZoneNotFoundError
from domain.values import SHANGHAI
from domain.zone import Zone
from projections.assessments import rounds_of
from projections.history import rank_of

router = APIRouter(prefix="/console", include_in_schema=False)


def documents_in(value: Any) -> list[dict[str, str]]:
    """Every document an event's data references (``{"sha256": …, "name": …}`` anywhere in it)."""
    found: list[dict[str, str]] = []
    if isinstance(value, dict):
        if isinstance(value.get("sha256"), str):
            found.append({"sha256": value["sha256"], "name": str(value.get("name") or value["sha256"][:12])})
        for v in value.values():
            if isinstance(v, dict | list):
                found += documents_in(v)
    elif isinstance(value, list):
        for v in value:
            found += documents_in(v)
    return found


def end_of(day: date) -> datetime:
    """The last instant of ``day`` in Asia/Shanghai: the state "as of" that date."""
    return datetime.combine(day, time.max, SHANGHAI)


def day_param(value: str | None) -> date | None:
    """The day of ``as_of`` from a form: empty → now; YYYY-MM-DD (the date input's form); anything else → 422."""
    text = (value or "").strip()
    if not text:
        return None
    refused = ApiProblem(422, "validation_failed", "as_of: 日期格式应为 YYYY-MM-DD · expected a day, YYYY-MM-DD.")
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):  # Python also reads 20250110 and 2025-W02-5 as days
        raise refused
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise refused from None


def is_today(day: date | None, now: datetime) -> bool:
    """Whether ``day`` is today in Asia/Shanghai: "as of" it is the current state."""
    return day is not None and day == now.astimezone(SHANGHAI).date()


def as_it_stood(day: date, now: datetime) -> datetime:
    """The instant a page "as of" ``day`` shows: the end of that day (Asia/Shanghai), or now for today; a day still to
    come is refused (422) — there is no past state of it to show."""
    if day > now.astimezone(SHANGHAI).date():
        raise ApiProblem(422, "validation_failed", f"as_of: {day} 尚未到来 · {day} has not come yet.")
    return min(instant_param(end_of(day), "as_of"), now)


def assessment_panel(c: Services, zone_id: UUID, past: Zone | None = None) -> dict[str, Any] | None:
    """The latest panel round as the charts show it: per indicator the panel score, its weight and each counted
    expert's score; the group subtotals against their declared weights; conflicts and recusals. With ``past`` (the
    zone rebuilt as of an instant) the round as it stood then — the same rounds the view holds
    (``projections.assessments.rounds_of``), folded only from the events up to that instant."""
    if past is None:
        found = zone_queries.assessment(zone_id, c)
        latest, system_id = found["latest"], found["indicator_system"]
    else:
        rounds = rounds_of(past)
        latest, system_id = (rounds[-1] if rounds else None), past.indicator_system
    if not latest:
        return None
    system = c.app.systems.get(system_id)
    result = latest.get("result") or {}
    panel = result.get("scores") or {}
    sheets = latest.get("sheets") or {}
    counted = result.get("counted") or sorted(sheets)
    names = {e["sub"]: e.get("name") or e["sub"] for e in latest.get("experts") or []}
    numbers = sorted({int(n) for n in panel} | {int(n) for s in sheets.values() for n in s.get("scores") or {}})
    rows: list[dict[str, Any]] = []
    for n in numbers:
        indicator = system.indicators.get(n) if system else None
        experts = [
            (names.get(e, e), sheets[e]["scores"][str(n)])
            for e in counted
            if str(n) in sheets.get(e, {}).get("scores", {})
        ]
        rows.append(
            {
                "number": n,
                "name": indicator.name if indicator else str(n),
                "name_en": indicator.name_en if indicator else "",
                "weight": indicator.weight if indicator else None,
                "panel": panel.get(str(n)),
                "experts": experts,
            }
        )
    bars = [Bar(f"{r['number']}. {r['name']}", r["panel"], r["weight"], r["experts"]) for r in rows]
    groups = result.get("groups") or []
    return {
        "round": latest["round"],
        "state": latest.get("state"),
        "rows": rows,
        "experts": [(e, names.get(e, e)) for e in counted],
        "chart": bar_chart(
            "indicator-chart",
            "各指标专家组评分与权重 Panel score per indicator against its weight, with each expert's score",
            bars,
            value_name="专家组评分 panel score",
            reference_name="权重 weight",
        ),
        "groups": groups,
        "groups_chart": bar_chart(
            "group-chart",
            "分组小计与声明权重 Group subtotals against their declared weights",
            [Bar(g["name"], g.get("score"), g.get("declared")) for g in groups],
            value_name="小计 subtotal",
            reference_name="声明权重 declared weight",
        )
        if groups
        else None,
        "result": result,
        "conflicts": latest.get("conflicts") or {},
        "recused": result.get("recused") or latest.get("recused") or [],
        "names": names,
        "maximum": system.maximum if system else None,
        "discrepancies": list(system.discrepancies) if system else [],
    }


def objections_shown(c: Services, document: dict[str, Any], principal: Principal) -> list[dict[str, Any]]:
    """The zone's objections as the reader may see them (identities for the bureau and inspectors only)."""
    items = objection_page(document, principal.role, limit=10_000, offset=0)["items"]
    return revealed(c.app, items) if principal.role in SEES_OBJECTORS else items


@router.get("/zones/{zone_id}", response_class=HTMLResponse)
def zone(
    request: Request,
    zone_id: UUID,
    c: ServicesDep,
    as_of: Annotated[str | None, Query(max_length=20, description="the zone as it stood at the end of a day")] = None,
) -> Response:
    """One zone: timeline, state (now or as of a date), deadlines, notices and objections, assessment, verify."""
    principal = viewer(request)
    day = day_param(as_of)
    now = c.clock.now()
    current = zone_queries._document_or_404(c, zone_id, principal)  # 404, or 403 for another applicant's zone
    history = zone_queries.history(zone_id, c, principal)  # redacted for whoever may not see objectors
    instant, past = None, None
    if day is not None:
        require_roles(principal, "bureau", "leading_group", "inspector")  # as GET /zones/{id}?as_of=
        instant = as_it_stood(day, now)
        try:
            past = c.app.as_of(zone_id, instant)
            document = zone_document(past, c.app.policy)
        except ZoneNotFoundError:
            raise ApiProblem(404, "not_found", f"该集聚区在 {day} 尚不存在 The zone did not exist on {day}.") from None
        history = [e for e in history if datetime.fromisoformat(e["at"]) <= instant]
    else:
        document = current
    shown = flag_overdue(redact(document, principal.role), instant or now)
    objections = objections_shown(c, document, principal)
    notices = [e for e in history if e["type"] == "Publicized"]
    for e in history:
        e["documents"] = documents_in(e["data"])
        e["data_text"] = json.dumps(e["data"], ensure_ascii=False, indent=1, sort_keys=True)
        e["words"] = words.EVENTS.get(e["type"], e["type"])
    latest = c.app.side_tables.latest_checkpoint()
    context = {
        "zone": shown,
        "status_words": words.STATUS.get(shown["status"], shown["status"]),
        "as_of": day,
        "as_of_today": is_today(day, now),
        "history": history,
        "notices": notices,
        "objections": objections,
        "objection_words": words.OBJECTIONS,
        "consequence_words": words.CONSEQUENCES,
        "deadline_words": words.DEADLINES,
        "assessment": assessment_panel(c, zone_id, past) if sees_all(principal) else None,
        "can_time_travel": sees_all(principal),
        "sees_objectors": principal.role in SEES_OBJECTORS,
        "last": history[-1] if history and day is None else None,
        "key_id": c.checkpoints.key.key_id if c.checkpoints is not None else None,
        "latest_checkpoint": latest,
    }
    return render(request, "zone.html", context)


@router.get("/documents/{sha256}", response_class=Response)
def document(request: Request, c: ServicesDep, sha256: Annotated[str, Path(pattern=r"^[0-9a-f]{64}$")]) -> Response:
    """A document the timeline links, for the signed-in reader: the API's ``GET /documents/{sha256}`` on the
    console's cookie — the same rules (``document_download``), the same download (attachment, nosniff)."""
    response = document_download(request, c, viewer(request), sha256)
    response.headers.update({"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"})
    return response


WITHHELD_TOPICS = (
    "domain.zone:Zone.ObjectionRaised",
)  # what the history redacts for readers who may not see objectors


@router.get("/zones/{zone_id}/records/{seq}")
def record(request: Request, zone_id: UUID, seq: Annotated[int, Path(ge=1, le=10**9)], c: ServicesDep) -> JSONResponse:
    """One event of the zone exactly as stored, in the export's format (``docs/record-format.md``), for the verify
    badge to recompute its hash in the browser; readers of the zone's history. An objection's record holds who
    objected (the objector's reference and commitment, and who raised it): withheld, 403 ``objector_withheld``,
    from everyone but the bureau and inspectors, as the history withholds it."""
    principal = viewer(request)
    zone_queries._document_or_404(c, zone_id, principal)  # 404, or 403 for another applicant's zone
    with read(c, "history") as tx:
        found = rank_of(tx, str(zone_id), seq)
    page = c.app.recorder.select_notifications(start=found[1], limit=1) if found else []
    if not page or page[0].originator_id != zone_id or page[0].originator_version != seq:
        raise ApiProblem(404, "not_found", f"该集聚区没有事件 #{seq} The zone has no event {seq}.")
    if page[0].topic in WITHHELD_TOPICS and principal.role not in SEES_OBJECTORS:
        raise ApiProblem(
            403,
            "objector_withheld",
            "异议记录含异议人信息，仅市工信局与督查人员可见 An objection's record holds the objector's identity: "
            "the bureau and inspectors only.",
        )
    return JSONResponse(export_record(c.app, page[0]), headers=CONSOLE_HEADERS)
