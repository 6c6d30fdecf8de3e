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
        raise NotPermittedError(
            f"A {role.replace('_', ' ')} may not do this; it is for: "
            + ", ".join(r.replace("_", " ") for r in roles)
            + "."
        )
