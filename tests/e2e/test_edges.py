"""The edges hold (issue 12): text and numbers checked at the door, a view that survives a value it cannot
store, tokens that expire, instants in range, and the security headers every answer carries."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest

from ..helpers import BUREAU
from ..helpers import GOOD_PLAN
from ..helpers import INSPECTOR
from ..helpers import SONGSHAN
from .conftest import SECRET
from .conftest import Api
from .conftest import apply_first_batch
from .conftest import first_batch_application
from .conftest import refused

# --- 1. text and numbers --------------------------------------------------------------------------------


def post_escaped(api: Api, path: str, body: Any, actor: Any = SONGSHAN) -> Any:
    """POSTs ``body`` as ASCII JSON (``\\u0000``, ``\\ud800``: as an attacker's client would send them)."""
    return api.post(path, actor, content=json.dumps(body), headers={"Content-Type": "application/json"})


BAD_TEXT = ["a\x00b", "a\x1b[31mb", "a\x7fb", "a\u202eb", "a\u2066b", "a\u2069b", "a\ud800b"]


@pytest.mark.parametrize("bad", BAD_TEXT, ids=lambda s: f"U+{ord(s[1]):04X}")
def test_controls_and_bidi_overrides_are_refused_in_any_text_field(sqlite_api: Api, bad: str) -> None:
    api = sqlite_api
    before = api.position()
    body = first_batch_application(api)
    for changed in (
        {"name": bad},
        {"sites": [{"name": bad}]},
        {"sites": [{"name": "core", "address": bad}]},
        {"materials": [{**body["materials"][0], "name": bad}]},
        {"self_assessment": {"statistics": body["self_assessment"]["statistics"], "scores": {bad: 1}}},
    ):
        r = post_escaped(api, "/zones", {**body, **changed})
        refused(api, r, 422, "validation_failed")
    zid = apply_first_batch(api)
    before = api.position()
    r = post_escaped(api, f"/zones/{zid}/formal-review", {"outcome": "returned", "reasons": f"see {bad}"}, BUREAU)
    refused(api, r, 422, "validation_failed")
    assert api.position() == before


def test_tab_newline_and_carriage_return_are_text(sqlite_api: Api) -> None:
    api = sqlite_api
    zid = apply_first_batch(api)
    reasons = "第一条\t缺少材料\r\n第二条\n补充"
    r = api.post(f"/zones/{zid}/formal-review", BUREAU, json={"outcome": "returned", "reasons": reasons})
    assert r.status_code == 200, r.text
    assert r.json()["formal_review"]["reasons"] == reasons


@pytest.mark.parametrize(
    "figures",
    [
        {"revenue": True},
        {"revenue": "12000000000"},
        {"revenue": 12e9, "employees": "5"},
        {"revenue": 1, "bachelor_share": True},
    ],
)
def test_numbers_are_numbers(sqlite_api: Api, figures: dict[str, Any]) -> None:
    api = sqlite_api
    before = api.position()
    body = first_batch_application(api, self_assessment={"statistics": figures})
    refused(api, api.post("/zones", SONGSHAN, json=body), 422, "validation_failed")
    plan = {"base_year": "2020", "targets": []}
    refused(api, api.post("/zones", SONGSHAN, json=first_batch_application(api, plan=plan)), 422, "validation_failed")
    assert api.position() == before


def test_the_aggregate_refuses_controls_too() -> None:
    from domain.errors import InvalidValueError

    from ..unit.case import applied

    for overrides in ({"name": "a\x00b"}, {"sites": [{"name": "core\u202e"}]}, {"name": "ok\u2067"}):
        with pytest.raises(InvalidValueError):
            applied(**overrides)


def test_a_value_a_view_cannot_store_does_not_stop_the_views(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """An event written past the rules (a NUL in a zone's name, which PostgreSQL's text cannot hold): the
    views escape it, log it and keep going."""
    from domain import intake

    monkeypatch.setattr(intake, "UNPRINTABLE", re.compile(r"(?!)"), raising=False)  # the rule switched off
    body = first_batch_application(api, plan=GOOD_PLAN)
    body.pop("batch")
    zone = api.app.apply(SONGSHAN, batch="2021-first", **{**body, "name": "a\x00b"})
    monkeypatch.undo()
    zid = str(zone.id)
    r = api.post(f"/zones/{zid}/formal-review", BUREAU, json={"outcome": "accepted"})
    assert r.status_code == 200, r.text
    listed = api.get("/zones", BUREAU).json()
    assert [z["id"] for z in listed] == [zid]
    assert listed[0]["name"] == "a\ufffdb"  # the view's copy is escaped; the event keeps what was sent
    assert api.get(f"/zones/{zid}", BUREAU).json()["status"] == "accepted"
    assert api.get("/ready", None).status_code == 200


# --- 6. tokens ------------------------------------------------------------------------------------------


def token(**claims: Any) -> dict[str, str]:
    now = int(time.time())
    base = {"sub": "u-b", "role": "bureau", "iat": now, "exp": now + 3600}
    full = {k: v for k, v in {**base, **claims}.items() if v is not None}
    return {"Authorization": "Bearer " + jwt.encode(full, SECRET, algorithm="HS256")}


def test_tokens_expire(sqlite_api: Api) -> None:
    api = sqlite_api
    assert api.client.get("/zones", headers=token()).status_code == 200
    for bad in (
        token(exp=None),
        token(exp=int(time.time()) + 13 * 3600),
        token(exp=int(time.time()) + 100 * 365 * 86400),
    ):
        refused(api, api.client.get("/zones", headers=bad), 401, "invalid_token")
    for sub in ("system", "public", "zonecase-scheduler"):
        refused(api, api.client.get("/zones", headers=token(sub=sub)), 401, "invalid_token")


def test_a_token_checked_before_still_expires_and_a_forged_one_is_still_refused(sqlite_api: Api) -> None:
    """Tokens checked lately are remembered (api.auth.VerifiedTokens): the second use of one must still expire on
    time, and a token differing in one character is checked from scratch."""
    api = sqlite_api
    expiring = token(exp=int(time.time()) + 2)
    assert api.client.get("/zones", headers=expiring).status_code == 200
    assert api.client.get("/zones", headers=expiring).status_code == 200  # remembered
    head, payload, signature = expiring["Authorization"].split(".")
    forged = {"Authorization": ".".join((head, payload, signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")))}
    refused(api, api.client.get("/zones", headers=forged), 401, "invalid_token")
    time.sleep(2.1)
    problem = refused(api, api.client.get("/zones", headers=expiring), 401, "invalid_token")
    assert "expired" in problem["detail"]


@pytest.fixture
def issuer_api(tmp_path: Path) -> Iterator[Api]:
    """The API checking the issuer and audience, with a 2-hour maximum lifetime."""
    from fastapi.testclient import TestClient

    from application.settings import Settings
    from zonecase.wiring import create_app

    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'store.sqlite'}",
        data_dir=tmp_path / "data",
        jwt_secret=SECRET,
        allow_time_travel=True,
        scheduler_interval=0,
        jwt_issuer="dg-idp",
        jwt_audience="zonecase",
        token_max_hours=2,
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        api = Api(client)
        api.token_options = {"issuer": "dg-idp", "audience": "zonecase"}
        yield api


def test_issuer_audience_and_lifetime_when_configured(issuer_api: Api) -> None:
    api = issuer_api
    now = int(time.time())
    good = {"iss": "dg-idp", "aud": "zonecase"}
    assert api.client.get("/zones", headers=token(**good)).status_code == 200
    for bad in ({}, {"iss": "dg-idp"}, {"aud": "zonecase"}, {**good, "iss": "other"}, {**good, "aud": "other"}):
        refused(api, api.client.get("/zones", headers=token(**bad)), 401, "invalid_token")
    refused(api, api.client.get("/zones", headers=token(**good, exp=now + 3 * 3600)), 401, "invalid_token")


def test_minted_tokens_obey_the_rules() -> None:
    from api.auth import mint_token

    claims = jwt.decode(mint_token(SECRET, sub="u", role="bureau"), SECRET, algorithms=["HS256"])
    assert claims["exp"] - claims["iat"] == 12 * 3600
    for sub in ("system", "public", "zonecase-scheduler"):
        with pytest.raises(ValueError, match="reserved"):
            mint_token(SECRET, sub=sub, role="bureau")


# --- 7. instants out of range ------------------------------------------------------------------------------


def test_instants_out_of_range_are_422_not_500(sqlite_api: Api) -> None:
    api = sqlite_api
    for path in (
        "/deadlines?before=9999-12-31T23:59:59-14:00",
        "/deadlines?as_of=0001-01-01T00:00:00%2B14:00",
        "/audit/inspection?to=9999-12-31T23:59:59%2B00:00",
        "/audit/inspection?from=0001-01-01T00:00:00%2B01:00",
        "/zones?as_of=9999-12-31T23:59:59-14:00",
    ):
        refused(api, api.get(path, INSPECTOR), 422, "validation_failed")
    for now in ("0001-01-01T00:00:00+00:00", "9999-12-31T23:59:59-14:00"):
        refused(api, api.put("/admin/clock", BUREAU, json={"now": now}), 422, "validation_failed")
    zid = apply_first_batch(api, plan=GOOD_PLAN)
    refused(api, api.get(f"/zones/{zid}?as_of=0001-01-01T00:00:00%2B14:00", BUREAU), 422, "validation_failed")
    before = api.position()
    r = api.post(f"/zones/{zid}/formal-review", BUREAU, json={"outcome": "accepted"})
    assert r.status_code == 200
    before = api.position()
    for day in ("0001-01-01", "9999-12-31"):
        body = {"kind": "supervision", "visited_on": day, "findings": "x"}
        refused(api, api.post(f"/zones/{zid}/supervision", BUREAU, json=body), 422, "validation_failed")
    assert api.position() == before


# --- 12. headers -------------------------------------------------------------------------------------------


def test_every_answer_carries_the_security_headers(sqlite_api: Api) -> None:
    api = sqlite_api
    for r in (api.get("/health", None), api.get("/zones", None), api.get("/nowhere", None)):
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["referrer-policy"] == "no-referrer"
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"]


def test_documents_are_attachments(sqlite_api: Api) -> None:
    api = sqlite_api
    polyglot = b"%PDF-1.4\n<html><script>alert(1)</script></html>"
    document = api.upload(SONGSHAN, 'x"<b>.html', polyglot)
    r = api.get(f"/documents/{document['sha256']}", SONGSHAN)
    assert r.status_code == 200
    disposition = r.headers["content-disposition"]
    assert re.fullmatch(r'attachment; filename="[A-Za-z0-9._-]+"; filename\*=UTF-8\'\'[A-Za-z0-9._%-]+', disposition)
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["cache-control"] == "no-store"


def test_personal_data_is_not_cached_and_the_dossier_page_has_a_policy(sqlite_api: Api) -> None:
    api = sqlite_api
    zid = apply_first_batch(api)
    for path in (f"/zones/{zid}", f"/zones/{zid}/history", f"/zones/{zid}/dossier"):
        r = api.get(path, BUREAU)
        assert r.status_code == 200, r.text
        assert r.headers["cache-control"] == "no-store", path
    page = api.get(f"/zones/{zid}/dossier?format=html", BUREAU)
    assert page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
    assert page.headers["cache-control"] == "no-store"


def test_if_match_compares_strongly(sqlite_api: Api) -> None:
    api = sqlite_api
    zid = apply_first_batch(api, plan=GOOD_PLAN)
    before = api.position()
    r = api.post(f"/zones/{zid}/formal-review", BUREAU, json={"outcome": "accepted"}, headers={"If-Match": 'W/"1"'})
    refused(api, r, 412, "precondition_failed")
    assert api.position() == before
    r = api.post(f"/zones/{zid}/formal-review", BUREAU, json={"outcome": "accepted"}, headers={"If-Match": '"1"'})
    assert r.status_code == 200, r.text


# --- 5. request headers (in the application; a served process: test_edges_served.py) ------------------------


def test_oversize_headers_are_431_whatever_server_runs_the_app(sqlite_api: Api) -> None:
    api = sqlite_api
    assert api.get("/health", None, headers={"X-Big": "a" * 8000}).status_code == 200
    r = api.get("/health", None, headers={"X-Big": "a" * 9000, "X-Other": "b" * 8000})
    refused(api, r, 431, "headers_too_large")


def test_no_method_and_path_is_served_by_two_routes(sqlite_api: Api) -> None:
    """The routers are included most-requested first (api.main): safe only while no request could match two
    routes, so that their order decides nothing but the time taken to find the one."""
    from fastapi.routing import APIRoute
    from fastapi.routing import _IncludedRouter

    def routes(candidates: Any) -> Iterator[APIRoute]:
        for r in candidates:
            if isinstance(r, _IncludedRouter):
                yield from routes(r.original_router.routes)
            elif isinstance(r, APIRoute):
                yield r

    found = list(routes(sqlite_api.client.app.router.routes))  # type: ignore[attr-defined]
    assert len(found) > 50
    values = ["00000000-0000-0000-0000-000000000001", "1", "x", "latest", "public-key", "record", "export"]
    served_twice = set()
    for route in found:
        for value in values:
            path = re.sub(r"\{[^}]+\}", value, route.path)
            matching = [r.path for r in found if r.path_regex.match(path) and r.methods & route.methods]
            if len(matching) > 1:
                served_twice.add((path, tuple(matching)))
    assert not served_twice


def test_a_405_names_every_method_the_path_supports(sqlite_api: Api) -> None:
    """RFC 9110: a 405 carries ``Allow`` with the resource's methods — all of them, also when two routers serve the
    path (``GET /zones`` in the queries, ``POST /zones`` in the commands)."""
    r = sqlite_api.client.request("DELETE", "/zones")
    assert r.status_code == 405 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == "method_not_allowed" and r.headers["allow"] == "GET, POST"
    r = sqlite_api.client.request("DELETE", "/board")
    assert r.status_code == 405 and r.headers["allow"] == "GET"
