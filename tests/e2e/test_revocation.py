"""v2 over HTTP, on SQLite and PostgreSQL: revocation only on §6.6's grounds, with evidence and a public
circular; the term's last day; a rectification never submitted."""

from __future__ import annotations

import hashlib
from typing import Any

from ..helpers import ANNUAL_STATISTICS
from ..helpers import BUREAU
from ..helpers import CIRCULAR
from ..helpers import EXPERTS
from ..helpers import INSPECTOR
from ..helpers import LEADING
from ..helpers import NANCHENG
from ..helpers import SONGSHAN
from .conftest import Api
from .conftest import recommended_and_granted
from .conftest import revocation_body
from .test_lifecycle import apply
from .test_lifecycle import to_notice


def refused(api: Api, response: Any, status: int, code: str) -> dict[str, Any]:
    """The problem document of a refusal (the caller checks that nothing was recorded)."""
    assert response.status_code == status, response.text
    body = dict(response.json())
    assert body["code"] == code and body["detail"], body
    return body


def granted(api: Api, *, notice_from: str = "2021-09-27", grant_on: str = "2021-10-11") -> str:
    """Songshan Lake from its application to the grant; returns the zone's id."""
    zid = str(apply(api, SONGSHAN, "松山湖软件和信息技术服务业集聚区")["id"])
    api.set_clock(notice_from)
    to_notice(api, zid, day=notice_from)
    api.set_clock(grant_on)
    r = recommended_and_granted(api, zid)
    assert r.status_code == 200, r.text
    return zid


def test_a_revocation_is_refused_before_formal_acceptance_and_records_nothing(api: Api) -> None:
    zid = str(apply(api, SONGSHAN, "松山湖软件和信息技术服务业集聚区")["id"])
    body = revocation_body(api)
    before = api.position()
    problem = refused(api, api.post(f"/zones/{zid}/revocation", BUREAU, json=body), 409, "illegal_transition")
    assert "formally accepted" in problem["detail"] and "rejection" in problem["detail"]
    assert api.position() == before
    r = api.post(f"/zones/{zid}/formal-review", BUREAU, json={"outcome": "returned", "reasons": "Add the plan."})
    assert r.status_code == 200
    before = api.position()
    problem = refused(api, api.post(f"/zones/{zid}/revocation", BUREAU, json=body), 409, "illegal_transition")
    assert "returned" in problem["detail"]
    assert api.position() == before
    assert api.get(f"/zones/{zid}", BUREAU).json()["status"] == "returned"


def test_a_revocation_needs_the_bureau_a_ground_of_6_6_evidence_and_a_circular(api: Api) -> None:
    zid = str(apply(api, SONGSHAN, "松山湖软件和信息技术服务业集聚区")["id"])
    assert api.post(f"/zones/{zid}/formal-review", BUREAU, json={"outcome": "accepted"}).status_code == 200
    body = revocation_body(api, "concealment")
    unknown = {"sha256": "ab" * 32, "name": "never-uploaded.pdf"}
    before = api.position()
    for actor in (LEADING, SONGSHAN, NANCHENG, EXPERTS[0], INSPECTOR):
        refused(api, api.post(f"/zones/{zid}/revocation", actor, json=body), 403, "forbidden")
    assert api.post(f"/zones/{zid}/revocation", None, json=body).status_code == 401
    for bad, loc in (
        ({**body, "reason": "other"}, "reason"),
        ({**body, "reason": "dislike"}, "reason"),
        ({k: v for k, v in body.items() if k != "evidence"}, "evidence"),
        ({**body, "evidence": []}, "evidence"),
        ({**body, "evidence": [unknown]}, "evidence"),
        ({k: v for k, v in body.items() if k != "circular"}, "circular"),
        ({**body, "circular": {"number": "东工信通〔2022〕5号"}}, "circular"),
        ({**body, "circular": {"number": "", "text": "通报"}}, "circular"),
    ):
        problem = refused(api, api.post(f"/zones/{zid}/revocation", BUREAU, json=bad), 422, "validation_failed")
        assert loc in problem["errors"][0]["loc"], problem
    assert api.position() == before  # nothing recorded
    assert api.get(f"/zones/{zid}", BUREAU).json()["status"] == "accepted"

    r = api.post(f"/zones/{zid}/revocation", BUREAU, json=body)
    assert r.status_code == 200, r.text
    zone = r.json()
    assert zone["status"] == "revoked"
    assert zone["revocation"] == {
        "cause": "concealment",
        "circular": {**CIRCULAR, "text_sha256": hashlib.sha256(CIRCULAR["text"].encode()).hexdigest()},
        "details": body["details"],
        "evidence": body["evidence"],
        "revoked_on": "2021-07-15",
        "scope": "creation_qualification",  # before a grant: 取消创建资格
        "reasons": body["details"],
    }
    refused(api, api.post(f"/zones/{zid}/revocation", BUREAU, json=body), 409, "illegal_transition")


