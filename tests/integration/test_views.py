"""The read models on every store: current after each command, rebuilt row for row, exactly once,
and stopping on an event they cannot process instead of skipping it."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.persistence import IntegrityError
from eventsourcing.persistence import Tracking

from domain.values import Actor
from projections import rebuild as rebuild_module
from projections import storage as storage_module
from projections.rebuild import rebuild
from projections.runner import ViewsUnavailableError
from projections.runner import open_views
from projections.storage import PostgresView
from scheduler.sweep import sweep
from zonecase.wiring import Container

from ..conftest import StoreFactory
from ..conftest import make_container
from ..helpers import BUREAU
from ..helpers import NANCHENG
from ..helpers import at
from ..helpers import file_first_batch
from ..helpers import revocation
from .test_application import walk_to_grant

LATER = {"start_year": 2024, "end_year": 2026}


def populate(c: Container) -> None:
    """A granted zone, a second zone with an objection upheld, and some deadlines fired."""
    z = walk_to_grant(c)
    c.clock.set(at("2021-07-16"))  # type: ignore[attr-defined]
    other = file_first_batch(c.app, NANCHENG, name="南城", area_type="town")
    c.app.formal_review(other.id, BUREAU, outcome="accepted")  # a revocation needs a formally accepted zone
    c.clock.set(at("2023-02-02"))  # type: ignore[attr-defined]
    assert [f["kind"] for f in sweep(c.app)] == ["annual_report_overdue", "annual_report_overdue"]
    c.app.revoke(other.id, BUREAU, **revocation("concealment", "Concealed a relocation of its main firms."))
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
    with runner.read("zones") as tx:
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


def test_a_rebuild_in_several_processes_gives_the_same_rows(live: Any) -> None:
    c, runner = live
    populate(c)
    runner.wait_for(c.app.last_position(), timeout=5)
    before = dump(runner.views)
    runner.stop()
    fresh = open_views(c.app, c.settings.views_env())
    # on PostgreSQL the zones are shared out between two processes; elsewhere one process does it all
    assert rebuild(c.app, fresh, batch_size=3, workers=2) == c.app.recorder.max_notification_id()
    assert dump(fresh) == before
    head = c.app.recorder.max_notification_id()
    assert all(p.view.max_tracking_id("ZoneCase") == head for p in fresh.values())
    assert dump(open_views(c.app, c.settings.views_env())) == before  # opened again: kept, not rebuilt


def test_a_rebuild_cut_short_is_done_again_when_the_views_are_next_opened(
    live: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    c, runner = live
    populate(c)
    c.app.publish_call(BUREAU, call_id="2024-second", name="a later call", creation_period=LATER)
    for i in range(16):  # enough zones that both processes get some (they are shared out by a hash of the id)
        town = Actor(f"u-town-{i}", "applicant", f"town-{i}", f"Town {i}")  # one open case per town and call
        file_first_batch(c.app, town, name=f"zone {i}", area_type="town", batch="2024-second")
    runner.wait_for(c.app.last_position(), timeout=5)
    before = dump(runner.views)
    runner.stop()
    fresh = open_views(c.app, c.settings.views_env())
    if isinstance(fresh["zones"].view, PostgresView):  # in parts: this process stops, the other one fills on

        def part(app: Any, views: dict[str, Any], *args: Any) -> int:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:  # once the other process has written rows
                with views["history"].view.read() as tx:
                    if tx.one("SELECT COUNT(*) AS n FROM {view_history}")["n"]:
                        break
                time.sleep(0.05)
            raise KeyboardInterrupt

        monkeypatch.setattr(rebuild_module, "_project_part", part)
    else:  # in one process: stops after two batches
        original = fresh["zones"].write_zones  # type: ignore[attr-defined]
        calls = []

        def write_zones(tx: Any, zones: list[Any]) -> None:
            calls.append(1)
            if len(calls) > 2:
                raise KeyboardInterrupt
            original(tx, zones)

        fresh["zones"].write_zones = write_zones  # type: ignore[attr-defined]
    with pytest.raises(KeyboardInterrupt):
        rebuild(c.app, fresh, batch_size=3, workers=2)
    monkeypatch.undo()
    if isinstance(fresh["zones"].view, PostgresView):
        with fresh["history"].view.read() as tx:
            assert tx.one("SELECT COUNT(*) AS n FROM {view_history}")["n"] > 0  # rows, but no tracking:
            assert tx.one(
                f"SELECT fingerprint FROM {storage_module._meta_table(fresh['history'].view)}"
                " WHERE view = 'view_history'"
            ) == {"fingerprint": storage_module.REBUILDING}
    c.runner = None
    again = c.start_views(poll_interval=0.2)  # half-built views are dropped and projected anew
    again.wait_for(c.app.recorder.max_notification_id(), timeout=10)
    assert dump(again.views) == before


@pytest.mark.postgres
def test_a_rebuilding_process_that_fails_fails_the_rebuild_and_leaves_the_views_marked(tmp_path: Path) -> None:
    store = StoreFactory("postgres", tmp_path)
    try:
        c = make_container(store.new_url(), tmp_path)
        runner = c.start_views(poll_interval=0.2)
        populate(c)
        runner.wait_for(c.app.last_position(), timeout=5)
        before = dump(runner.views)
        runner.stop()
        history = open_views(c.app, c.settings.views_env(), ["history"])["history"]
        # the other process opens its views by name; one it does not know makes it fail on start
        with pytest.raises(RuntimeError, match="part 1: KeyError"):
            rebuild(c.app, {"no such view": history}, workers=2)
        c.runner = None
        again = c.start_views(poll_interval=0.2)  # marked as being rebuilt: dropped and projected anew
        again.wait_for(c.app.recorder.max_notification_id(), timeout=10)
        assert dump(again.views) == before
        c.close()
    finally:
        store.cleanup()


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
        original = notices.write_zones  # type: ignore[attr-defined]

        def write_zones(tx: Any, zones: list[Any]) -> None:  # fails from the first objection on
            if any(z.objections for z in zones):
                raise ValueError("cannot count this objection")
            original(tx, zones)

        notices.write_zones = write_zones  # type: ignore[attr-defined]
        # the zone's 11th event is the log's 13th: the call's publication and the case it opened come first
        with pytest.raises(ViewsUnavailableError, match="notices view stopped on event 13"):
            walk_to_grant(c)
            runner.wait_for(c.app.last_position(), timeout=5)
        failure = runner.status()["views"]["notices"]["failed"]
        assert failure["position"] == 13 and failure["event_type"] == "ObjectionRaised"
        assert "cannot count" in failure["error"]
        assert runner.status()["views"]["notices"]["position"] == 12  # everything before it, nothing after
        import time

        deadline = time.monotonic() + 5
        while runner.status()["views"]["zones"]["lag"] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert runner.status()["views"]["zones"]["lag"] == 0  # the other views carry on
        with runner.read("notices") as tx:
            assert tx.one("SELECT objections FROM {view_notices}") == {"objections": 0}
    finally:
        c.close()


def test_the_views_wait_for_a_moment_without_commands_unless_a_reader_waits(
    store: StoreFactory, tmp_path: Path
) -> None:
    """Commands come first (projections.runner): while one is in flight the views do not run (up to their longest
    delay, here long); a reader waiting for its own write has them run at once; once the commands stop they run."""
    c = make_container(store.new_url(), tmp_path)
    try:
        runner = c.start_views(poll_interval=30, max_delay=30)
        with c.app.activity.command():  # a command in flight, holding the views back
            file_first_batch(c.app)
            position = c.app.last_position()
            assert position is not None
            time.sleep(0.3)
            assert runner.positions["zones"] < position  # prompted, but waiting for a quiet moment
            started = time.monotonic()
            runner.wait_for(position, timeout=5, views=["zones"])  # a reader waits: the views run now
            assert time.monotonic() - started < 2
        with c.app.activity.command():
            other = file_first_batch(c.app, NANCHENG, name="南城", area_type="town")
            time.sleep(0.2)
            assert runner.positions["zones"] < (c.app.last_position() or 0)
        deadline = time.monotonic() + 5  # the command is over: quiet, so the views catch up by themselves
        while runner.positions["zones"] < (c.app.last_position() or 0) and time.monotonic() < deadline:
            time.sleep(0.01)
        with runner.read("zones") as tx:
            assert {r["zone_id"] for r in tx.all("SELECT zone_id FROM {view_zones}")} >= {str(other.id)}
    finally:
        c.close()
