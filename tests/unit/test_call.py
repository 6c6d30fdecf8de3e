"""A call for applications on its own: validated terms, the bureau's (and at import the system's) only,
corrections with a reason, hash-chained; the filing window and one open case per organisation."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from domain import errors
from domain.call import Call
from domain.call import call_aggregate_id
from domain.conditions import load_batches
from domain.integrity import GENESIS_HASH
from domain.values import SYSTEM
from domain.zone import Zone

from ..helpers import BUREAU
from ..helpers import INSPECTOR
from ..helpers import NANCHENG
from ..helpers import SONGSHAN
from ..helpers import at
from .case import BATCHES
from .case import SYSTEM as INDICATORS
from .case import applied

TERMS: dict[str, Any] = {
    "name": "第二批次 (second batch)",
    "opens_on": date(2024, 4, 1),
    "closes_on": date(2024, 6, 30),
    "creation_period": {"start_year": 2024, "end_year": 2026},
    "members": [{"org": "songshan-lake", "name": "松山湖"}],
    "members_only": False,
    "exempt_materials": [],
    "other_materials_required": ["园区发展情况说明"],
    "pass_mark": 60,
}


def published(**changes: Any) -> Call:
    return Call.publish(actor=BUREAU, at=at("2024-03-25"), call_id="2024-second", **{**TERMS, **changes})


def refused(call: Call, error: type[errors.ZoneError], act: Callable[[], Any]) -> errors.ZoneError:
    """Asserts the step is refused with ``error`` and that nothing was recorded on the call."""
    version, pending, history = call.version, len(call.pending_events), call.history
    with pytest.raises(error) as info:
        act()
    assert (call.version, len(call.pending_events), call.history) == (version, pending, history)
    assert info.value.message
    return info.value


def test_the_bureau_publishes_a_call_with_its_window_and_terms() -> None:
    call = published(reason="东工信〔2024〕12号")
    assert (
        call.id
        == call_aggregate_id("2024-second")
        == Call.publish(actor=BUREAU, at=at("2024-03-26"), call_id="2024-second", **TERMS).id
    )  # one aggregate per call id, whoever publishes it when
    assert (call.opens_on, call.closes_on, call.pass_mark) == ("2024-04-01", "2024-06-30", 60)
    assert call.pending_events[0].prev_hash == GENESIS_HASH  # type: ignore[attr-defined]
    (entry,) = call.history
    assert entry == {
        "seq": 1,
        "kind": "published",
        "at": at("2024-03-25").isoformat(),
        "actor": BUREAU.as_dict(),
        "reason": "东工信〔2024〕12号",
        "changed": [],
    }
    batch = call.batch()
    assert (batch.id, batch.start_year, batch.end_year, batch.members) == (
        "2024-second",
        2024,
        2026,
        {"songshan-lake": "松山湖"},
    )
    assert (batch.opens_on, batch.closes_on, batch.pass_mark) == (date(2024, 4, 1), date(2024, 6, 30), 60)
    assert batch.required_materials("changan")[-1] == ("other", "(4) 园区发展情况说明")


def test_dates_may_come_as_iso_text_and_no_window_is_no_limit() -> None:
    call = published(opens_on="2024-04-01", closes_on=None)
    assert (call.opens_on, call.closes_on) == ("2024-04-01", None)
    batch = call.batch()
    batch.check_window(date(2099, 1, 1))  # no end
    with pytest.raises(errors.TooEarlyError, match="opens for applications on 2024-04-01"):
        batch.check_window(date(2024, 3, 31))


@pytest.mark.parametrize(
    ("changes", "loc"),
    [
        ({"name": " "}, ["name"]),
        ({"opens_on": "2024-13-01"}, ["opens_on"]),
        ({"closes_on": at("2024-06-30")}, ["closes_on"]),  # an instant is not a day
        ({"opens_on": date(2024, 7, 1)}, ["closes_on"]),  # closes before it opens
        ({"creation_period": {"start_year": 2026, "end_year": 2024}}, ["creation_period", "end_year"]),
        ({"creation_period": {"start_year": 2024}}, ["creation_period", "end_year"]),
        ({"creation_period": {"start_year": True, "end_year": 2026}}, ["creation_period", "start_year"]),
        ({"creation_period": [2024, 2026]}, ["creation_period"]),
        ({"members": [{"org": "a", "name": "A"}, {"org": "a", "name": "A again"}]}, ["members", 1, "org"]),
        ({"members": [{"org": "a"}]}, ["members", 0, "name"]),
        ({"members": [], "members_only": True}, ["members_only"]),
        ({"members_only": "yes"}, ["members_only"]),
        ({"exempt_materials": ["creation_plan", "photos"]}, ["exempt_materials", 1]),
        ({"exempt_materials": ["other"]}, ["exempt_materials", 0]),  # item (4) is the call's own to name
        ({"members": [], "exempt_materials": ["application_form"]}, ["exempt_materials"]),
        ({"other_materials_required": ["a", ""]}, ["other_materials_required", 1]),
        ({"pass_mark": 101}, ["pass_mark"]),
        ({"pass_mark": -1}, ["pass_mark"]),
        ({"pass_mark": True}, ["pass_mark"]),
    ],
)
def test_a_bad_call_is_refused_with_each_fault_named(changes: dict[str, Any], loc: list[Any]) -> None:
    with pytest.raises(errors.InvalidValueError) as info:
        published(**changes)
    assert loc in [e["loc"] for e in info.value.errors]


def test_every_fault_at_once_and_a_bad_id() -> None:
    with pytest.raises(errors.InvalidValueError) as info:
        published(name="", pass_mark=200, opens_on="soon")
    assert [e["loc"] for e in info.value.errors] == [["name"], ["opens_on"], ["pass_mark"]]
    for bad in ("", "-x", "a/b", "x" * 51, 2024):
        with pytest.raises(errors.InvalidValueError) as info:
            Call.publish(actor=BUREAU, at=at("2024-03-25"), call_id=bad, **TERMS)
        assert info.value.errors[0]["loc"] == ["id"]


def test_only_the_bureau_publishes_and_corrects_and_the_system_only_publishes() -> None:
    for actor in (INSPECTOR, SONGSHAN):
        with pytest.raises(errors.NotPermittedError):
            Call.publish(actor=actor, at=at("2024-03-25"), call_id="x", **TERMS)
    imported = Call.publish(actor=SYSTEM, at=at("2021-07-01"), call_id="2021-first", **TERMS)
    assert imported.history[0]["actor"]["role"] == "system"
    refused(
        imported,
        errors.NotPermittedError,
        lambda: imported.correct(actor=SYSTEM, at=at("2024-03-26"), reason="x", **TERMS),
    )


def test_a_correction_needs_a_reason_and_a_change_and_is_kept_in_the_history() -> None:
    call = published()
    later = at("2024-04-02")
    refused(call, errors.InvalidValueError, lambda: call.correct(actor=BUREAU, at=later, reason=" ", **TERMS))
    refused(call, errors.InvalidValueError, lambda: call.correct(actor=BUREAU, at=later, reason="Same.", **TERMS))
    refused(
        call,
        errors.InvalidValueError,
        lambda: call.correct(actor=BUREAU, at=later, reason="x", **{**TERMS, "closes_on": date(2024, 3, 1)}),
    )
    refused(call, errors.NotPermittedError, lambda: call.correct(actor=INSPECTOR, at=later, reason="x", **TERMS))
    call.correct(
        actor=BUREAU, at=later, reason="延长申报期限", **{**TERMS, "closes_on": date(2024, 7, 31), "pass_mark": 65}
    )
    assert (call.closes_on, call.pass_mark, call.version) == ("2024-07-31", 65, 2)
    assert call.history[-1] == {
        "seq": 2,
        "kind": "corrected",
        "at": later.isoformat(),
        "actor": BUREAU.as_dict(),
        "reason": "延长申报期限",
        "changed": ["closes_on", "pass_mark"],
    }
    assert call.pending_events[1].prev_hash == call.pending_events[0].hash  # type: ignore[attr-defined]
    replayed: Any = None
    for event in call.collect_events():
        replayed = event.mutate(replayed)
    assert replayed.history == call.history and replayed.batch() == call.batch()


def test_one_open_case_per_organisation_and_the_case_a_new_one_follows() -> None:
    call = published()
    first, second, third = uuid4(), uuid4(), uuid4()
    assert call.open_case(actor=SONGSHAN, at=at("2024-04-02"), zone_id=first, earlier={}) is None
    assert call.open_case(actor=NANCHENG, at=at("2024-04-02"), zone_id=uuid4(), earlier={}) is None  # another org
    for status in ("applied", "returned", "accepted", "granted", "rectifying"):
        e = refused(
            call,
            errors.DuplicateApplicationError,
            lambda s=status: call.open_case(  # type: ignore[misc]
                actor=SONGSHAN, at=at("2024-04-03"), zone_id=second, earlier={str(first): s}
            ),
        )
        assert e.code == "duplicate_application" and e.details["open_case"] == str(first) and str(first) in e.message
    refused(  # a case whose status the service could not give counts as open
        call,
        errors.DuplicateApplicationError,
        lambda: call.open_case(actor=SONGSHAN, at=at("2024-04-03"), zone_id=second, earlier={}),
    )
    for status in ("rejected", "not_passed", "revoked"):
        again = Call.publish(actor=BUREAU, at=at("2024-03-25"), call_id="2024-second", **TERMS)
        again.open_case(actor=SONGSHAN, at=at("2024-04-02"), zone_id=first, earlier={})
        assert (
            again.open_case(actor=SONGSHAN, at=at("2024-05-01"), zone_id=second, earlier={str(first): status}) == first
        )
    assert (
        call.open_case(actor=SONGSHAN, at=at("2024-05-01"), zone_id=second, earlier={str(first): "rejected"}) == first
    )
    assert (
        call.open_case(
            actor=SONGSHAN, at=at("2024-06-01"), zone_id=third, earlier={str(first): "rejected", str(second): "revoked"}
        )
        == second
    )  # the latest closed case
    assert call.cases_of("songshan-lake") == (str(first), str(second), str(third))


def test_filing_outside_the_window_is_refused_and_records_nothing() -> None:
    batch = published().batch()
    with pytest.raises(errors.TooEarlyError, match="opens for applications on 2024-04-01"):
        applied(day="2024-03-31", batch=batch)
    with pytest.raises(errors.DeadlinePassedError, match="closed for applications on 2024-06-30"):
        applied(day="2024-07-01", batch=batch)
    assert applied(day="2024-04-01", batch=batch).applied_on == "2024-04-01"  # both days count
    assert applied(day="2024-06-30", batch=batch).applied_on == "2024-06-30"
    last_evening = Zone.file_application(  # 23:00 in Dongguan is still the last day (15:00 UTC)
        zone_id=uuid4(),
        actor=SONGSHAN,
        at=at("2024-06-30", 23),
        name="x",
        area_type="park",
        sites=[{"name": "a"}],
        batch=batch,
        materials=[],
        self_assessment={"statistics": {"revenue": 1}},
        system=INDICATORS,
    )
    assert last_evening.applied_on == "2024-06-30"


def test_previous_case_is_recorded_only_when_there_is_one() -> None:
    first = applied(batch=BATCHES["2021-first"])
    assert "previous_case" not in first.pending_events[0].data  # type: ignore[attr-defined]
    second = applied(batch=BATCHES["2021-first"], previous_case=first.id)
    assert second.pending_events[0].data["previous_case"] == str(first.id)  # type: ignore[attr-defined]
    assert second.state().keys() == first.state().keys()  # the record's, not the zone's state


def test_the_calls_file_gives_a_window_only_where_it_names_one(tmp_path: Path) -> None:
    first = BATCHES["2021-first"]
    assert (first.opens_on, first.closes_on, first.pass_mark) == (None, None, None)
    data = {"id": "2025", "creation_period": {"start_year": 2025, "end_year": 2027}}
    path = tmp_path / "calls.json"
    path.write_text(json.dumps({"batches": [{**data, "opens_on": "2025-03-01", "pass_mark": 70}]}), "utf-8")
    (later,) = load_batches(path).values()
    assert (later.opens_on, later.closes_on, later.pass_mark) == (date(2025, 3, 1), None, 70)
