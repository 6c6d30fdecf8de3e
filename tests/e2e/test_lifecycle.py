"""Two zones through HTTP, on SQLite and PostgreSQL: one granted, reported for three years, reviewed,
failed, rectified and revoked; one objected to during its notice and sent back to assessment."""

from __future__ import annotations

import itertools
from typing import Any

from domain.values import Actor

from ..helpers import ANNUAL_STATISTICS
from ..helpers import BUREAU
from ..helpers import EXPERTS
from ..helpers import GOOD_PLAN
from ..helpers import GOOD_STATISTICS
from ..helpers import INSPECTOR
from ..helpers import LEADING
from ..helpers import NANCHENG
from ..helpers import OTHER_TOWN
from ..helpers import SONGSHAN
from ..helpers import full_scores
from .conftest import Api
from .conftest import admit
from .conftest import objections_of
from .conftest import recommend
from .conftest import recommended_and_granted


def apply(api: Api, applicant: Actor, name: str) -> dict[str, Any]:
    plan = api.upload(applicant, f"{applicant.org}-creation-plan.pdf")
    other = api.upload(applicant, f"{applicant.org}-annex.pdf")
    body = {
        "name": name,
        "area_type": "park",
        "sites": [{"name": "core area", "address": "—"}],
        "batch": "2021-first",
        "materials": [
            {"kind": "creation_plan", **{k: plan[k] for k in ("sha256", "name")}},
            {"kind": "other", **{k: other[k] for k in ("sha256", "name")}},
        ],
        "self_assessment": {"statistics": GOOD_STATISTICS, "scores": {"1": 5, "2": 3}},
        "plan": GOOD_PLAN,
    }
    r = api.post("/zones", applicant, json=body)
    assert r.status_code == 201, r.text
    assert r.headers["location"] == f"/zones/{r.json()['id']}"
    return dict(r.json())


def to_notice(
    api: Api, zid: str, *, day: str, formal_review: bool = True, applicant: Actor | None = None, text: str | None = None
) -> dict[str, Any]:
    """Formal review (the approval to start), the assessment application and its acceptance, panel, scores,
    conclusion and notice, starting on ``day``; without ``formal_review`` from a zone sent back for reassessment."""
    ok = 200
    if formal_review:
        r = api.post(f"/zones/{zid}/formal-review", BUREAU, json={"outcome": "accepted"})
        assert r.status_code == ok, r.text
        org = r.json()["applicant_org"]
        admit(api, zid, applicant or next(a for a in (SONGSHAN, NANCHENG, OTHER_TOWN) if a.org == org))
    r = api.post(
        f"/zones/{zid}/assessment/panel",
        BUREAU,
        json={
            "experts": [{"sub": e.sub, "name": e.name} for e in EXPERTS],
            "methods": ["document_review", "site_visit"],
        },
    )
    assert r.status_code == ok, r.text
    for e in EXPERTS:
        r = api.put(f"/zones/{zid}/assessment/scores", e, json={"scores": full_scores(), "comment": "sound"})
        assert r.status_code == ok, r.text
    report = api.upload(BUREAU, f"panel-report-{zid}.pdf")
    r = api.post(
        f"/zones/{zid}/assessment/conclusion",
        BUREAU,
        json={
            "passed": True,
            "report": {"sha256": report["sha256"], "name": report["name"]},
            "reasons": "Report confirmed.",
        },
    )
    assert r.status_code == ok, r.text
    assert r.json()["assessment"]["maximum"] == 98
    r = api.post(f"/zones/{zid}/notice", BUREAU, json={"text": text or f"公示：{zid}", "starts_on": day})
    assert r.status_code == ok, r.text
    return dict(r.json())


