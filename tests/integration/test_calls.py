"""The calls of the calls file come into the store once, when the service first starts: on a new store, on
a store of before calls (the v1 fixture, whose zones keep loading and projecting as they did), and when two
processes start at the same moment."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from application.calls import PUBLISHED
from application.settings import Settings
from audit.integrity import verify_store
from domain import errors
from domain.call import call_aggregate_id
from zonecase.wiring import build
from zonecase.wiring import create_app

from ..conftest import StoreFactory
from ..helpers import NANCHENG
from ..helpers import SONGSHAN
from ..helpers import file_first_batch
from .test_stored_v1 import EVENTS
from .test_stored_v1 import EXPECTED
from .test_stored_v1 import ZONES
from .test_stored_v1 import read_views
from .test_stored_v1 import settings_for
from .test_stored_v1 import views_file

OPEN = ("applied", "returned", "accepted", "assessing", "assessed", "in_notice", "granted", "in_review", "rectifying")


def test_two_processes_starting_at_the_same_moment_import_the_call_once(
    persistent_store: StoreFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = persistent_store.new_url()
    first = build(Settings(database_url=url, data_dir=tmp_path / "a"), check_documents=False)
    second = build(Settings(database_url=url, data_dir=tmp_path / "b"), check_documents=False)
    try:
        monkeypatch.setattr(first.app, "find_call", lambda call_id: None)  # it looked before the other saved
        assert second.app.import_calls() == ["2021-first"]
        assert first.app.import_calls() == []  # its own publication conflicts, and the start goes on
        assert second.app.import_calls() == []  # and a later start finds it there
        assert len(list(second.app.notifications_of(PUBLISHED))) == 1
        assert second.app.recorder.max_notification_id() == 1
    finally:
        first.close()
        second.close()


def test_the_v1_store_gets_the_first_batch_with_the_cases_filed_in_it(store_copy: Path, tmp_path: Path) -> None:
    settings = replace(settings_for(store_copy, tmp_path), jwt_secret="x" * 32, scheduler_interval=0)  # no sweep
    started = build(settings, check_documents=False)  # the sample documents are referenced, not uploaded
    with TestClient(create_app(container=started)) as client:
        app = started.app
        (call,) = client.get("/calls").json()
        assert call["id"] == "2021-first" and call["history"][0]["actor"]["role"] == "system"
        assert call["version"] == 1 + len(ZONES)  # published, and a case for each zone filed before
        assert list(app.zone_ids()) == list(ZONES)  # the call is not a zone
        zones = {zone_id: app.get_zone(zone_id) for zone_id in ZONES}
        recorded = app.call("2021-first")
        for org in ("songshan-lake", "nancheng"):
            assert recorded.cases_of(org) == tuple(str(i) for i, z in zones.items() if z.applicant_org == org)
        # Nancheng's latest open case: rectifying; its returned one is open too. Songshan Lake's: under assessment
        still_open = {
            org: next(str(i) for i, z in reversed(zones.items()) if z.applicant_org == org and z.status in OPEN)
            for org in ("songshan-lake", "nancheng")
        }
        for actor in (SONGSHAN, NANCHENG):
            with pytest.raises(errors.DuplicateApplicationError) as info:
                file_first_batch(app, actor)
            assert info.value.details["open_case"] == still_open[actor.org]
        head = app.recorder.max_notification_id()
        assert head == EVENTS + 1 + len(ZONES)
        result = verify_store(app)
        assert result.ok and result.events_checked == head
        assert started.runner is not None
        started.runner.wait_for(head, timeout=30)
    started.close()
    with TestClient(create_app(settings)) as client:  # a second start imports nothing
        assert client.app.state.container.app.recorder.max_notification_id() == head  # type: ignore[attr-defined]

    got = read_views(views_file(store_copy, tmp_path))
    for table, spec in EXPECTED["tables"].items():
        if table != "view_history":
            assert got[table] == spec["rows"], f"{table} differs from v1"
    history = got["view_history"]
    assert history[:EVENTS] == EXPECTED["tables"]["view_history"]["rows"]  # the log's leaves, v1's first
    assert {r["zone_id"] for r in history[EVENTS:]} == {str(call_aggregate_id("2021-first"))}
    assert [r["type"] for r in history[EVENTS:]] == ["Published"] + ["CaseOpened"] * len(ZONES)