def test_after_the_grant_the_title_is_revoked_and_the_circular_is_public(api: Api) -> None:
    zid = granted(api)
    api.set_clock("2022-05-10")
    body = revocation_body(api, "statistics_duty")
    r = api.post(f"/zones/{zid}/revocation", BUREAU, json=body)
    assert r.status_code == 200, r.text
    assert r.json()["revocation"]["scope"] == "title"  # after the grant: 撤销称号
    history = api.get(f"/zones/{zid}/history", INSPECTOR).json()
    assert history[-1]["type"] == "Revoked" and history[-1]["data"]["evidence"] == body["evidence"]

    board = api.get("/notices", None).json()  # public: no token
    assert [(n["kind"], n["zone_id"]) for n in board] == [("circular", zid), ("notice", zid)]
    circular, notice = board
    assert circular["number"] == CIRCULAR["number"] and circular["text"] == CIRCULAR["text"]
    assert circular["zone_name"] == "松山湖软件和信息技术服务业集聚区" and circular["starts_on"] == "2022-05-10"
    assert circular["ground"] == "statistics_duty" and circular["scope"] == "title"
    assert circular["text_sha256"] == hashlib.sha256(CIRCULAR["text"].encode()).hexdigest()
    assert circular["in_force"] is False and circular["ends_on"] is None
    assert notice["number"] == 1 and notice["outcome"] == "granted" and notice["ends_on"] == "2021-10-08"
    assert notice["tree_head"] is not None
    assert "statistics-audit" not in str(board) and not any("objector" in k for n in board for k in n)
    assert api.get("/notices", None, params={"limit": 1, "offset": 1}).json() == [notice]

    dossier = api.get(f"/zones/{zid}/dossier", INSPECTOR).json()["revocation"]
    assert dossier["ground"] == "statistics_duty" and dossier["ground_text"] == "不履行统计义务 (§6.6)"
    assert dossier["evidence"] == body["evidence"] and dossier["circular"]["number"] == CIRCULAR["number"]
    assert (dossier["scope"], dossier["scope_recorded"]) == ("title", True)
    assert dossier["revoked_by"]["role"] == "bureau" and dossier["revoked_on"] == "2022-05-10"
    page = api.get(f"/zones/{zid}/dossier", BUREAU, headers={"Accept": "text/html"}).text
    assert "撤销 Revocation" in page and CIRCULAR["number"] in page and "statistics-audit.pdf" in page
    assert "撤销称号 title revoked" in page


def test_a_term_runs_three_years_less_a_day(api: Api) -> None:
    zid = granted(api, notice_from="2026-09-14", grant_on="2026-10-13")
    zone = api.get(f"/zones/{zid}", BUREAU).json()
    assert zone["valid_until"] == "2029-10-12"
    assert zone["term"]["expires_on"] == "2029-10-13" and zone["term"]["review_window_opens_on"] == "2029-07-13"
    deadlines = {d["kind"]: d for d in api.get("/deadlines", BUREAU, params={"kind": "title_expired"}).json()}
    assert (deadlines["title_expired"]["due_on"], deadlines["title_expired"]["due_at"]) == (
        "2029-10-13",
        "2029-10-12T16:00:00+00:00",  # 2029-10-13 00:00 in Asia/Shanghai
    )
    for year in (2026, 2027, 2028):
        api.set_clock(f"{year + 1}-01-20")
        r = api.post(
            f"/zones/{zid}/annual-reports",
            SONGSHAN,
            json={"year": year, "statistics": ANNUAL_STATISTICS, "summary": "."},
        )
        assert r.status_code == 200, r.text
    api.set_clock("2029-07-12")
    refused(api, api.post(f"/zones/{zid}/review-request", SONGSHAN), 409, "too_early")
    api.set_clock("2029-10-12", 23)  # the last day
    assert "title_expired" not in [f["kind"] for f in api.sweep()]
    api.set_clock("2029-10-13", 0)
    assert "title_expired" in [f["kind"] for f in api.sweep()]
    zone = api.get(f"/zones/{zid}", BUREAU).json()
    assert zone["status"] == "revoked" and zone["revocation"]["cause"] == "no_review_request"
    assert "scope" not in zone["revocation"] and "circular" not in zone["revocation"]  # §6.5: by the process
    assert all(n["kind"] == "notice" for n in api.get("/notices", None).json())


def test_a_rectification_never_submitted_is_decided_as_failed_at_once(api: Api) -> None:
    zid = granted(api)
    api.set_clock("2024-08-01")
    assert api.post(f"/zones/{zid}/review-request", SONGSHAN).status_code == 200
    api.set_clock("2024-09-01")
    r = api.post(f"/zones/{zid}/review", BUREAU, json={"passed": False, "reasons": "Short.", "rectification_months": 3})
    assert r.json()["status"] == "rectifying" and r.json()["review"]["rectification"]["due_on"] == "2024-12-01"
    failed = {"passed": False, "reasons": "Nothing was submitted in the rectification period."}
    api.set_clock("2024-12-01")
    before = api.position()
    problem = refused(api, api.post(f"/zones/{zid}/review", BUREAU, json=failed), 409, "illegal_transition")
    assert "rectification period" in problem["detail"]
    assert api.position() == before
    api.set_clock("2024-12-02")
    assert "rectification_overdue" in [f["kind"] for f in api.sweep()]
    before = api.position()
    refused(api, api.post(f"/zones/{zid}/review", BUREAU, json={**failed, "passed": True}), 409, "illegal_transition")
    refused(api, api.post(f"/zones/{zid}/review", SONGSHAN, json=failed), 403, "forbidden")
    refused(api, api.post(f"/zones/{zid}/review", BUREAU, json={"passed": False}), 422, "validation_failed")
    assert api.position() == before
    r = api.post(f"/zones/{zid}/review", BUREAU, json=failed)
    assert r.status_code == 200, r.text
    zone = r.json()
    assert zone["status"] == "revoked"
    assert zone["revocation"]["cause"] == "rectification_not_submitted"
    assert zone["revocation"]["reasons"] == failed["reasons"]
    assert api.get(f"/zones/{zid}/history", INSPECTOR).json()[-1]["type"] == "Revoked"
    dossier = api.get(f"/zones/{zid}/dossier", INSPECTOR).json()["revocation"]
    assert (dossier["ground"], dossier["evidence"], dossier["circular"]) == ("rectification_not_submitted", [], None)
    assert (dossier["scope"], dossier["scope_recorded"]) == ("title", False)  # by the process: none recorded
