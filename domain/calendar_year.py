"""A year's working-day calendar entered by the bureau (a recorded, audited override), for a year the
published calendar data does not cover yet — or to correct it."""

from __future__ import annotations

from datetime import date
from datetime import datetime
from typing import TYPE_CHECKING
from typing import Any
from uuid import NAMESPACE_URL
from uuid import UUID
from uuid import uuid5

from domain.chained import Chained
from domain.errors import InvalidValueError
from domain.errors import NotPermittedError
from domain.values import Actor


def calendar_year_id(year: int) -> UUID:
    """The id of a year's calendar (one aggregate per year)."""
    return uuid5(NAMESPACE_URL, f"zonecase:calendar:{year}")


class CalendarYear(Chained):
    """The statutory holidays and adjusted working weekends (调休) of one year, as the bureau entered them."""

    class Event(Chained.Event):
        """Every calendar event."""

    class Entered(Event, Chained.Created):
        """The bureau entered the year's holidays for the first time."""

        def assign(self, c: CalendarYear, d: dict[str, Any]) -> None:
            c.year = d["year"]
            c.holidays = d["holidays"]
            c.working_days = d["working_days"]
            c.source = d["source"]
            c.entered_by = self.actor
            c.entered_at = self.timestamp.isoformat()

    class Corrected(Event):
        """The bureau replaced the year's holidays (the earlier entry stays in the history)."""

        def assign(self, c: CalendarYear, d: dict[str, Any]) -> None:
            c.holidays = d["holidays"]
            c.working_days = d["working_days"]
            c.source = d["source"]
            c.entered_by = self.actor
            c.entered_at = self.timestamp.isoformat()

    if TYPE_CHECKING:
        year: int
        holidays: list[str]
        working_days: list[str]
        source: str
        entered_by: dict[str, Any]
        entered_at: str

    @staticmethod
    def validate(year: int, holidays: list[date], working_days: list[date], source: str) -> dict[str, Any]:
        """The entry as recorded: dates of that year, no day both, adjusted working days on weekends."""
        errors = []
        for field, days in (("holidays", holidays), ("working_days", working_days)):
            errors += [
                {"loc": [field, i], "msg": f"{d.isoformat()} is not in {year}"}
                for i, d in enumerate(days)
                if d.year != year
            ]
        errors += [
            {"loc": ["working_days", i], "msg": f"{d.isoformat()} is a weekday; list only weekend days worked"}
            for i, d in enumerate(working_days)
            if d.weekday() < 5
        ]
        both = sorted(set(holidays) & set(working_days))
        errors += [{"loc": ["working_days"], "msg": f"{d.isoformat()} is also listed as a holiday"} for d in both]
        if not source.strip():
            errors.append({"loc": ["source"], "msg": "name the notice the holidays come from"})
        if errors:
            raise InvalidValueError(f"The calendar for {year} is not valid.", errors)
        return {
            "year": year,
            "holidays": sorted({d.isoformat() for d in holidays}),
            "working_days": sorted({d.isoformat() for d in working_days}),
            "source": source.strip(),
        }

    @classmethod
    def enter(
        cls,
        *,
        actor: Actor,
        at: datetime,
        year: int,
        holidays: list[date],
        working_days: list[date],
        source: str,
        reason: str = "",
    ) -> CalendarYear:
        """The bureau enters a year's holidays."""
        _bureau_only(actor)
        data = cls.validate(year, holidays, working_days, source)
        return cls._start(cls.Entered, aggregate_id=calendar_year_id(year), actor=actor, at=at, reason=reason, **data)

    def correct(
        self, *, actor: Actor, at: datetime, holidays: list[date], working_days: list[date], source: str, reason: str
    ) -> None:
        """The bureau replaces the year's holidays; a reason is required."""
        _bureau_only(actor)
        if not reason.strip():
            raise InvalidValueError("A correction needs its reason.", [{"loc": ["reason"], "msg": "required"}])
        data = self.validate(self.year, holidays, working_days, source)
        self._record(self.Corrected, actor=actor, at=at, reason=reason, **data)

    def is_working_day(self, day: date) -> bool:
        """Monday to Friday, unless a holiday; a weekend day only if listed as worked."""
        iso = day.isoformat()
        if iso in self.holidays:
            return False
        if iso in self.working_days:
            return True
        return day.weekday() < 5

    def describe(self) -> str:
        """Which data this is, for the record of every deadline computed from it."""
        return (
            f"calendar override {self.year} v{self.version} ({self.source}; entered by "
            f"{self.entered_by.get('sub')} at {self.entered_at})"
        )


def _bureau_only(actor: Actor) -> None:
    if actor.role != "bureau":
        raise NotPermittedError("Only the bureau enters the working-day calendar.")