def object_during_notice(api: Api, zid: str, uploader: Actor) -> str:
    """A member of the public objects on the second day of the notice, sending its evidence with the objection (the
    bytes ``uploader`` once uploaded, so the dossier names the same document); returns the objection's id."""
    api.set_clock("2021-09-28")
    api.upload(uploader, "evidence.pdf")
    r = api.request(
        "POST",
        f"/zones/{zid}/objections",
        None,
        data={"objector_name": "Wang Fang", "contact": "wang@example.org", "text": "Two platforms are one company."},
        files=[("evidence", ("evidence.pdf", b"%PDF-1.4 evidence.pdf", "application/pdf"))],
    )
    assert r.status_code == 201, r.text
    return str(r.json()["objection_id"])


def test_granted_reported_reviewed_failed_rectified_revoked(api: Api) -> None:
    granted_reported_reviewed_failed_rectified_revoked(api)


def test_the_same_against_a_served_process(served_api: Api) -> None:
    granted_reported_reviewed_failed_rectified_revoked(served_api)


def test_an_objection_against_a_served_process(served_api: Api) -> None:
    objected_and_sent_back(served_api)


def granted_reported_reviewed_failed_rectified_revoked(api: Api) -> None:
    z = apply(api, SONGSHAN, "松山湖软件和信息技术服务业集聚区")
    zid = z["id"]
    assert z["status"] == "applied" and z["version"] == 1
    assert api.get(f"/zones/{zid}", SONGSHAN).json()["status"] == "applied"  # read-your-writes
    api.set_clock("2021-09-24")
    z = to_notice(api, zid, day="2021-09-27")
    assert z["notice"]["ends_on"] == "2021-10-08"  # National Day 2021 skipped
    notices = api.get("/notices", None).json()
    assert [n["zone_id"] for n in notices] == [zid]
    assert not any("objector" in k for n in notices for k in n)

    api.set_clock("2021-10-08")
    assert recommend(api, zid).json()["code"] == "too_early"  # the notice runs to the end of its last day
    assert api.post(f"/zones/{zid}/grant", LEADING, json={"announcement_no": "No. 8"}).status_code == 409
    api.set_clock("2021-10-09")
    assert [f["kind"] for f in api.sweep()] == ["notice_ended"]
    r = recommended_and_granted(api, zid)
    assert r.status_code == 200, r.text
    assert r.json()["valid_until"] == "2024-10-08"  # the term's last day: 3 years less a day
    assert api.get("/notices", None).json()[0]["outcome"] == "granted"

    for year in (2021, 2022, 2023):
        api.set_clock(f"{year + 1}-01-20")
        r = api.post(
            f"/zones/{zid}/annual-reports",
            SONGSHAN,
            json={"year": year, "statistics": ANNUAL_STATISTICS, "summary": f"Work in {year}."},
        )
        assert r.status_code == 200, r.text
        r = api.post(
            f"/zones/{zid}/annual-reports/{year}/evaluation",
            BUREAU,
            json={"rating": "pass", "comments": "Tracked against the plan."},
        )
        assert r.status_code == 200, r.text
        checks = r.json()["annual_reports"][-1]["evaluation"]["checks"]
        # that year's plan targets every year; the 3-year creation targets (firm cultivation …) in the final year
        assert {c["field"] for c in checks if c["check"] == "plan_target"} == {
            k for t in GOOD_PLAN["targets"] if t["year"] == year for k in t if k != "year"
        }
        assert any(c["indicator"] == 15 and c["check"] == "threshold" for c in checks) is (year == 2023)
        assert [c["check"] for c in checks].count("matching_commitment") == 1
    assert api.sweep() == []  # every report was on time

    api.set_clock("2024-07-09")
    assert [f["kind"] for f in api.sweep()] == ["review_window_opened"]
    deadlines = api.get("/deadlines", BUREAU).json()
    assert [d["kind"] for d in deadlines][:2] == ["review_window_opened", "title_expired"]
    assert deadlines[0]["overdue"] is True and deadlines[1]["overdue"] is False
    r = api.post(f"/zones/{zid}/review-request", SONGSHAN)
    assert r.status_code == 200 and r.json()["status"] == "in_review"
    assert api.post(f"/zones/{zid}/review-request", SONGSHAN).json()["code"] == "illegal_transition"

    api.set_clock("2024-09-01")
    r = api.post(f"/zones/{zid}/review", BUREAU, json={"passed": False, "reasons": "Revenue did not double."})
    assert r.json()["status"] == "rectifying"
    api.set_clock("2024-12-01")
    r = api.post(f"/zones/{zid}/rectification", SONGSHAN, json={"summary": "Three new platforms opened."})
    assert r.json()["status"] == "in_review"
    r = api.post(f"/zones/{zid}/review", BUREAU, json={"passed": False, "reasons": "Still short of target."})
    assert r.status_code == 200 and r.json()["status"] == "revoked"
    assert (
        api.post(
            f"/zones/{zid}/annual-reports",
            SONGSHAN,
            json={"year": 2024, "statistics": ANNUAL_STATISTICS, "summary": "late"},
        ).json()["code"]
        == "illegal_transition"
    )

    history = api.get(f"/zones/{zid}/history", INSPECTOR).json()
    assert history[-1]["type"] == "Revoked" and history[-1]["actor"]["role"] == "bureau"
    assert all(h["prev_hash"] == p["hash"] for p, h in itertools.pairwise(history))
    past = api.get(f"/zones/{zid}", INSPECTOR, params={"as_of": "2022-01-01T00:00:00+08:00"}).json()
    assert past["status"] == "granted" and past["as_of"] == "2022-01-01T00:00:00+08:00"
    call = api.get("/calls/2021-first", None).json()  # the log holds the call's events too: published, the case
    assert api.get("/audit/verify", INSPECTOR).json() == {
        "ok": True,
        "events_checked": call["version"] + len(history),
        "first_bad": None,
        "problems": [],
    }
    lines = api.get("/audit/events", INSPECTOR, headers={"Accept": "application/x-ndjson"}).text.splitlines()
    assert len(lines) == call["version"] + len(history)
    assert api.get(f"/zones/{zid}/assessment", LEADING).json()["latest"]["result"]["maximum"] == 98


