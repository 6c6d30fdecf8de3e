"""Working days on the Chinese calendar (statutory holidays and 调休), behind a small interface."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from datetime import timedelta
from typing import Protocol

import chinese_calendar

from domain.calendar_year import CalendarYear
from domain.errors import CalendarDataMissingError


class WorkingDayCalendar(Protocol):
    """Counts working days; refuses dates it has no data for."""

    def is_working_day(self, day: date) -> bool:
        """Whether ``day`` is a working day."""
        ...

    def source_for(self, year: int) -> str:
        """Which data answers for ``year`` (recorded with every period counted from it)."""
        ...


class ChineseWorkingDays:
    """The State Council's published schedule, as the ``chinesecalendar`` package carries it."""

    def __init__(self) -> None:
        years = [d.year for d in chinese_calendar.holidays]
        self.first_year, self.last_year = min(years), max(years)
        version = getattr(chinese_calendar, "__version__", None)
        if version is None:
            from importlib.metadata import version as _version

            version = _version("chinesecalendar")
        self.source = f"chinesecalendar {version} (data {self.first_year}-{self.last_year})"

    def is_working_day(self, day: date) -> bool:
        """Whether ``day`` is a working day; a year outside the package's data is refused, not guessed."""
        if not self.first_year <= day.year <= self.last_year:
            raise CalendarDataMissingError(
                f"The working-day calendar has no data for {day.year} (it covers {self.first_year}–"
                f"{self.last_year}); the period cannot be counted until that year's holidays are entered."
            )
        return bool(chinese_calendar.is_workday(day))

    def source_for(self, year: int) -> str:
        """The package and its data range."""
        return self.source


class OverridableCalendar:
    """The published calendar, except for the years the bureau entered itself (recorded, audited)."""

    def __init__(self, published: WorkingDayCalendar, overrides: Callable[[int], CalendarYear | None]) -> None:
        self.published = published
        self.overrides = overrides

    def is_working_day(self, day: date) -> bool:
        """The bureau's entry for that year if there is one, else the published data (or a refusal)."""
        entered = self.overrides(day.year)
        return entered.is_working_day(day) if entered else self.published.is_working_day(day)

    def source_for(self, year: int) -> str:
        """The override's description, or the published data's."""
        entered = self.overrides(year)
        return entered.describe() if entered else self.published.source_for(year)

    def pinned(self) -> OverridableCalendar:
        """The same calendar reading each year's entry once (for counting one period)."""
        seen: dict[int, CalendarYear | None] = {}

        def once(year: int) -> CalendarYear | None:
            if year not in seen:
                seen[year] = self.overrides(year)
            return seen[year]

        return OverridableCalendar(self.published, once)

    @property
    def last_year(self) -> int:
        """The last year of the published data."""
        return int(getattr(self.published, "last_year", 0))


def nth_working_day(calendar: WorkingDayCalendar, start: date, n: int) -> date:
    """The ``n``-th working day counting ``start`` itself when it is one (PROCESS.md, notice ends)."""
    if n < 1:
        raise ValueError("n must be at least 1")
    day, counted = start, 0
    while True:
        if calendar.is_working_day(day):
            counted += 1
            if counted == n:
                return day
        day += timedelta(days=1)


def sources(calendar: WorkingDayCalendar, start: date, end: date) -> str:
    """Which data counted the days from ``start`` to ``end`` (one entry per year)."""
    return "; ".join(calendar.source_for(y) for y in range(start.year, end.year + 1))
