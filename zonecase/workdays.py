"""Working days on the Chinese calendar (statutory holidays and 调休), behind a small interface."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Protocol

import chinese_calendar

from domain.errors import CalendarDataMissingError


class WorkingDayCalendar(Protocol):
    """Counts working days; refuses dates it has no data for."""

    source: str

    def is_working_day(self, day: date) -> bool:
        """Whether ``day`` is a working day."""
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
