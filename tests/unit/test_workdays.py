"""Working days on the Chinese calendar: the notice length counts statutory holidays and 调休."""

from __future__ import annotations

from datetime import date

import pytest

from application.workdays import ChineseWorkingDays
from application.workdays import nth_working_day
from domain.errors import CalendarDataMissingError

CAL = ChineseWorkingDays()


@pytest.mark.parametrize(
    ("start", "n", "end"),
    [
        (date(2021, 9, 27), 5, date(2021, 10, 8)),  # Mon before National Day 2021: 27-30 Sep, then 8 Oct
        (date(2026, 9, 30), 5, date(2026, 10, 12)),  # 2026: 1-7 Oct off; 8, 9, Sat 10 (调休 working), 12
        (date(2026, 3, 16), 5, date(2026, 3, 20)),  # an ordinary week
        (date(2026, 3, 14), 5, date(2026, 3, 20)),  # a Saturday start does not count itself
        (date(2026, 9, 20), 1, date(2026, 9, 20)),  # Sunday 20 Sep 2026 is an adjusted working day
    ],
)
def test_nth_working_day(start: date, n: int, end: date) -> None:
    assert nth_working_day(CAL, start, n) == end


def test_a_year_without_data_is_refused_not_guessed() -> None:
    with pytest.raises(CalendarDataMissingError) as info:
        nth_working_day(CAL, date(CAL.last_year + 1, 3, 1), 5)
    assert str(CAL.last_year + 1) in info.value.message
    assert "chinesecalendar" in CAL.source
