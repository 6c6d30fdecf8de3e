"""Calls for applications (申报通知) over HTTP, on SQLite and PostgreSQL: the bureau publishes and corrects
them, anyone reads them with their history; applications are taken only in a call's window and one open
case per organisation and call. Every refusal is a problem and records nothing."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from domain.call import call_aggregate_id

from ..conftest import StoreFactory
from ..conftest import make_container
from ..helpers import BUREAU
from ..helpers import EXPERTS
from ..helpers import INSPECTOR
from ..helpers import LEADING
from ..helpers import NANCHENG
from ..helpers import OTHER_TOWN
from ..helpers import SONGSHAN
from ..helpers import at
from ..helpers import file_first_batch
from .conftest import Api
from .conftest import first_batch_application
from .conftest import make_api
from .conftest import refused

TEST_BATCHES = str(Path(__file__).parent.parent / "data" / "batches-test.json")
SECOND: dict[str, Any] = {
    "id": "2021-second",
    "name": "第二批次 (a second call)",
    "opens_on": "2021-08-01",
    "closes_on": "2021-08-31",
    "creation_period": {"start_year": 2022, "end_year": 2024},
    "members": [],
    "members_only": False,
    "exempt_materials": [],
    "other_materials_required": ["园区发展情况说明 park development statement"],
    "pass_mark": 60,
}


def published(api: Api, **changes: Any) -> dict[str, Any]:
    r = api.post("/calls", BUREAU, json={**SECOND, **changes, "reason": "东工信〔2021〕30号"})
    assert r.status_code == 201, r.text
    return dict(r.json())


def apply(api: Api, actor: Any, batch: str = "2021-first") -> Any:
    return api.post("/zones", actor, json=first_batch_application(api, batch=batch))


def events_of(api: Api, topic: str) -> int:
    return sum(1 for _ in api.app.notifications_of(topic))


# --- the import on first start ----------------------------------------------------------------


def test_the_first_batch_is_imported_on_first_start_and_anyone_may_read_it(api: Api) -> None:
    (first,) = api.get("/calls", None).json()  # no token
    assert {k: first[k] for k in ("id", "opens_on", "closes_on", "members_only", "exempt_materials")} == {
        "id": "2021-first",
        "opens_on": None,  # the calls file gives no window: applications are taken at any time
        "closes_on": None,
        "members_only": True,
        "exempt_materials": ["application_form", "application_report", "self_assessment", "coordination_plan"],
    }
    assert first["members"] == [{"org": "songshan-lake", "name": "松山湖"}, {"org": "nancheng", "name": "南城"}]
    assert first["creation_period"] == {"start_year": 2021, "end_year": 2023}
    (entry,) = first["history"]
    assert entry["kind"] == "published" and entry["actor"]["role"] == "system" and entry["reason"]
    assert api.get("/calls/2021-first", None).json() == first
    assert api.get("/calls/2021-first", INSPECTOR).json() == first  # a token changes nothing


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    factory = StoreFactory(request.param, tmp_path)
    yield factory.new_url()
    factory.cleanup()


def test_a_second_start_imports_nothing_and_a_new_calls_file_only_what_is_new(store_url: str, tmp_path: Path) -> None:
    first = make_api(store_url, tmp_path)
    api = next(first)
    assert [c["id"] for c in api.get("/calls", None).json()] == ["2021-first"]
    imported = api.position()
    first.close()  # the process stops …
    again = make_api(store_url, tmp_path)  # … and starts again on the same store
    api = next(again)
    assert api.position() == imported and [c["id"] for c in api.get("/calls", None).json()] == ["2021-first"]
    again.close()
    later = make_api(store_url, tmp_path, batches_file=TEST_BATCHES)  # ZONECASE_BATCHES_FILE names a later call
    api = next(later)
    calls = api.get("/calls", None).json()
    assert [c["id"] for c in calls] == ["2021-first", "2024-second"] and api.position() == imported + 1
    assert (calls[1]["opens_on"], calls[1]["closes_on"], calls[1]["members_only"]) == (None, None, False)
    api.set_clock("2030-01-01")  # no window: never too late
    assert apply(api, OTHER_TOWN, "2024-second").status_code == 201
    later.close()


# --- publishing -------------------------------------------------------------------------------


def test_the_bureau_publishes_a_call(api: Api) -> None:
    r = api.post("/calls", BUREAU, json={**SECOND, "reason": "东工信〔2021〕30号"})
    assert r.status_code == 201, r.text
    assert r.headers["location"] == "/calls/2021-second" and r.headers["etag"] == '"1"'
    call = r.json()
    assert {k: call[k] for k in SECOND} == {**SECOND, "pass_mark": 60.0}
    (entry,) = call["history"]
    assert entry == {
        "seq": 1,
        "kind": "published",
        "at": "2021-07-15T02:00:00+00:00",
        "actor": BUREAU.as_dict(),
        "reason": "东工信〔2021〕30号",
        "changed": [],
    }
    assert api.get("/calls/2021-second", None).json() == call
    assert [c["id"] for c in api.get("/calls", None).json()] == ["2021-first", "2021-second"]
    minimal = api.post("/calls", BUREAU, json={"id": "x", "name": "x", "creation_period": SECOND["creation_period"]})
    assert minimal.status_code == 201, minimal.text
    assert {k: minimal.json()[k] for k in ("opens_on", "closes_on", "members", "pass_mark")} == {
        "opens_on": None,
        "closes_on": None,
        "members": [],
        "pass_mark": None,
    }


def test_only_the_bureau_publishes(api: Api) -> None:
    before = api.position()
    for actor in (SONGSHAN, EXPERTS[0], LEADING, INSPECTOR):
        refused(api, api.post("/calls", actor, json=SECOND), 403, "forbidden")
    refused(api, api.post("/calls", None, json=SECOND), 401, "unauthorized")
    assert api.position() == before
    assert api.get("/calls/2021-second", None).status_code == 404


@pytest.mark.parametrize(
    ("changes", "loc"),
    [
        ({"creation_period": None}, ["creation_period"]),
        ({"closes_on": "2021-07-31"}, ["closes_on"]),  # before it opens (the domain's rule)
        ({"opens_on": "2021-02-30"}, ["opens_on"]),
        ({"creation_period": {"start_year": 2024, "end_year": 2022}}, ["creation_period", "end_year"]),
        ({"members_only": True}, ["members_only"]),  # for named members only, and none named
        ({"exempt_materials": ["photos"]}, ["exempt_materials", 0]),
        ({"pass_mark": 101}, ["pass_mark"]),
        ({"id": "a b"}, ["id"]),
        ({"id": None}, ["id"]),
        ({"window": "August"}, ["window"]),  # a misspelt field is an error
        ({"members": [{"org": "changan"}]}, ["members", 0, "name"]),
    ],
)
def test_a_bad_call_is_refused_and_records_nothing(api: Api, changes: dict[str, Any], loc: list[Any]) -> None:
    before = api.position()
    body = {k: v for k, v in {**SECOND, **changes}.items() if v is not None}
    problem = refused(api, api.post("/calls", BUREAU, json=body), 422, "validation_failed")
    assert loc in [e["loc"] for e in problem["errors"]], problem
    assert api.position() == before


def test_an_id_taken_is_refused(api: Api) -> None:
    published(api)
    before = api.position()
    for taken in ("2021-second", "2021-first"):  # the bureau's, and the one imported on start
        problem = refused(api, api.post("/calls", BUREAU, json={**SECOND, "id": taken}), 409, "already_exists")
        assert taken in problem["detail"]
    assert api.position() == before


def test_an_idempotency_key_replays_the_publication(api: Api) -> None:
    key = {"Idempotency-Key": "call-2"}
    first = api.post("/calls", BUREAU, json=SECOND, headers=key)
    assert first.status_code == 201
    position = api.position()
    again = api.post("/calls", BUREAU, json=SECOND, headers=key)
    assert again.status_code == 201 and again.json() == first.json()
    assert again.headers["idempotency-replayed"] == "true" and again.headers["location"] == "/calls/2021-second"
    refused(api, api.post("/calls", BUREAU, json={**SECOND, "id": "other"}, headers=key), 422, "idempotency_key_reused")
    assert api.position() == position


# --- correcting -------------------------------------------------------------------------------


def test_the_bureau_corrects_a_call_with_its_reason_and_the_history_shows_who_when_why(api: Api) -> None:
    published(api)
    api.set_clock("2021-07-20")
    body = {**SECOND, "closes_on": "2021-09-30", "reason": "申报期限延长至9月30日"}
    r = api.put("/calls/2021-second", BUREAU, json=body, headers={"If-Match": '"1"'})
    assert r.status_code == 200, r.text
    assert r.json()["closes_on"] == "2021-09-30" and r.json()["version"] == 2 and r.headers["etag"] == '"2"'
    history = api.get("/calls/2021-second", None).json()["history"]
    assert [h["kind"] for h in history] == ["published", "corrected"]
    assert history[1] == {
        "seq": 2,
        "kind": "corrected",
        "at": "2021-07-20T02:00:00+00:00",
        "actor": BUREAU.as_dict(),
        "reason": "申报期限延长至9月30日",
        "changed": ["closes_on"],
    }
    no_id = {k: v for k, v in body.items() if k != "id"}  # the path names the call; the body need not
    r = api.put("/calls/2021-second", BUREAU, json={**no_id, "pass_mark": 70, "reason": "及格线调整"})
    assert r.status_code == 200 and r.json()["pass_mark"] == 70
    first = api.get("/calls/2021-first", None).json()  # the imported call is the bureau's to correct too
    fix = {k: first[k] for k in SECOND if k != "id"}
    r = api.put("/calls/2021-first", BUREAU, json={**fix, "closes_on": "2021-12-31", "reason": "首批申报截止"})
    assert r.status_code == 200 and [h["actor"]["role"] for h in r.json()["history"]] == ["system", "bureau"]


def test_a_correction_is_refused_without_reason_role_change_or_current_version(api: Api) -> None:
    published(api)
    before = api.position()
    body = {**SECOND, "closes_on": "2021-09-30", "reason": "延期"}
    no_reason = {k: v for k, v in body.items() if k != "reason"}
    problem = refused(api, api.put("/calls/2021-second", BUREAU, json=no_reason), 422, "validation_failed")
    assert ["reason"] in [e["loc"] for e in problem["errors"]]
    for reason in ("", "   "):
        problem = refused(
            api, api.put("/calls/2021-second", BUREAU, json={**body, "reason": reason}), 422, "validation_failed"
        )
        assert ["reason"] in [e["loc"] for e in problem["errors"]]
    unchanged = {**SECOND, "reason": "再次发布"}
    refused(api, api.put("/calls/2021-second", BUREAU, json=unchanged), 422, "validation_failed")
    refused(api, api.put("/calls/2021-second", BUREAU, json={**body, "id": "other"}), 422, "validation_failed")
    refused(
        api, api.put("/calls/2021-second", BUREAU, json={**body, "closes_on": "2021-07-01"}), 422, "validation_failed"
    )
    for actor in (SONGSHAN, EXPERTS[0], LEADING, INSPECTOR):
        refused(api, api.put("/calls/2021-second", actor, json=body), 403, "forbidden")
    refused(api, api.put("/calls/2021-second", None, json=body), 401, "unauthorized")
    refused(api, api.put("/calls/2099", BUREAU, json={**body, "id": "2099"}), 404, "not_found")
    stale = api.put("/calls/2021-second", BUREAU, json=body, headers={"If-Match": '"7"'})
    assert refused(api, stale, 412, "precondition_failed")["current_version"] == 1
    assert api.position() == before
    assert api.get("/calls/2021-second", None).json()["history"][-1]["kind"] == "published"
    refused(api, api.get("/calls/2099", None), 404, "not_found")


# --- filing in a call -------------------------------------------------------------------------


def test_applications_are_taken_only_in_the_window(api: Api) -> None:
    published(api)  # 2021-08-01 … 2021-08-31, open to any town
    before = api.position()
    problem = refused(api, apply(api, OTHER_TOWN, "2021-second"), 409, "too_early")
    assert "2021-08-01" in problem["detail"]
    api.set_clock("2021-09-01", hour=0)  # midnight in Dongguan: the day after the last
    problem = refused(api, apply(api, OTHER_TOWN, "2021-second"), 409, "deadline_passed")
    assert "2021-08-31" in problem["detail"]
    assert api.position() == before
    api.set_clock("2021-08-31", hour=23)  # the last day, to its end
    assert apply(api, OTHER_TOWN, "2021-second").status_code == 201
    api.set_clock("2021-09-10")
    body = {**SECOND, "closes_on": "2021-09-30", "reason": "申报期限延长"}
    assert api.put("/calls/2021-second", BUREAU, json=body).status_code == 200
    r = apply(api, NANCHENG, "2021-second")  # the corrected window counts from now on
    assert r.status_code == 201 and r.json()["batch"] == "2021-second"
    assert r.json()["creation_period"] == {"start_year": 2022, "end_year": 2024}


def test_one_open_case_per_organisation_and_call(api: Api) -> None:
    first = apply(api, SONGSHAN)
    assert first.status_code == 201
    before = api.position()
    problem = refused(api, apply(api, SONGSHAN), 409, "duplicate_application")
    assert problem["open_case"] == first.json()["id"] and first.json()["id"] in problem["detail"]
    assert api.position() == before
    assert apply(api, NANCHENG).status_code == 201  # another organisation
    published(api)
    api.set_clock("2021-08-02")
    assert apply(api, SONGSHAN, "2021-second").status_code == 201  # another call


def test_a_new_case_after_a_rejection_names_the_case_it_follows(api: Api) -> None:
    first = apply(api, SONGSHAN).json()["id"]
    api.set_clock("2021-07-16")
    r = api.post(f"/zones/{first}/formal-review", BUREAU, json={"outcome": "returned", "reasons": "补充材料"})
    assert r.json()["status"] == "returned"
    refused(api, apply(api, SONGSHAN), 409, "duplicate_application")  # returned is still open
    annex = api.upload(SONGSHAN, "targets.pdf")
    annex_ref = {"kind": "other", "sha256": annex["sha256"], "name": "targets.pdf"}
    r = api.post(f"/zones/{first}/supplements", SONGSHAN, json={"materials": [annex_ref]})
    assert r.status_code == 200, r.text
    r = api.post(f"/zones/{first}/formal-review", BUREAU, json={"outcome": "rejected", "reasons": "不符合条件"})
    assert r.json()["status"] == "rejected"
    api.set_clock("2021-07-20")
    second = apply(api, SONGSHAN)
    assert second.status_code == 201
    applied = api.get(f"/zones/{second.json()['id']}/history", SONGSHAN).json()[0]
    assert applied["type"] == "Applied" and applied["data"]["previous_case"] == first
    first_applied = api.get(f"/zones/{first}/history", SONGSHAN).json()[0]
    assert "previous_case" not in first_applied["data"]  # a first case records what it always did
    before = api.position()
    assert refused(api, apply(api, SONGSHAN), 409, "duplicate_application")["open_case"] == second.json()["id"]
    assert api.position() == before


def test_two_applications_at_the_same_moment_by_one_organisation_record_one(
    api: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two service processes on one store, each reading the call before the other saved its case: the one
    that saves second conflicts on the call's version, is retried once on fresh state, and is refused."""
    settings = api.client.app.state.container.settings  # type: ignore[attr-defined]
    other = make_container(settings.database_url, tmp_path / "other")  # the second process
    app, body = api.app, first_batch_application(api)
    meanwhile: list[Any] = []
    read_call = app._call_for

    def stale(filing: Callable[[], Any]) -> Callable[[str], Any]:
        def read(batch: str) -> Any:
            call = read_call(batch)
            if not meanwhile:  # between this read and this save, the other process files and saves
                meanwhile.append(filing())
            return call

        return read

    try:
        monkeypatch.setattr(app, "_call_for", stale(lambda: file_first_batch(other.app, SONGSHAN)))
        problem = refused(api, api.post("/zones", SONGSHAN, json=body), 409, "duplicate_application")
        (winner,) = meanwhile
        assert problem["open_case"] == str(winner.id)
        assert list(app.zone_ids()) == [winner.id]  # exactly one recorded
        assert app.call("2021-first").cases_of("songshan-lake") == (str(winner.id),)
        assert events_of(api, "domain.call:Call.CaseOpened") == 1

        # two organisations at the same moment: the one that conflicts is retried on fresh state; both recorded
        monkeypatch.undo()
        published(api)
        api.set_clock("2021-08-02")
        other.clock.set(at("2021-08-02"))  # type: ignore[attr-defined]
        meanwhile.clear()
        monkeypatch.setattr(app, "_call_for", stale(lambda: file_first_batch(other.app, NANCHENG, batch="2021-second")))
        r = api.post("/zones", OTHER_TOWN, json=first_batch_application(api, batch="2021-second"))
        assert r.status_code == 201, r.text
        cases = app.call("2021-second").cases
        assert cases == {"nancheng": (str(meanwhile[0].id),), "changan": (r.json()["id"],)}
    finally:
        other.close()


def test_a_calls_record_is_not_a_zone(sqlite_api: Api) -> None:
    api, call = sqlite_api, call_aggregate_id("2021-first")  # its id is known to anyone: uuid5 of the call's
    before = api.position()
    for path in ("", "/history", "/assessment", "/dossier", "?as_of=2099-01-01T00:00:00%2B08:00"):
        refused(api, api.get(f"/zones/{call}{path}", INSPECTOR), 404, "not_found")
    refused(api, api.post(f"/zones/{call}/formal-review", BUREAU, json={"outcome": "accepted"}), 404, "not_found")
    assert api.get("/zones", INSPECTOR).json() == []
    assert api.position() == before
