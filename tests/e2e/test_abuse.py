"""Abuse controls on the anonymous endpoints (issue 12, finding 4): rate limits per address and per zone (429 with
``Retry-After``), a size limit on objections, objections paged under the zone instead of inside it, and no way for
the public to learn whether a document is stored."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from application.settings import Settings

from ..helpers import BUREAU
from ..helpers import INSPECTOR
from ..helpers import SONGSHAN
from .conftest import Api
from .conftest import make_api
from .conftest import on_store
from .conftest import refused
from .test_grant import in_notice

OBJECTION = {"objector_name": "Wang Fang", "contact": "wang@example.org", "text": "Two platforms are one company."}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def limited(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Api]:
    """The API with the rate limits on, and low."""
    limits = {
        "rate_limits": True,
        "rate_limit_public": "5/minute",
        "rate_limit_objections": "2/minute",
        "rate_limit_zone_objections": "3/minute",
    }
    yield from on_store(request.param, tmp_path, partial(make_api, **limits))


def from_address(api: Api, host: str) -> Api:
    """The same running service, spoken to from another client address."""
    return Api(TestClient(api.client.app, client=(host, 50000), raise_server_exceptions=False))


def object_(api: Api, zid: str, actor: Any = None, **body: Any) -> Any:
    return api.post(f"/zones/{zid}/objections", actor, json={**OBJECTION, **body})


def test_rate_limits_are_on_unless_turned_off() -> None:
    assert Settings().rate_limits is True
    assert Settings.from_env({}).rate_limits is True
    assert Settings.from_env({"ZONECASE_RATE_LIMITS": "off"}).rate_limits is False


def test_public_objections_are_limited_per_address_and_per_zone(limited: Api) -> None:
    api = limited
    zid = in_notice(api)
    api.set_clock("2021-09-28")
    before = api.position()
    assert object_(api, zid, text="one").status_code == 201
    assert object_(api, zid, text="two").status_code == 201
    r = object_(api, zid, text="three")
    refused(api, r, 429, "rate_limited")
    assert 0 < int(r.headers["retry-after"]) <= 60
    assert api.position() == before + 2  # the refused one recorded nothing
    other = from_address(api, "198.51.100.7")
    assert object_(other, zid, text="four").status_code == 201  # another address has its own allowance …
    refused(other, object_(other, zid, text="five"), 429, "rate_limited")  # … but the zone's is used up
    # the bureau's registration of a letter is not the public's: not limited
    letter = {"channel": "letter", "received_at": "2021-09-28T09:00:00+08:00"}
    assert object_(api, zid, BUREAU, text="six", **letter).status_code == 201


def test_public_reads_are_limited_per_address_and_tokens_are_not(limited: Api) -> None:
    api = limited
    for path in ("/notices", "/calls", "/board", "/checkpoints/latest", "/checkpoints"):
        assert api.get(path, None).status_code != 429, path
    r = api.get("/notices", None)
    refused(api, r, 429, "rate_limited")
    assert int(r.headers["retry-after"]) > 0
    refused(api, api.get("/audit/proofs/consistency?first=1&second=1", None), 429, "rate_limited")
    refused(api, api.get("/notices", None, headers={"Authorization": "Bearer forged"}), 429, "rate_limited")
    assert api.get("/notices", BUREAU).status_code == 200  # an authenticated caller is accountable
    assert from_address(api, "198.51.100.8").get("/notices", None).status_code == 200


def test_an_objection_text_is_at_most_5000_characters(api: Api) -> None:
    zid = in_notice(api)
    api.set_clock("2021-09-28")
    before = api.position()
    refused(api, object_(api, zid, text="异" * 5001), 422, "validation_failed")
    assert api.position() == before
    assert object_(api, zid, text="异" * 5000).status_code == 201


def test_the_public_cannot_cite_stored_documents_but_uploads_its_evidence(api: Api) -> None:
    zid = in_notice(api)
    stored = api.upload(SONGSHAN, "annex.pdf")
    api.set_clock("2021-09-28")
    before = api.position()
    known = object_(api, zid, evidence=[{"sha256": stored["sha256"], "name": "annex.pdf"}])
    unknown = object_(api, zid, evidence=[{"sha256": "0" * 64, "name": "annex.pdf"}])
    # the same answer whether the document exists or not: no existence oracle
    assert refused(api, known, 422, "evidence_upload_required") == refused(
        api, unknown, 422, "evidence_upload_required"
    )
    assert api.position() == before
    r = api.request(
        "POST",
        f"/zones/{zid}/objections",
        None,
        data=OBJECTION,
        files=[("evidence", ("photo.pdf", b"%PDF-1.4 the same company", "application/pdf"))],
    )
    assert r.status_code == 201, r.text
    oid = r.json()["objection_id"]
    page = api.get(f"/zones/{zid}/objections", BUREAU).json()
    (shown,) = [o for o in page["items"] if o["objection_id"] == oid]
    assert [e["name"] for e in shown["evidence"]] == ["photo.pdf"]
    assert api.get(f"/documents/{shown['evidence'][0]['sha256']}", BUREAU).content == b"%PDF-1.4 the same company"
    r = api.request(
        "POST", f"/zones/{zid}/objections", None, data=OBJECTION, files=[("evidence", ("x.exe", b"MZ\x90\x00", "a/b"))]
    )
    refused(api, r, 415, "unsupported_media_type")
    # a token holder may still cite an uploaded document (the bureau's registration, for one)
    letter = {"channel": "letter", "received_at": "2021-09-28T09:00:00+08:00"}
    cited = object_(api, zid, BUREAU, evidence=[{"sha256": stored["sha256"], "name": "annex.pdf"}], **letter)
    assert cited.status_code == 201, cited.text


def test_the_zone_shows_counts_and_the_objections_are_paged_under_it(api: Api) -> None:
    zid = in_notice(api)
    api.set_clock("2021-09-28")
    ids = [object_(api, zid, text=f"objection {i} " + "x" * 4000).json()["objection_id"] for i in range(3)]
    r = api.post(
        f"/zones/{zid}/objections/{ids[0]}/resolution", BUREAU, json={"outcome": "dismissed", "reasons": "no basis"}
    )
    assert r.status_code == 200, r.text
    for answer in (r.json(), api.get(f"/zones/{zid}", BUREAU).json()):
        assert "objections" not in answer and "objection 1" not in str(answer)
        assert answer["objection_counts"] == {"total": 3, "open": 2, "dismissed": 1}
    page = api.get(f"/zones/{zid}/objections?limit=2&offset=1", BUREAU).json()
    assert (page["total"], page["limit"], page["offset"]) == (3, 2, 1)
    assert [o["objection_id"] for o in page["items"]] == ids[1:]
    assert page["items"][0]["objector_name"] == "Wang Fang" and page["items"][0]["text"].startswith("objection 1")
    inspector = api.get(f"/zones/{zid}/objections", INSPECTOR).json()
    assert inspector["items"][0]["contact"] == "wang@example.org"
    applicant = api.get(f"/zones/{zid}/objections", SONGSHAN).json()
    assert [o["objection_id"] for o in applicant["items"]] == ids
    assert all("objector_name" not in o and "contact" not in o for o in applicant["items"])
    refused(api, api.get(f"/zones/{zid}/objections", None), 401, "unauthorized")
    refused(api, api.get(f"/zones/{zid}/objections?limit=0", BUREAU), 422, "validation_failed")
