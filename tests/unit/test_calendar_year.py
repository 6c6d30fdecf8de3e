"""The bureau's calendar entries: validated, bureau-only, corrections with a reason, hash-chained."""

from __future__ import annotations

from datetime import date

import pytest

from domain.calendar_year import CalendarYear
from domain.errors import InvalidValueError
from domain.errors import NotPermittedError
from domain.integrity import GENESIS_HASH

from ..helpers import BUREAU
from ..helpers import INSPECTOR
from ..helpers import at

HOLIDAYS_2027 = [date(2027, 1, 1), date(2027, 10, 1), date(2027, 10, 4)]


def test_the_bureau_enters_a_year() -> None:
    c = CalendarYear.enter(
        actor=BUREAU,
        at=at("2026-11-20"),
        year=2027,
        holidays=HOLIDAYS_2027,
        working_days=[date(2027, 9, 26)],
        source="国办发明电〔2026〕X号",
    )
    assert c.is_working_day(date(2027, 9, 26))  # a Sunday worked
    assert not c.is_working_day(date(2027, 10, 1))
    assert c.is_working_day(date(2027, 10, 5)) and not c.is_working_day(date(2027, 10, 9))  # Tue / Sat
    assert c.pending_events[0].prev_hash == GENESIS_HASH  # type: ignore[attr-defined]
    assert "calendar override 2027 v1" in c.describe() and "u-bureau" in c.describe()


@pytest.mark.parametrize(
    ("holidays", "working_days", "source", "loc"),
    [
        ([date(2026, 12, 31)], [], "x", ["holidays", 0]),
        ([], [date(2027, 9, 27)], "x", ["working_days", 0]),  # a Monday is not an adjusted working day
        ([date(2027, 9, 26)], [date(2027, 9, 26)], "x", ["working_days"]),
        ([], [], " ", ["source"]),
    ],
)
def test_a_bad_entry_is_refused(holidays: list[date], working_days: list[date], source: str, loc: list) -> None:  # type: ignore[type-arg]
    with pytest.raises(InvalidValueError) as info:
        CalendarYear.enter(
            actor=BUREAU, at=at("2026-11-20"), year=2027, holidays=holidays, working_days=working_days, source=source
        )
    assert loc in [e["loc"] for e in info.value.errors]


def test_only_the_bureau_and_a_correction_needs_a_reason() -> None:
    with pytest.raises(NotPermittedError):
        CalendarYear.enter(actor=INSPECTOR, at=at("2026-11-20"), year=2027, holidays=[], working_days=[], source="x")
    c = CalendarYear.enter(
        actor=BUREAU, at=at("2026-11-20"), year=2027, holidays=HOLIDAYS_2027, source="x", working_days=[]
    )
    with pytest.raises(InvalidValueError):
        c.correct(actor=BUREAU, at=at("2026-11-21"), holidays=[], working_days=[], source="x", reason="")
    c.correct(
        actor=BUREAU,
        at=at("2026-11-21"),
        holidays=[date(2027, 1, 1)],
        working_days=[],
        source="y",
        reason="The published notice moved a holiday.",
    )
    assert c.version == 2 and c.holidays == ["2027-01-01"]
    assert c.pending_events[1].prev_hash == c.pending_events[0].hash  # type: ignore[attr-defined]