def test_objected_during_the_notice_and_sent_back_to_assessment(api: Api) -> None:
    objected_and_sent_back(api)


def objected_and_sent_back(api: Api) -> None:
    z = apply(api, NANCHENG, "南城软件和信息技术服务业集聚区")
    zid = z["id"]
    api.set_clock("2021-09-24")
    to_notice(api, zid, day="2021-09-27", applicant=NANCHENG)
    oid = object_during_notice(api, zid, OTHER_TOWN)
    # the public and the applicant never see who objected; the bureau and inspectors do
    for actor, sees in ((NANCHENG, False), (BUREAU, True), (INSPECTOR, True), (LEADING, False)):
        assert ("objector_name" in objections_of(api, zid, actor)[0]) is sees
    history = api.get(f"/zones/{zid}/history", NANCHENG).json()
    raised = next(h for h in history if h["type"] == "ObjectionRaised")
    assert "objector_name" not in raised["data"] and raised["actor"]["sub"] == ""
    assert "Wang Fang" not in api.get("/notices", None).text

    api.set_clock("2021-10-11")
    r = recommend(api, zid)
    assert r.status_code == 409 and r.json()["code"] == "objection_open" and "open" in r.json()["detail"]
    r = api.post(
        f"/zones/{zid}/objections/{oid}/resolution",
        BUREAU,
        json={"outcome": "upheld", "consequence": "reassess", "reasons": "Confirmed by the market regulator."},
    )
    assert r.status_code == 200 and r.json()["status"] == "assessment_accepted"
    assert api.get("/notices", None).json()[0]["outcome"] == "sent_back"
    assert api.post(f"/zones/{zid}/grant", LEADING, json={"announcement_no": "No. 9"}).status_code == 409

    api.set_clock("2021-10-18")
    z = to_notice(api, zid, day="2021-10-18", formal_review=False)
    assert z["notice"]["number"] == 2
    rounds = api.get(f"/zones/{zid}/assessment", BUREAU).json()["rounds"]
    assert [r["round"] for r in rounds] == [1, 2]
    api.set_clock("2021-10-25")
    assert recommended_and_granted(api, zid, "No. 10").json()["status"] == "granted"
