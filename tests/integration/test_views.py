"""The read models on every store: current after each command, rebuilt row for row, exactly once,
and stopping on an event they cannot process instead of skipping it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from eventsourcing.persistence import IntegrityError, Tracking

from projections.runner import ViewsUnavailableError, open_views, rebuild
from scheduler.sweep import sweep
from zonecase.wiring import Container

from ..conftest import StoreFactory, make_container
from ..helpers import BUREAU, NANCHENG, at
from .test_application import walk_to_grant


def populate(c: Container) -> None:
    """A granted zone, a second zone with an objection upheld, and some deadlines fired."""
    z = walk_to_grant(c)
    c.clock.set(at("2021-07-16"))  # type: ignore[attr-defined]
    from ..helpers import FIRST_BATCH_MATERIALS, GOOD_PLAN, GOOD_STATISTICS

    other = c.app.apply(
        NANCHENG,
        name="南城",
        area_type="town",
        sites=[{"name": "a"}],
        batch="2021-first",
        materials=FIRST_BATCH_MATERIALS,
        self_assessment={"statistics": GOOD_STATISTICS},
        plan=GOOD_PLAN,
    )
    c.clock.set(at("2023-02-02"))  # type: ignore[attr-defined]
    assert [f["kind"] for f in sweep(c.app)] == ["annual_report_overdue", "annual_report_overdue"]
    c.app.revoke(other.id, BUREAU, reason="other", details="Withdrawn by the town.")
    assert z.id != other.id


def dump(views: dict[str, Any]) -> dict[str, Any]:
    return {name: projection.view.dump() for name, projection in views.items()}


@pytest.fixture
def live(store: StoreFactory, tmp_path: Path) -> Any:
    c = make_container(store.new_url(), tmp_path)
    runner = c.start_views(poll_interval=0.2)
    yield c, runner
    c.close()


def test_views_are_current_when_a_command_returns(live: Any) -> None:
    c, runner = live
    populate(c)
    runner.wait_for(c.app.last_position(), timeout=5)
    status = runner.status()
    assert all(v["lag"] == 0 and v["failed"] is None for v in status["views"].values())
    with runner.views["zones"].view.read() as tx:
        statuses = sorted(r["status"] for r in tx.all("SELECT status FROM {view_zones}"))
    assert statuses == ["granted", "revoked"]


def test_a_rebuild_gives_the_same_rows(live: Any) -> None:
    c, runner = live
    populate(c)
    runner.wait_for(c.app.last_position(), timeout=5)
    before = dump(runner.views)
    assert sum(len(rows) for tables in before.values() for rows in tables.values()) > 20
    runner.stop()
    fresh = open_views(c.app, c.settings.views_env())
    assert rebuild(c.app, fresh, batch_size=3) == c.app.recorder.max_notification_id()
    assert dump(fresh) == before


def test_a_batch_is_recorded_exactly_once(live: Any) -> None:
    c, runner = live
    walk_to_grant(c)
    runner.wait_for(c.app.last_position(), timeout=5)
    runner.stop()
    history = runner.views["history"]
    before = history.view.dump()
    notifications = c.app.recorder.select_notifications(start=1, limit=100)
    events = [c.app.mapper.to_domain_event(n) for n in notifications]
    with pytest.raises(IntegrityError):  # the tracking row refuses a position already recorded
        history.process_batch(events, Tracking("ZoneCase", notifications[-1].id), [n.id for n in notifications])
    assert history.view.dump() == before


def test_a_view_that_fails_on_an_event_stops_there_and_says_which(store: StoreFactory, tmp_path: Path) -> None:
    c = make_container(store.new_url(), tmp_path)
    runner = c.start_views(poll_interval=0.2)
    try:
        notices = runner.views["notices"]
        original = notices.handle

        def handle(event: Any, tx: Any) -> None:
            if type(event).__name__ == "ObjectionRaised":
                raise ValueError("cannot count this objection")
            original(event, tx)

        notices.handle = handle  # type: ignore[method-assign]
        with pytest.raises(ViewsUnavailableError, match="notices view stopped on event 9"):
            walk_to_grant(c)
            runner.wait_for(c.app.last_position(), timeout=5)
        failure = runner.status()["views"]["notices"]["failed"]
        assert failure["position"] == 9 and failure["event_type"] == "ObjectionRaised"
        assert "cannot count" in failure["error"]
        assert runner.status()["views"]["notices"]["position"] == 8  # everything before it, nothing after
        import time

        deadline = time.monotonic() + 5
        while runner.status()["views"]["zones"]["lag"] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert runner.status()["views"]["zones"]["lag"] == 0  # the other views carry on
        with runner.views["notices"].view.read() as tx:
            assert tx.one("SELECT objections FROM {view_notices}") == {"objections": 0}
    finally:
        c.close()
