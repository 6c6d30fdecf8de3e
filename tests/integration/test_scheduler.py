"""Deadlines: the scheduler emits the process's deadline events exactly once, in due order, catching
up after downtime, with one active sweeper across processes."""

from __future__ import annotations

import collections
import threading
from datetime import date
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from domain.errors import CalendarDataMissingError
from scheduler.lock import FileLeaderLock
from scheduler.lock import leader_lock
from scheduler.service import DeadlineScheduler
from scheduler.sweep import sweep
from zonecase.wiring import Container

from ..conftest import StoreFactory
from ..conftest import make_container
from ..helpers import ANNUAL_STATISTICS
from ..helpers import BUREAU
from ..helpers import SONGSHAN
from ..helpers import at
from ..helpers import event_history
from ..unit import case


def deadline_keys(c: Container, zone_id: Any) -> list[str]:
    return [h["data"]["key"] for h in event_history(c.app, zone_id) if "key" in h["data"] and h["type"] != "Revoked"]


@pytest.fixture
def running(store: StoreFactory, tmp_path: Path) -> Any:
    c = make_container(store.new_url(), tmp_path, start="2021-10-12")
    c.start_views(poll_interval=0.2)
    yield c
    c.close()


def set_clock(c: Container, day: str, hour: int = 10) -> None:
    c.clock.set(at(day, hour))  # type: ignore[attr-defined]


class TestThreeYears:
    """A granted zone walked through its term (granted 2021-10-11, valid until 2024-10-10, expiring 2024-10-11)."""

    def test_reports_filed_and_missed_the_window_and_expiry_without_request(self, running: Container) -> None:
        c = running
        z = case.granted()
        c.app.save(z)
        set_clock(c, "2022-01-20")
        c.app.file_annual_report(z.id, SONGSHAN, year=2021, statistics=ANNUAL_STATISTICS, summary="2021")
        set_clock(c, "2022-02-01")
        assert sweep(c.app, c.runner) == []  # the 2021 report was on time
        set_clock(c, "2023-01-31", 23)
        assert sweep(c.app, c.runner) == []  # January 31 is not over yet
        set_clock(c, "2023-02-01", 0)
        assert [f["key"] for f in sweep(c.app, c.runner)] == ["annual_report_overdue:2022"]
        set_clock(c, "2023-03-01")
        c.app.file_annual_report(z.id, SONGSHAN, year=2022, statistics=ANNUAL_STATISTICS, summary="late")
        assert c.app.get_zone(z.id).annual_reports["2022"].late is True
        set_clock(c, "2024-07-10")
        assert [f["key"] for f in sweep(c.app, c.runner)] == ["annual_report_overdue:2023"]
        set_clock(c, "2024-07-11", 0)
        assert [f["key"] for f in sweep(c.app, c.runner)] == ["review_window_opened:1"]
        set_clock(c, "2024-10-10", 23)
        assert sweep(c.app, c.runner) == []  # the term's last day
        set_clock(c, "2024-10-11", 0)
        assert [f["key"] for f in sweep(c.app, c.runner)] == ["title_expired:1"]
        zone = c.app.get_zone(z.id)
        assert zone.status == "revoked" and zone.revocation.cause == "no_review_request"  # type: ignore[union-attr]
        set_clock(c, "2025-06-01")
        assert sweep(c.app, c.runner) == []  # the 2024 report is moot once revoked
        assert deadline_keys(c, z.id) == [
            "annual_report_overdue:2022",
            "annual_report_overdue:2023",
            "review_window_opened:1",
            "title_expired:1",
        ]

    def test_expiry_with_a_review_pending_does_not_revoke(self, running: Container) -> None:
        c = running
        z = case.granted()
        c.app.save(z)
        set_clock(c, "2024-08-01")
        c.app.request_review(z.id, SONGSHAN)
        set_clock(c, "2024-10-12")
        fired = [f["key"] for f in sweep(c.app, c.runner)]
        assert "title_expired:1" in fired and "review_window_opened:1" not in fired
        assert c.app.get_zone(z.id).status == "in_review"

    def test_catch_up_after_downtime_fires_everything_in_due_order_once(self, running: Container) -> None:
        c = running
        zones = [case.granted() for _ in range(3)]
        c.app.save(*zones)
        set_clock(c, "2025-03-01")  # nothing ran for three and a half years
        fired = sweep(c.app, c.runner)
        assert [f["due_at"] for f in fired] == sorted(f["due_at"] for f in fired)
        assert collections.Counter(f["kind"] for f in fired) == {
            "annual_report_overdue": 9,
            "review_window_opened": 3,
            "title_expired": 3,
        }
        assert sweep(c.app, c.runner) == []
        event = event_history(c.app, zones[0].id)[-2]
        assert event["type"] == "TitleExpired"
        assert event["data"]["due_at"] == "2024-10-10T16:00:00+00:00"  # the start of 2024-10-11, the day after the last
        assert event["data"]["recorded_at"] == "2025-03-01T02:00:00+00:00"
        assert event["data"]["lag_seconds"] == int((at("2025-03-01") - at("2024-10-11", 0)).total_seconds())

    def test_the_deadline_view_lists_what_the_history_implies(self, running: Container) -> None:
        c = running
        z = case.granted()
        c.app.save(z)
        c.runner.wait_for(c.app.recorder.max_notification_id())  # type: ignore[union-attr]
        from projections.deadlines import list_deadlines

        with c.runner.read("deadlines") as tx:  # type: ignore[union-attr]
            rows = list_deadlines(tx, before=None, kind=None, zone_id=str(z.id))
        assert [(r["kind"], r["due_on"]) for r in rows] == [
            ("annual_report_overdue", "2022-01-31"),
            ("annual_report_overdue", "2023-01-31"),
            ("annual_report_overdue", "2024-01-31"),
            ("review_window_opened", "2024-07-11"),
            ("title_expired", "2024-10-11"),
            ("annual_report_overdue", "2025-01-31"),
        ]
        set_clock(c, "2022-01-10")
        c.app.file_annual_report(z.id, SONGSHAN, year=2021, statistics=ANNUAL_STATISTICS, summary="2021")
        c.runner.wait_for(c.app.last_position())  # type: ignore[union-attr]
        with c.runner.read("deadlines") as tx:  # type: ignore[union-attr]
            keys = [r["key"] for r in list_deadlines(tx, before=None, kind=None, zone_id=str(z.id))]
        assert "annual_report_overdue:2021" not in keys  # moot once the report is filed


