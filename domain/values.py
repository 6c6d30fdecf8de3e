"""Small values the zone works with: the acting person, dates in Asia/Shanghai, calendar arithmetic."""

from __future__ import annotations

import calendar
from dataclasses import asdict
from dataclasses import dataclass
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import time
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from domain.errors import NotPermittedError

SHANGHAI = ZoneInfo("Asia/Shanghai")

ROLES = ("leading_group", "bureau", "applicant", "expert", "inspector", "public", "system")


@dataclass(frozen=True)
class Actor:
    """Who did it: subject id, role, organisation (and a display name)."""

    sub: str
    role: str
    org: str = ""
    name: str = ""

    def as_dict(self) -> dict[str, Any]:
        """The actor as recorded in every event."""
        return asdict(self)


SYSTEM = Actor(sub="zonecase-scheduler", role="system", org="zonecase", name="deadline scheduler")


def local_date(at: datetime) -> date:
    """The calendar date in Asia/Shanghai of an instant."""
    return at.astimezone(SHANGHAI).date()


def local_minute(at: datetime) -> str:
    """An instant as people read it here: its minute in Asia/Shanghai (2024-04-20 00:00 (+08:00))."""
    return at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M (+08:00)")


def days_hours_minutes(seconds: float) -> tuple[int, int, int]:
    """A span in whole days, hours and minutes (what is left of a minute dropped; a negative span is none)."""
    minutes = max(0, int(seconds)) // 60
    return minutes // 1440, minutes // 60 % 24, minutes % 60


def span_in_english(seconds: float) -> str:
    """A span as days, hours and minutes in English (956 d 3 h 49 min; < 1 min)."""
    parts = zip(days_hours_minutes(seconds), ("d", "h", "min"), strict=True)
    return " ".join(f"{n} {unit}" for n, unit in parts if n) or "< 1 min"


def start_of_day(day: date) -> datetime:
    """Midnight Asia/Shanghai at the start of ``day``, as a UTC instant."""
    return datetime.combine(day, time(0), SHANGHAI).astimezone(UTC)


def add_months(day: date, months: int) -> date:
    """``day`` moved by whole months; the 31st becomes the month's last day where needed."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def add_years(day: date, years: int) -> date:
    """``day`` moved by whole years (29 February becomes 28 February)."""
    return add_months(day, 12 * years)


def day_after(day: date) -> date:
    """The next calendar day."""
    return day + timedelta(days=1)


def permit(role: str, roles: tuple[str, ...]) -> None:
    """Refuses, in words an officer reads, unless ``role`` is one of ``roles`` (the one role check)."""
    if role not in roles:
        named = role.replace("_", " ")
        who = "The public" if role == "public" else f"{'An' if named[:1] in 'aeiou' else 'A'} {named}"
        raise NotPermittedError(
            f"{who} may not do this; it is for: " + ", ".join(r.replace("_", " ") for r in roles) + "."
        )
