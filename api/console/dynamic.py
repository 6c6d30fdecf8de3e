"""The console's dynamic management page (动态管理, 优胜劣汰, §6.4): the zones side by side per year — each year's
annual evaluation rating (跟踪评价), and the statistics reported against the creation plan's targets for that year,
a chart per measure with its table. Read from the zones' documents (the view ``GET /zones/{id}`` answers from); a
target reached or not is the domain's own check (``domain.conditions``), as the evaluation records it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Annotated
from typing import Any

from fastapi import APIRouter
from fastapi import Query
from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.responses import Response

from api.console import words
from api.console.fmt import MONEY
from api.console.fmt import SHARES
from api.console.fmt import Bar
from api.console.fmt import bar_chart
from api.console.pages import zone_documents
from api.console.session import render
from api.console.session import sees_all
from api.console.session import viewer
from api.console.zone import as_it_stood
from api.console.zone import day_param
from api.console.zone import is_today
from api.deps import Services
from api.deps import ServicesDep
from api.deps import require_roles
from api.errors import ApiProblem
from application.representation import zone_document
from domain.conditions import MATCHING_RATIO
from domain.conditions import matching_check
from domain.conditions import plan_target_checks
from domain.values import SHANGHAI

router = APIRouter(prefix="/console", include_in_schema=False)
MATCHING = "matching_ratio"  # §4.2: local funds / city funds, against the ratio the plan commits to


@dataclass(frozen=True)
class Zone:
    """One zone as the page compares it: its reports and the plan's targets by year, the years a report was due."""

    id: str
    name: str
    org: str
    batch: str
    status: str
    reports: dict[int, dict[str, Any]]
    targets: dict[int, dict[str, Any]]
    committed: float
    missing: dict[int, dict[str, Any]]  # year → the open ``annual_report_overdue`` deadline

    @property
    def years(self) -> set[int]:
        return set(self.reports) | set(self.missing)


def reporting_zones(found: list[tuple[dict[str, Any], dict[str, Any]]], this_year: int) -> list[Zone]:
    """The zones that filed an annual report or owe one (a year the title was held, up to ``this_year``: the
    years of a term still to come are not compared), in the list's order."""
    out = []
    for row, document in found:
        plan = document.get("plan") or {}
        missing = {
            int(d["key"].rsplit(":", 1)[1]): d
            for d in document.get("deadlines") or []
            if d["kind"] == "annual_report_overdue" and int(d["key"].rsplit(":", 1)[1]) <= this_year
        }
        reports = {int(r["year"]): r for r in document.get("annual_reports") or []}
        if not reports and not missing:
            continue
        ratio = plan.get("matching_ratio")
        out.append(
            Zone(
                id=row["zone_id"],
                name=row["name"],
                org=row["applicant_org"],
                batch=row["batch"] or "",
                status=row["status"],
                reports=reports,
                targets={int(t["year"]): dict(t) for t in plan.get("targets") or [] if isinstance(t, dict)},
                committed=MATCHING_RATIO if ratio is None else ratio,
                missing=missing,
            )
        )
    return out


def rating_cell(zone: Zone, year: int, now: datetime) -> dict[str, Any]:
    """What the ratings table shows for a zone and year: the rating, not yet evaluated, not filed (overdue or not
    yet due), or nothing (no report was due)."""
    report = zone.reports.get(year)
    if report is not None:
        evaluation = report.get("evaluation") or {}
        rating = evaluation.get("rating")
        return {
            "kind": rating or "unevaluated",
            "text": words.RATINGS.get(rating, rating) if rating else "未评价 not evaluated",
            "late": bool(report.get("late")),
        }
    due = zone.missing.get(year)
    if due is None:
        return {"kind": "none", "text": "—", "late": False}
    overdue = datetime.fromisoformat(due["due_at"]) <= now
    text = "未报告（逾期） not filed, overdue" if overdue else f"未到期 due {due['due_on']}"
    return {"kind": "overdue" if overdue else "due", "text": text, "late": False}


def scaled(name: str, value: Any) -> float | None:
    """A figure as its chart draws it: money in 亿元, shares as percentages, counts as counts."""
    if value is None or isinstance(value, bool) or not isinstance(value, int | float):
        return None
    d = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    if name in MONEY:
        d = d / 10**8
    elif name in SHARES and name != MATCHING:
        d = d * 100
    return float(d)


def short(name: str, width: int = 12) -> str:
    """A zone's name as a chart's row label fits it (the chart's table beside gives it whole)."""
    return name if len(name) <= width else name[: width - 1] + "…"


def unit(name: str) -> str:
    if name in MONEY:
        return "亿元"
    if name in SHARES and name != MATCHING:
        return "%"
    return ""


def measure_names(zones: list[Zone], year: int) -> list[str]:
    """The measures compared for ``year``: those any zone reported or was set as a target, the usual ones first."""
    named: set[str] = set()
    for z in zones:
        named |= {k for k in (z.reports.get(year) or {}).get("statistics") or {} if k in words.MEASURES}
        named |= {k for k in z.targets.get(year) or {} if k != "year"}
    ordered = [m for m in words.MEASURES if m in named] + sorted(named - set(words.MEASURES))
    reported = [set((z.reports.get(year) or {}).get("statistics") or {}) for z in zones]
    funds = any({"local_funds", "city_funds"} <= keys for keys in reported)
    return ordered + ([MATCHING] if funds else [])


