"""Through HTTP: objections registered by the bureau, the recommendation (提请), the grant by announcement or its
refusal, the review's checks and the renewal (继续授予), and what the dossier shows of them."""

from __future__ import annotations

from typing import Any

from ..helpers import ANNUAL_STATISTICS
from ..helpers import BUREAU
from ..helpers import INSPECTOR
from ..helpers import LEADING
from ..helpers import SONGSHAN
from .conftest import Api
from .conftest import granted_term
from .conftest import objections_of
from .conftest import recommend
from .conftest import recommended_and_granted
from .conftest import refused
from .test_lifecycle import apply
from .test_lifecycle import object_during_notice
from .test_lifecycle import to_notice

LETTER = {"objector_name": "王先生", "contact": "东城区某路 1 号", "text": "从业人员数重复统计。", "channel": "letter"}


def in_notice(api: Api) -> str:
    zid = str(apply(api, SONGSHAN, "松山湖软件和信息技术服务业集聚区")["id"])
    api.set_clock("2021-09-24")
    to_notice(api, zid, day="2021-09-27")  # through 2021-10-08
    return zid


def letter(api: Api, zid: str, received_at: str, actor: Any = BUREAU) -> Any:
    return api.post(f"/zones/{zid}/objections", actor, json={**LETTER, "received_at": received_at})


def test_the_bureau_registers_a_letter_and_upholding_another_supersedes_it(api: Api) -> None:
    zid = in_notice(api)
    oid = object_during_notice(api, zid, SONGSHAN)
    api.set_clock("2021-10-11")  # after the last day: a letter received within the notice is still registered
    before = api.position()
    refused(api, letter(api, zid, "2021-10-08T18:00:00+08:00", actor=None), 401, "unauthorized")
    refused(api, letter(api, zid, "2021-10-08T18:00:00+08:00", actor=SONGSHAN), 403, "forbidden")
    refused(api, letter(api, zid, "2021-10-09T00:00:00+08:00"), 409, "deadline_passed")
    refused(api, letter(api, zid, "2021-09-26T23:59:00+08:00"), 409, "too_early")
    refused(api, letter(api, zid, "2021-10-08T18:00:00"), 422, "validation_failed")  # no offset
    r = api.post(f"/zones/{zid}/objections", BUREAU, json={**LETTER, "channel": "fax", "received_at": "2021-10-08"})
    refused(api, r, 422, "validation_failed")
    assert api.position() == before
    r = letter(api, zid, "2021-10-08T18:00:00+08:00")
    assert r.status_code == 201, r.text
    lid = r.json()["objection_id"]
    shown = {o["objection_id"]: o for o in objections_of(api, zid, BUREAU)}
    assert (shown[lid]["channel"], shown[lid]["received_at"]) == ("letter", "2021-10-08T10:00:00+00:00")
    assert "objector_name" not in objections_of(api, zid, SONGSHAN)[1]

    r = api.post(
        f"/zones/{zid}/objections/{oid}/resolution",
        BUREAU,
        json={"outcome": "upheld", "consequence": "reassess", "reasons": "Confirmed by the market regulator."},
    )
    assert r.status_code == 200 and r.json()["status"] == "assessment_accepted", r.text
    assert r.json()["objection_counts"] == {"total": 2, "upheld": 1, "superseded": 1}
    objections = {o["objection_id"]: o for o in objections_of(api, zid, BUREAU)}
    assert (objections[lid]["status"], objections[lid]["superseded_by"]) == ("superseded", oid)
    r = api.post(f"/zones/{zid}/objections/{lid}/resolution", BUREAU, json={"outcome": "dismissed", "reasons": "x"})
    assert "superseded" in refused(api, r, 409, "illegal_transition")["detail"]

    d = api.get(f"/zones/{zid}/dossier", INSPECTOR).json()
    registered = next(o for o in d["objections"] if o["objection_id"] == lid)
    assert (registered["channel"], registered["registered_by"]["role"], registered["superseded_by"]) == (
        "letter",
        "bureau",
        oid,
    )
    page = api.get(f"/zones/{zid}/dossier", BUREAU, headers={"Accept": "text/html"}).text
    assert "来信 letter" in page and f"superseded by {oid}" in page


