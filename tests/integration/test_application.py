"""The application service on every store: the same scenarios on in-memory, SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from application.core import PreconditionFailedError
from application.settings import Settings
from application.settings import SettingsError
from audit.integrity import verify_store
from audit.integrity import verify_zone
from domain import errors
from scheduler.sweep import sweep
from zonecase.wiring import Container

from ..conftest import StoreFactory
from ..conftest import make_container
from ..helpers import ANNUAL_STATISTICS
from ..helpers import BUREAU
from ..helpers import EXPERTS
from ..helpers import FIRST_BATCH_MATERIALS
from ..helpers import GOOD_PLAN
from ..helpers import GOOD_STATISTICS
from ..helpers import LEADING
from ..helpers import PUBLIC
from ..helpers import SONGSHAN
from ..helpers import admit
from ..helpers import at
from ..helpers import doc
from ..helpers import event_history
from ..helpers import file_first_batch
from ..helpers import full_scores
from ..helpers import revocation


def walk_to_grant(c: Container) -> Any:
    """Songshan Lake, first batch, from application (2021-07-15) to the bureau's recommendation and the grant
    (2021-10-11)."""
    app, clock = c.app, c.clock
    z = app.apply(
        SONGSHAN,
        name="松山湖软件和信息技术服务业集聚区",
        area_type="park",
        sites=[{"name": "core area", "address": "松山湖"}],
        batch="2021-first",
        materials=FIRST_BATCH_MATERIALS,
        self_assessment={"statistics": GOOD_STATISTICS},
        plan=GOOD_PLAN,
    )
    clock.set(at("2021-07-20"))  # type: ignore[attr-defined]
    app.formal_review(z.id, BUREAU, outcome="accepted")
    clock.set(at("2021-07-28"))  # type: ignore[attr-defined]
    admit(app, z.id)
    clock.set(at("2021-08-02"))  # type: ignore[attr-defined]
    app.appoint_panel(
        z.id,
        BUREAU,
        experts=[{"sub": e.sub, "name": e.name} for e in EXPERTS],
        methods=["document_review", "site_visit", "key_interviews", "symposium"],
    )
    clock.set(at("2021-08-20"))  # type: ignore[attr-defined]
    for e in EXPERTS:
        app.file_scores(z.id, e, scores=full_scores())
    clock.set(at("2021-09-01"))  # type: ignore[attr-defined]
    app.conclude_assessment(z.id, BUREAU, passed=True, report=doc("panel-report.pdf"), reasons="Report confirmed.")
    clock.set(at("2021-09-24"))  # type: ignore[attr-defined]
    z = app.publish_notice(z.id, BUREAU, text="松山湖集聚区公示", starts_on=at("2021-09-27").date() + timedelta(days=0))
    assert z.notice.ends_on == date(2021, 10, 8)  # National Day week skipped on the Chinese calendar
    clock.set(at("2021-09-28"))  # type: ignore[attr-defined]
    _, oid = app.raise_objection(
        z.id, PUBLIC, objector_name="Li Lei", contact="li@example.org", text="Revenue overstated."
    )
    clock.set(at("2021-10-11"))  # type: ignore[attr-defined]
    app.resolve_objection(z.id, BUREAU, objection_id=oid, outcome="dismissed", reasons="Audited accounts agree.")
    app.recommend(z.id, BUREAU, document=doc("recommendation.pdf"), reasons="经公示无异议，提请授予。")
    return app.grant(z.id, LEADING, announcement_no="东制造〔2021〕8号")


class TestLifecycleOnEveryStore:
    def test_a_zone_is_carried_to_its_grant_and_the_store_reproduces_it(self, container: Container) -> None:
        z = walk_to_grant(container)
        assert z.status == "granted"
        assert z.version == 14
        stored = container.app.get_zone(z.id)
        assert stored.state() == z.state()
        history = event_history(container.app, z.id)
        assert [h["type"] for h in history][:2] == ["Applied", "FormallyAccepted"]
        assert history[-1]["actor"] == LEADING.as_dict()
        assert history[-1]["prev_hash"] == history[-2]["hash"]
        assert verify_store(container.app).ok
        assert verify_store(container.app).events_checked == 2 + 14  # the call's publication and the case, the zone's

    def test_the_state_at_any_past_instant(self, container: Container) -> None:
        z = walk_to_grant(container)
        app = container.app
        assert app.as_of(z.id, at("2021-07-15", 11)).status == "applied"
        assert app.as_of(z.id, at("2021-09-30")).status == "in_notice"
        assert len(app.as_of(z.id, at("2021-09-30")).objections) == 1
        assert app.as_of(z.id, at("2021-10-11", 11)).status == "granted"
        with pytest.raises(errors.ZoneNotFoundError):
            app.as_of(z.id, at("2021-07-14"))

    def test_three_years_of_reports_a_failed_review_rectification_and_revocation(self, container: Container) -> None:
        z = walk_to_grant(container)
        app, clock = container.app, container.clock
        for year in (2021, 2022, 2023):
            clock.set(at(f"{year + 1}-01-20"))  # type: ignore[attr-defined]
            app.file_annual_report(z.id, SONGSHAN, year=year, statistics=ANNUAL_STATISTICS, summary="…")
            app.evaluate_annual_report(z.id, BUREAU, year=year, rating="pass", comments="Tracked.")
        clock.set(at("2024-07-11"))  # type: ignore[attr-defined]
        assert [f["kind"] for f in sweep(app)] == ["review_window_opened"]
        assert sweep(app) == []  # a second sweep fires nothing
        app.request_review(z.id, SONGSHAN)
        clock.set(at("2024-09-01"))  # type: ignore[attr-defined]
        app.decide_review(z.id, BUREAU, passed=False, reasons="Revenue did not double.")
        clock.set(at("2024-10-12"))  # type: ignore[attr-defined]
        assert [f["kind"] for f in sweep(app)] == ["title_expired"]
        assert app.get_zone(z.id).status == "rectifying"
        clock.set(at("2025-02-01"))  # type: ignore[attr-defined]
        assert [f["key"] for f in sweep(app)] == ["annual_report_overdue:2024"]
        app.submit_rectification(z.id, SONGSHAN, summary="Three new platforms.")
        clock.set(at("2025-03-01"))  # type: ignore[attr-defined]
        z = app.decide_review(z.id, BUREAU, passed=False, reasons="Still short.")
        assert z.status == "revoked"
        with pytest.raises(errors.IllegalTransitionError):
            app.file_annual_report(z.id, SONGSHAN, year=2024, statistics=ANNUAL_STATISTICS, summary="late")
        assert app.get_zone(z.id).state() == z.state()
        assert verify_zone(app, z.id).ok

    def test_a_refused_command_records_nothing(self, container: Container) -> None:
        z = walk_to_grant(container)
        app = container.app
        before = app.recorder.max_notification_id()
        with pytest.raises(errors.TooEarlyError):
            app.request_review(z.id, SONGSHAN)
        with pytest.raises(errors.InvalidValueError):
            app.revoke(z.id, BUREAU, **revocation("other"))
        with pytest.raises(errors.NotPermittedError):
            app.revoke(z.id, SONGSHAN, **revocation())
        assert app.recorder.max_notification_id() == before

    def test_if_match_version(self, container: Container) -> None:
        z = walk_to_grant(container)
        app = container.app
        with pytest.raises(PreconditionFailedError) as info:
            app.revoke(z.id, BUREAU, **revocation(), expected_version=z.version - 1)
        assert info.value.details["current_version"] == z.version
        assert app.get_zone(z.id).version == z.version
        assert app.revoke(z.id, BUREAU, **revocation(), expected_version=z.version).status == "revoked"

    def test_unknown_zone_and_unknown_batch(self, container: Container) -> None:
        import uuid

        with pytest.raises(errors.ZoneNotFoundError):
            container.app.formal_review(uuid.uuid4(), BUREAU, outcome="accepted")
        with pytest.raises(errors.InvalidValueError, match="2021-first"):
            container.app.apply(
                SONGSHAN,
                name="x",
                area_type="park",
                sites=[{"name": "a"}],
                batch="2099",
                materials=[],
                self_assessment={"statistics": {"revenue": 1}},
            )

    def test_unknown_documents_are_refused_when_a_document_store_is_wired(
        self, store: StoreFactory, tmp_path: Path
    ) -> None:
        from application.clock import SettableClock
        from application.service import ZoneApplication
        from application.settings import Settings
        from domain.conditions import load_batches
        from domain.indicators import load_indicator_system

        known = {FIRST_BATCH_MATERIALS[0]["sha256"]}
        env = Settings(database_url=store.new_url(), data_dir=tmp_path).persistence_env()
        from application.store import ensure_postgres_schema

        ensure_postgres_schema(env)
        app = ZoneApplication(
            env,
            clock=SettableClock(at("2021-07-15")),
            system=load_indicator_system(),
            batches=load_batches(),
            document_exists=known.__contains__,
        )
        try:
            with pytest.raises(errors.InvalidValueError) as info:
                app.apply(
                    SONGSHAN,
                    name="x",
                    area_type="park",
                    sites=[{"name": "a"}],
                    batch="2021-first",
                    materials=FIRST_BATCH_MATERIALS,
                    self_assessment={"statistics": {"revenue": 1}},
                )
            assert info.value.errors == [
                {"loc": ["materials", 1, "sha256"], "msg": "no document with this hash has been uploaded"}
            ]
            assert app.recorder.max_notification_id() in (None, 0)
        finally:
            app.close()


class TestConcurrency:
    """Two processes on one store: a conflicting write is retried once on fresh state, then reported."""

    @pytest.fixture
    def pair(self, persistent_store: StoreFactory, tmp_path: Path) -> Iterator[tuple[Container, Container]]:
        url = persistent_store.new_url()
        a = make_container(url, tmp_path / "a")
        b = make_container(url, tmp_path / "b")
        yield a, b
        a.close()
        b.close()

    def _assessing(self, c: Container) -> Any:
        z = file_first_batch(c.app)
        c.app.formal_review(z.id, BUREAU, outcome="accepted")
        admit(c.app, z.id)
        return c.app.appoint_panel(
            z.id, BUREAU, experts=[{"sub": e.sub, "name": e.name} for e in EXPERTS], methods=["site_visit"]
        )

    def test_a_conflict_is_retried_once_on_fresh_state(self, pair: tuple[Container, Container]) -> None:
        a, b = pair
        z = self._assessing(a)
        calls: list[int] = []

        def act(zone: Any, now: Any) -> None:
            calls.append(zone.version)
            if len(calls) == 1:  # another process records a score sheet meanwhile
                b.app.file_scores(z.id, EXPERTS[1], scores=full_scores())
            zone.file_scores(actor=EXPERTS[0], at=now, scores=full_scores(), comment="", system=a.app.system)

        zone = a.app.run(z.id, act)
        assert calls == [z.version, z.version + 1]
        assert set(zone.panel.sheets) == {EXPERTS[0].sub, EXPERTS[1].sub}  # type: ignore[union-attr]
        assert a.app.get_zone(z.id).state() == zone.state()

    def test_a_second_conflict_is_reported_and_nothing_of_it_recorded(self, pair: tuple[Container, Container]) -> None:
        a, b = pair
        z = self._assessing(a)
        others = iter(EXPERTS[1:])

        def act(zone: Any, now: Any) -> None:
            b.app.file_scores(z.id, next(others), scores=full_scores())
            zone.file_scores(actor=EXPERTS[0], at=now, scores=full_scores(), comment="", system=a.app.system)

        with pytest.raises(errors.VersionConflictError):
            a.app.run(z.id, act)
        assert set(a.app.get_zone(z.id).panel.sheets) == {EXPERTS[1].sub, EXPERTS[2].sub}  # type: ignore[union-attr]


class TestZonesKeptLoaded:
    """A process keeps the zones it loaded (the library's aggregate cache, ``ZONECASE_ZONE_CACHE``) and brings each
    up to date from the store before every use: another process's events are never missed, and a refused or
    conflicting command leaves nothing behind in the zone it keeps."""

    pair = TestConcurrency.pair
    _assessing = TestConcurrency._assessing

    def test_the_cache_is_on_and_bounded(self, pair: tuple[Container, Container]) -> None:
        a, _ = pair
        assert a.app.repository.cache is not None and a.app.repository.fastforward
        assert a.app.env["AGGREGATE_CACHE_MAXSIZE"] == "1000"
        env = Settings(database_url="memory://", zone_cache=0).persistence_env()
        assert "AGGREGATE_CACHE_MAXSIZE" not in env  # 0 turns it off (the library's 0 would mean unbounded)
        with pytest.raises(SettingsError, match="ZONECASE_ZONE_CACHE"):
            Settings.from_env({"ZONECASE_ZONE_CACHE": "many"})

    def test_another_process_s_events_are_seen_before_the_next_command(self, pair: tuple[Container, Container]) -> None:
        a, b = pair
        z = self._assessing(a)
        a.app.file_scores(z.id, EXPERTS[0], scores=full_scores())  # a keeps the zone loaded
        b.app.file_scores(z.id, EXPERTS[1], scores=full_scores())
        zone = a.app.file_scores(z.id, EXPERTS[2], scores=full_scores())
        assert set(zone.panel.sheets) == {e.sub for e in EXPERTS}  # type: ignore[union-attr]
        assert zone.version == b.app.get_zone(z.id).version
        assert verify_zone(a.app, z.id).ok

    def test_a_kept_zone_is_never_changed_in_place(self, pair: tuple[Container, Container]) -> None:
        # the library brings a kept zone up to date in place and copies it for its caller after releasing its lock:
        # a copy taken while another request was bringing the same zone up to date could hold half of an event
        a, b = pair
        z = self._assessing(a)
        a.app.get_zone(z.id)
        kept = a.app.repository.cache.get(z.id)  # type: ignore[union-attr]
        version, state = kept.version, kept.state()
        b.app.file_scores(z.id, EXPERTS[1], scores=full_scores())  # another process
        zone = a.app.get_zone(z.id)
        assert zone.version == version + 1 and EXPERTS[1].sub in zone.panel.sheets  # type: ignore[union-attr]
        assert kept.version == version and kept.state() == state  # the one handed out before is as it was
        fresher = a.app.repository.cache.get(z.id)  # type: ignore[union-attr]
        assert fresher is not kept and fresher is not zone and fresher.version == zone.version  # the next use reads on
        a.app.file_scores(z.id, EXPERTS[0], scores=full_scores())
        assert fresher.version == zone.version and a.app.get_zone(z.id).version == zone.version + 1

    def test_a_kept_call_is_never_changed_in_place_either(self, pair: tuple[Container, Container]) -> None:
        # every read of the store goes through the same repository: the public list of calls as well
        a, b = pair
        call = next(c for c in a.app.calls() if c.call_id == "2021-first")
        kept = a.app.repository.cache.get(call.id)  # type: ignore[union-attr]
        version, cases = kept.version, dict(kept.cases)
        z = file_first_batch(b.app)  # another process: the application opens a case in the call
        fresh = next(c for c in a.app.calls() if c.call_id == "2021-first")
        assert fresh.version == version + 1 and str(z.id) in fresh.cases[z.applicant_org]
        assert kept.version == version and kept.cases == cases
        assert a.app.repository.cache.get(call.id).version == version + 1  # type: ignore[union-attr]

    def test_a_refused_command_leaves_the_kept_zone_as_it_was(self, pair: tuple[Container, Container]) -> None:
        a, _ = pair
        z = self._assessing(a)
        before = a.app.get_zone(z.id)

        def half_done(zone: Any, now: Any) -> None:  # records one event, then is refused
            zone.file_scores(actor=EXPERTS[0], at=now, scores=full_scores(), comment="", system=a.app.system)
            raise errors.InvalidValueError("refused after the first event")

        with pytest.raises(errors.InvalidValueError):
            a.app.run(z.id, half_done)
        after = a.app.get_zone(z.id)
        assert after.version == before.version and after.state() == before.state()
        assert not after.collect_events()
        assert a.app.file_scores(z.id, EXPERTS[1], scores=full_scores()).version == before.version + 1

    def test_a_copy_to_act_on_shares_no_unsaved_event_with_the_kept_zone(
        self, pair: tuple[Container, Container]
    ) -> None:
        a, _ = pair
        z = self._assessing(a)
        first, second = a.app.get_zone(z.id), a.app.get_zone(z.id)
        assert first is not second
        first.file_scores(actor=EXPERTS[0], at=a.clock.now(), scores=full_scores(), comment="", system=a.app.system)
        assert second.panel.sheets == {} and second.version == first.version - 1  # type: ignore[union-attr]
        assert not second.collect_events()

    def test_after_the_store_was_lost_the_kept_zones_are_dropped(self, pair: tuple[Container, Container]) -> None:
        """A store can come back older than what a process keeps (a failover to a replica behind, a restore): once
        the store was lost, the kept zones are dropped (``forget_loaded``, told by application.outage), so that the
        next command acts on what the store holds — not on an event it no longer has."""
        a, _ = pair
        z = file_first_batch(a.app)
        a.app.formal_review(z.id, BUREAU, outcome="accepted")  # version 2, kept loaded
        recorder: Any = a.app.recorder
        table = recorder.events_table_name
        with recorder.datastore.transaction(commit=True) as cursor:  # the store comes back without version 2
            if a.app.env["PERSISTENCE_MODULE"] == "eventsourcing.sqlite":
                cursor.execute(f"DELETE FROM {table} WHERE originator_id = ? AND originator_version = 2", (z.id.hex,))
            else:
                from psycopg.sql import SQL
                from psycopg.sql import Identifier

                where = SQL("DELETE FROM {}.{} WHERE originator_id = %s AND originator_version = 2")
                cursor.execute(where.format(Identifier(recorder.datastore.schema), Identifier(table)), (z.id,))
        a.app.forget_loaded()
        assert a.app.get_zone(z.id).version == 1
        with pytest.raises(errors.IllegalTransitionError):  # not yet formally accepted: refused, nothing written
            admit(a.app, z.id)