class TestWorkingDays:
    def test_a_notice_from_the_friday_before_national_day_2026(self, running: Container) -> None:
        # 2026: Mid-Autumn 25–27 Sep and National Day 1–7 Oct off; Sun 20 Sep and Sat 10 Oct worked (调休)
        app = running.app
        assert app.notice_period(date(2026, 9, 25)) == (date(2026, 10, 9), 5)  # 28, 29, 30 Sep, 8, 9 Oct
        assert app.notice_period(date(2026, 9, 18)) == (date(2026, 9, 23), 5)  # 18, Sun 20, 21, 22, 23 Sep
        assert app.notice_period(date(2026, 9, 30), 4) == (date(2026, 10, 10), 4)  # Sat 10 Oct is a working day

    def test_a_notice_in_a_year_without_calendar_data_is_refused(self, running: Container) -> None:
        z = case.assessed()
        running.app.save(z)
        set_clock(running, f"{running.app.calendar.last_year + 1}-03-01")  # type: ignore[attr-defined]
        before = running.app.recorder.max_notification_id()
        with pytest.raises(CalendarDataMissingError):
            running.app.publish_notice(z.id, BUREAU, text="公示")
        assert running.app.recorder.max_notification_id() == before


class TestOneSweeper:
    def test_only_the_lock_holder_sweeps_and_a_standby_takes_over(
        self, persistent_store: StoreFactory, tmp_path: Path
    ) -> None:
        url = persistent_store.new_url()
        a = make_container(url, tmp_path / "a", start="2022-02-01")
        b = make_container(url, tmp_path / "b", start="2022-02-01")
        first = DeadlineScheduler(a, lock=leader_lock(a.settings.persistence_env(), tmp_path))
        second = DeadlineScheduler(b, lock=leader_lock(b.settings.persistence_env(), tmp_path))
        try:
            a.app.save(case.granted())
            assert [f["key"] for f in first.tick()] == ["annual_report_overdue:2021"]
            assert second.tick() == [] and second.sweeps == 0  # standing by
            first.lock.release()  # the holder dies
            b.clock.set(at("2023-02-01"))  # type: ignore[attr-defined]
            assert [f["key"] for f in second.tick()] == ["annual_report_overdue:2022"]
            assert first.tick() == []  # the old holder is now the standby
        finally:
            first.lock.release()
            second.lock.release()
            a.close()
            b.close()

    def test_the_metrics_show_leader_and_standby_the_sweep_and_how_late_each_deadline_was(
        self, persistent_store: StoreFactory, tmp_path: Path
    ) -> None:
        from prometheus_client import CollectorRegistry

        from scheduler.metrics import SchedulerMetrics

        url = persistent_store.new_url()
        a = make_container(url, tmp_path / "a", start="2022-02-01")
        b = make_container(url, tmp_path / "b", start="2022-02-01")
        ra, rb = CollectorRegistry(), CollectorRegistry()
        first = DeadlineScheduler(
            a, lock=leader_lock(a.settings.persistence_env(), tmp_path), metrics=SchedulerMetrics(ra)
        )
        second = DeadlineScheduler(
            b, lock=leader_lock(b.settings.persistence_env(), tmp_path), metrics=SchedulerMetrics(rb)
        )
        try:
            a.app.save(case.granted())
            assert [f["key"] for f in first.tick()] == ["annual_report_overdue:2021"] and second.tick() == []
            assert ra.get_sample_value("zonecase_scheduler_leader") == 1
            assert rb.get_sample_value("zonecase_scheduler_leader") == 0
            assert (ra.get_sample_value("zonecase_scheduler_last_sweep_timestamp_seconds") or 0) > 0
            assert rb.get_sample_value("zonecase_scheduler_last_sweep_timestamp_seconds") == 0
            kind = {"kind": "annual_report_overdue"}
            assert ra.get_sample_value("zonecase_deadlines_recorded_total", kind) == 1
            # due at the end of 2022-01-31 (Asia/Shanghai), recorded at 10:00 on 2022-02-01: 10 hours late
            assert ra.get_sample_value("zonecase_deadline_last_recording_lag_seconds") == 10 * 3600
            assert ra.get_sample_value("zonecase_deadline_recording_lag_seconds_count", kind) == 1
        finally:
            first.lock.release()
            second.lock.release()
            a.close()
            b.close()

    def test_two_schedulers_racing_record_every_deadline_exactly_once(
        self, persistent_store: StoreFactory, tmp_path: Path
    ) -> None:
        """Two sweepers that both believe they lead (no lock), ticking together while a simulated
        clock runs through the whole term: the zones refuse every second copy."""
        url = persistent_store.new_url()
        a = make_container(url, tmp_path / "a", start="2021-10-12")
        b = make_container(url, tmp_path / "b", start="2021-10-12")

        class Always:
            def acquire(self) -> bool:
                return True

            def release(self) -> None:
                pass

        try:
            zones = [case.granted() for _ in range(6)]
            a.app.save(*zones)
            a.start_views(poll_interval=0.1)
            b.start_views(poll_interval=0.1)
            sweepers = [DeadlineScheduler(a, lock=Always()), DeadlineScheduler(b, lock=Always())]
            day = at("2021-10-12")
            while day < at("2025-03-01"):
                for c in (a, b):
                    c.clock.set(day)  # type: ignore[attr-defined]
                threads = [threading.Thread(target=s.tick) for s in sweepers]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
                day += timedelta(days=45)
            fired = [f["key"] for s in sweepers for f in s.fired]
            for z in zones:
                keys = deadline_keys(a, z.id)
                assert sorted(keys) == sorted(
                    [
                        "annual_report_overdue:2021",
                        "annual_report_overdue:2022",
                        "annual_report_overdue:2023",
                        "review_window_opened:1",
                        "title_expired:1",
                    ]
                ), keys
            assert len(fired) == 6 * 5  # what the two sweepers report recording, together
        finally:
            a.close()
            b.close()