def compared(zones: list[Zone], year: int, name: str) -> dict[str, Any]:
    """One measure for ``year``: per zone the figure reported, the plan's target and whether it was reached (the
    evaluation's own checks: ``plan_target_checks``, §4.2's ``matching_check``); a chart and its table."""
    rows: list[dict[str, Any]] = []
    for z in zones:
        target: Any
        report = z.reports.get(year)
        stats = dict((report or {}).get("statistics") or {})
        if name == MATCHING:
            check = matching_check(stats, z.committed) if report else None
            value, target = (check or {}).get("value"), z.committed
        else:
            checks = [c for c in plan_target_checks(z.targets.values(), year, stats) if c["field"] == name]
            check = checks[0] if checks and report else None
            value, target = stats.get(name), (z.targets.get(year) or {}).get(name)
        rows.append(
            {
                "zone": z,
                "value": value,
                "target": target,
                "reached": None if check is None else check["passed"],
                "filed": report is not None,
            }
        )
    label = words.MEASURES.get(name, name)
    title = f"{year} 年 {label}{'（' + unit(name) + '）' if unit(name) else ''}：各集聚区实际与创建方案目标"
    chart = bar_chart(
        f"chart-{name}",
        f"{title} · {year}: reported against the creation plan's target, per zone",
        [Bar(short(str(r["zone"].name)), scaled(name, r["value"]), scaled(name, r["target"])) for r in rows],
        value_name=f"实际 reported{' (' + unit(name) + ')' if unit(name) else ''}",
        reference_name="目标 target",
    )
    return {"name": name, "label": label, "unit": unit(name), "rows": rows, "chart": chart}


def year_param(value: str | None) -> int | None:
    """The chosen year from the form: empty → the latest reported; four digits; anything else → 422."""
    text = (value or "").strip()
    if not text:
        return None
    if len(text) != 4 or not text.isdigit():
        raise ApiProblem(422, "validation_failed", "year: 年份应为四位数字 · expected a year, YYYY.")
    return int(text)


def documents_as_of(c: Services, instant: datetime) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Every zone that existed at ``instant``, with its document as it stood then (rebuilt from the events recorded
    up to then), as ``zone_documents`` gives the current ones."""
    found = []
    for zone in c.app.zones_as_of(instant):
        document = zone_document(zone, c.app.policy)
        row = {k: document.get(k) for k in ("name", "applicant_org", "status", "batch")}
        found.append(({"zone_id": str(zone.id), **row}, document))
    found.sort(key=lambda f: (f[1]["applied_on"], f[0]["zone_id"]), reverse=True)  # as the zones view lists them
    return found


@router.get("/dynamic", response_class=HTMLResponse)
def dynamic(
    request: Request,
    c: ServicesDep,
    year: Annotated[str | None, Query(max_length=20)] = None,
    call: Annotated[str | None, Query(max_length=200)] = None,
    as_of: Annotated[
        str | None, Query(max_length=20, description="the comparison as it stood at the end of a day")
    ] = None,
) -> Response:
    """Dynamic management (动态管理, §6.4): the zones the reader may see side by side — each year's evaluation
    rating, and for the chosen year (default: the latest reported) each measure reported against the plan's
    target for that year, a chart per measure with its table; filtered by call; with ``as_of`` (the bureau, the
    leading group and inspectors, as for a zone) as it all stood at the end of that day."""
    principal = viewer(request)
    chosen_year = year_param(year)
    day = day_param(as_of)
    now = today = c.clock.now()
    if day is None:
        found = zone_documents(c, principal)
    else:
        require_roles(principal, "bureau", "leading_group", "inspector")  # as GET /zones/{id}?as_of=
        now = as_it_stood(day, today)
        found = documents_as_of(c, now)
    everyone = reporting_zones(found, now.astimezone(SHANGHAI).year)
    calls = sorted({z.batch for z in everyone if z.batch})
    zones = [z for z in everyone if not call or z.batch == call]
    years = sorted({y for z in zones for y in z.years})
    reported = sorted({y for z in zones for y in z.reports})
    shown_year = chosen_year if chosen_year is not None else (reported[-1] if reported else None)
    in_year = [z for z in zones if shown_year in z.years] if shown_year is not None else []
    context = {
        "zones": zones,
        "years": years,
        "calls": calls,
        "chosen": {"year": shown_year, "explicit_year": chosen_year, "call": call or "", "as_of": day},
        "as_of_today": is_today(day, today),
        "can_time_travel": sees_all(principal),
        "ratings": {(z.id, y): rating_cell(z, y, now) for z in zones for y in years},
        "in_year": in_year,
        "measures": [compared(in_year, shown_year, m) for m in measure_names(in_year, shown_year)]
        if shown_year is not None
        else [],
        "rated_in_year": {z.id: rating_cell(z, shown_year, now) for z in in_year} if shown_year else {},
        "status_words": words.STATUS,
        "now": now,
    }
    return render(request, "dynamic.html", context)