def test_recommendation_grant_refusal_and_the_announcement(api: Api) -> None:
    zid = in_notice(api)
    api.set_clock("2021-10-08")
    assert "2021-10-09" in refused(api, recommend(api, zid), 409, "too_early")["detail"]
    api.set_clock("2021-10-11")
    grant = {"announcement_no": "东制造〔2021〕8号"}
    assert (
        "提请"
        in refused(api, api.post(f"/zones/{zid}/grant", LEADING, json=grant), 409, "illegal_transition")["detail"]
    )
    refused(api, api.post(f"/zones/{zid}/grant-refusal", LEADING, json={"reasons": "x"}), 409, "illegal_transition")
    refused(api, api.post(f"/zones/{zid}/recommendation", LEADING, json={}), 403, "forbidden")
    r = api.post(
        f"/zones/{zid}/recommendation", BUREAU, json={"document": {"sha256": "0" * 64, "name": "x.pdf"}, "reasons": "x"}
    )
    refused(api, r, 422, "validation_failed")  # never uploaded
    r = recommend(api, zid)
    assert r.status_code == 200 and r.json()["status"] == "recommended", r.text
    assert r.json()["recommendations"][0]["kind"] == "grant"
    refused(api, recommend(api, zid), 409, "illegal_transition")  # once is enough
    refused(api, api.post(f"/zones/{zid}/grant", LEADING, json={**grant, "term_years": 5}), 422, "validation_failed")
    r = api.post(f"/zones/{zid}/grant-refusal", LEADING, json={"reasons": "请先补充审计报告。"})
    assert r.status_code == 200 and r.json()["status"] == "assessed"

    api.set_clock("2021-10-20")
    document = api.upload(LEADING, "announcement.pdf")
    r = recommended_and_granted(
        api,
        zid,
        announced_on="2021-10-20",
        document={"sha256": document["sha256"], "name": "announcement.pdf"},
        term_years=5,
        term_reasons="领导小组决定首期五年。",
    )
    assert r.status_code == 200, r.text
    z = r.json()
    assert (z["status"], z["valid_until"], z["term"]["term_years"]) == ("granted", "2026-10-19", 5)
    assert [rec["outcome"] for rec in z["recommendations"]] == ["refused", "granted"]

    d = api.get(f"/zones/{zid}/dossier", INSPECTOR).json()
    assert [r["outcome"] for r in d["recommendations"]] == ["refused", "granted"]
    assert d["recommendations"][1]["recommended_by"]["role"] == "bureau"
    (announcement,) = d["announcements"]
    assert (announcement["announcement_no"], announcement["announced_on"], announcement["granted_by"]["role"]) == (
        "东制造〔2021〕8号",
        "2021-10-20",
        "leading_group",
    )
    page = api.get(f"/zones/{zid}/dossier", BUREAU, headers={"Accept": "text/html"}).text
    assert "提请 Recommendations" in page and "公告 Announcements" in page and "announcement.pdf" in page


def test_a_passed_review_keeps_the_title_and_the_renewal_continues_from_the_old_end(api: Api) -> None:
    zid = in_notice(api)
    api.set_clock("2021-10-11")
    assert recommended_and_granted(api, zid).json()["valid_until"] == "2024-10-10"
    for year in (2021, 2022, 2023):
        api.set_clock(f"{year + 1}-01-20")
        body = {"year": year, "statistics": ANNUAL_STATISTICS, "summary": f"{year}"}
        assert api.post(f"/zones/{zid}/annual-reports", SONGSHAN, json=body).status_code == 200
    api.set_clock("2024-08-01")
    assert api.post(f"/zones/{zid}/review-request", SONGSHAN).status_code == 200
    api.set_clock("2024-09-01")
    r = api.post(f"/zones/{zid}/review", BUREAU, json={"passed": True, "reasons": "复核通过。"})
    assert r.status_code == 200 and r.json()["status"] == "review_passed", r.text
    checks = r.json()["review"]["checks"]
    assert {c["field"] for c in checks} == {"revenue", "firms_over_20m", "new_firms_over_20m", "new_platforms"}
    assert all(c["statistics_year"] == 2023 for c in checks)
    api.set_clock("2024-10-11")
    assert [f["kind"] for f in api.sweep()] == ["title_expired"]
    assert api.get(f"/zones/{zid}", BUREAU).json()["status"] == "review_passed"  # not revoked
    api.set_clock("2024-11-15")
    r = recommended_and_granted(api, zid, "东制造〔2024〕15号")
    granted_term(r, number=2, granted_on="2024-10-11", valid_until="2027-10-10", renewal=True)


def test_a_rectification_never_submitted_revokes_at_once_on_a_failed_review(api: Api) -> None:
    zid = in_notice(api)
    api.set_clock("2021-10-11")
    recommended_and_granted(api, zid)
    api.set_clock("2024-08-01")
    api.post(f"/zones/{zid}/review-request", SONGSHAN)
    r = api.post(
        f"/zones/{zid}/review", BUREAU, json={"passed": False, "reasons": "未达目标。", "rectification_months": 1}
    )
    assert r.json()["status"] == "rectifying"
    refused(
        api, api.post(f"/zones/{zid}/review", BUREAU, json={"passed": False, "reasons": "x"}), 409, "illegal_transition"
    )
    api.set_clock("2024-09-02")
    assert "rectification_overdue" in [f["kind"] for f in api.sweep()]
    r = api.post(f"/zones/{zid}/review", BUREAU, json={"passed": False, "reasons": "整改期满未提交整改。"})
    assert r.status_code == 200 and r.json()["status"] == "revoked"
    assert r.json()["revocation"]["cause"] == "rectification_not_submitted"