def test_the_file_lock_is_exclusive_between_holders(tmp_path: Path) -> None:
    one, two = FileLeaderLock(tmp_path / "x.lock"), FileLeaderLock(tmp_path / "x.lock")
    assert one.acquire() and one.acquire()
    assert not two.acquire()
    one.release()
    assert two.acquire()
    two.release()


def test_a_sweeper_killed_mid_sweep_and_restarted_loses_nothing_and_repeats_nothing(
    persistent_store: StoreFactory, tmp_path: Path
) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    url = persistent_store.new_url()
    c = make_container(url, tmp_path, start="2021-10-12")
    zones = [case.granted() for _ in range(80)]
    c.app.save(*zones)
    start = c.app.recorder.max_notification_id() or 0
    expected = len(zones) * 6  # per zone: 3 reports overdue, the window, the expiry, and the revocation

    def recorded() -> int:  # counted, not subtracted: a killed insert leaves a gap in the log's positions
        return len(c.app.recorder.select_notifications(start=start + 1, limit=10 * expected))

    env = {k: v for k, v in os.environ.items() if not k.startswith("ZONECASE_")}
    env.update(ZONECASE_DATABASE_URL=url, ZONECASE_DATA_DIR=str(tmp_path / "data"))
    command = [sys.executable, "-m", "zonecase", "deadlines", "sweep", "--now", "2025-03-01T10:00:00+08:00"]
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while recorded() < 20:
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            assert time.monotonic() < deadline
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)  # mid-sweep
        proc.wait(timeout=10)
    finally:
        if proc.stderr:
            proc.stderr.close()
    assert 0 < recorded() < expected, "the kill did not land mid-sweep"
    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    assert recorded() == expected
    for z in zones:
        assert collections.Counter(deadline_keys(c, z.id)) == {
            "annual_report_overdue:2021": 1,
            "annual_report_overdue:2022": 1,
            "annual_report_overdue:2023": 1,
            "review_window_opened:1": 1,
            "title_expired:1": 1,
        }
    c.close()


