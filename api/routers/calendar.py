"""The working-day calendar: which data counts a year, and the bureau's audited entries."""

from __future__ import annotations

from typing import Annotated
from typing import Any

from fastapi import APIRouter
from fastapi import Path

from api import schemas
from api.deps import Principal
from api.deps import PrincipalDep
from api.deps import Roles
from api.deps import Services
from api.deps import ServicesDep
from domain.calendar_year import CalendarYear

router = APIRouter(prefix="/calendar", tags=["calendar"])
Year = Annotated[int, Path(ge=2000, le=2100)]


def _describe(c: Services, year: int) -> dict[str, Any]:
    entered = c.app.calendar_override(year)
    published = c.app.calendar.published
    first, last = getattr(published, "first_year", 0), getattr(published, "last_year", 0)
    if entered is None and not first <= year <= last:
        source = f"no data for {year}: notices that need it are refused until the bureau enters it"
    else:
        source = c.app.calendar.source_for(year)
    return {"year": year, "source": source, "override": _entry(entered), "published_years": [first, last]}


def _entry(entered: CalendarYear | None) -> dict[str, Any] | None:
    if entered is None:
        return None
    return {
        "version": entered.version,
        "holidays": entered.holidays,
        "working_days": entered.working_days,
        "source": entered.source,
        "entered_by": entered.entered_by,
        "entered_at": entered.entered_at,
    }


@router.get("/{year}", response_model=schemas.CalendarOut)
def calendar_year(year: Year, c: ServicesDep, principal: PrincipalDep) -> dict[str, Any]:
    """Which data counts the working days of ``year``: the published calendar or the bureau's entry."""
    return _describe(c, year)


@router.put("/{year}", response_model=schemas.CalendarOut)
def enter_calendar_year(
    year: Year, body: schemas.CalendarIn, c: ServicesDep, principal: Annotated[Principal, Roles("bureau")]
) -> dict[str, Any]:
    """The bureau enters a year's holidays (e.g. before the published package has them); a second entry
    corrects the first and needs a reason. Every entry is an event in the audited log."""
    c.app.enter_calendar(
        principal.actor,
        year=year,
        holidays=body.holidays,
        working_days=body.working_days,
        source=body.source,
        reason=body.reason,
    )
    return _describe(c, year)