class TestCalendarOverride:
    def test_a_notice_in_an_entered_year_is_counted_and_records_its_source(self, running: Container) -> None:
        from ..helpers import BUREAU

        app = running.app
        year = app.calendar.last_year + 1
        z = case.assessed()
        app.save(z)
        set_clock(running, f"{year}-09-27")
        with pytest.raises(CalendarDataMissingError):
            app.notice_period(date(year, 9, 28))
        app.enter_calendar(
            BUREAU,
            year=year,
            holidays=[date(year, 10, d) for d in range(1, 8)],
            working_days=[],
            source="国办发明电 (test)",
        )
        ends, _ = app.notice_period(date(year, 9, 28))
        worked = [
            d
            for d in (date(year, 9, 28) + timedelta(n) for n in range(30))
            if d.weekday() < 5 and not date(year, 10, 1) <= d <= date(year, 10, 7)
        ]
        assert ends == worked[4]  # the entered holidays are skipped
        zone = app.publish_notice(z.id, BUREAU, text="公示", starts_on=date(year, 9, 28))
        assert zone.notice.calendar.startswith(  # type: ignore[union-attr]
            f"calendar override {year} v1 (国办发明电 (test); entered by u-bureau"
        )
        from audit.integrity import verify_store

        assert verify_store(app).ok  # the entry is in the chained, audited log too
