"""Two full lifecycles through HTTP, on SQLite and PostgreSQL, read as the policy document (东制造办〔2021〕1号):

- a first-batch zone: the 2021 call, approved to start and created 2021–2023, assessed on its own application,
  recommended by the bureau (提请), granted by the leading group's announcement (公告), reporting every year,
  reviewed (复核) against its plan and renewed by a second announcement (继续授予);
- a zone of a later call: the §4.3 scale waived with reasons, an objection by letter registered by the bureau,
  one upheld and the other superseded, reassessed, recommended, declined once, recommended again, granted, a failed
  review, a rectification never submitted, revoked (§6.4); and a second zone revoked on §6.6's grounds with
  evidence and a public circular (通报) on ``GET /notices``.
"""

from __future__ import annotations

from typing import Any

from domain.values import Actor

from ..helpers import ANNUAL_STATISTICS
from ..helpers import BUREAU
from ..helpers import EXPERTS
from ..helpers import GOOD_PLAN
from ..helpers import GOOD_STATISTICS
from ..helpers import INSPECTOR
from ..helpers import LEADING
from ..helpers import OTHER_TOWN
from ..helpers import SONGSHAN
from ..helpers import full_scores
from .conftest import Api
from .conftest import objections_of
from .conftest import revocation_body

DALANG = Actor("u-dl", "applicant", "dalang", "Dalang IT office")


def ok(api: Api, method: str, path: str, actor: Actor | None, body: Any = None, status: int = 200) -> Any:
    """One act that must succeed; its answer."""
    r = api.request(method, path, actor, json=body)
    assert r.status_code == status, f"{method} {path}: {r.status_code} {r.text}"
    return r.json()


def ref(api: Api, actor: Actor, name: str) -> dict[str, str]:
    """``name`` uploaded by ``actor``, as a document reference."""
    d = api.upload(actor, name)
    return {"sha256": d["sha256"], "name": d["name"]}


def apply(api: Api, applicant: Actor, name: str, call: str, statistics: dict[str, Any], kinds: list[str]) -> str:
    materials = [{"kind": k, **ref(api, applicant, f"{applicant.org}-{k}.pdf")} for k in kinds]
    body = {
        "name": name,
        "area_type": "town",
        "sites": [{"name": "core area", "address": "—"}],
        "batch": call,
        "materials": materials,
        "self_assessment": {"statistics": statistics},
        "plan": {**GOOD_PLAN, "matching_ratio": 0.5},
    }
    return str(ok(api, "POST", "/zones", applicant, body, status=201)["id"])


def assess(api: Api, zid: str, applicant: Actor, day: str, *, requested: bool = True) -> dict[str, Any]:
    """The assessment application and its acceptance (§3.2.1), the panel, every sheet, the conclusion (§3.2.2–3)."""
    api.set_clock(day)
    if requested:
        documents = [ref(api, applicant, f"{zid}-targets-reached.pdf")]
        z = ok(
            api,
            "POST",
            f"/zones/{zid}/assessment-request",
            applicant,
            {"summary": "目标已达成。", "statistics": ANNUAL_STATISTICS, "documents": documents},
        )
        assert z["status"] == "assessment_requested"
        z = ok(
            api,
            "POST",
            f"/zones/{zid}/assessment-request/decision",
            BUREAU,
            {"outcome": "accepted", "reasons": "材料齐全，予以受理。"},
        )
        assert z["status"] == "assessment_accepted"
    experts = [{"sub": e.sub, "name": e.name, "org": e.org} for e in EXPERTS]
    z = ok(
        api,
        "POST",
        f"/zones/{zid}/assessment/panel",
        BUREAU,
        {"experts": experts, "methods": ["document_review", "site_visit"]},
    )
    assert z["status"] == "assessing"
    for e in EXPERTS:
        ok(api, "PUT", f"/zones/{zid}/assessment/scores", e, {"scores": full_scores(), "comment": "sound"})
    report = ref(api, BUREAU, f"{zid}-panel-report-{day}.pdf")
    z = ok(
        api,
        "POST",
        f"/zones/{zid}/assessment/conclusion",
        BUREAU,
        {"passed": True, "report": report, "reasons": "专家组报告确认。"},
    )
    assert z["status"] == "assessed"
    return dict(z)


def notice(api: Api, zid: str, day: str, starts_on: str) -> dict[str, Any]:
    api.set_clock(day)
    z = ok(api, "POST", f"/zones/{zid}/notice", BUREAU, {"text": f"公示：{zid}", "starts_on": starts_on})
    assert z["status"] == "in_notice"
    return dict(z)


def recommend(api: Api, zid: str, day: str) -> dict[str, Any]:
    api.set_clock(day)
    body = {"document": ref(api, BUREAU, f"{zid}-recommendation-{day}.pdf"), "reasons": "经公示无异议，提请授予。"}
    z = ok(api, "POST", f"/zones/{zid}/recommendation", BUREAU, body)
    assert z["status"] == "recommended"
    return dict(z)


def grant(api: Api, zid: str, day: str, number: str) -> dict[str, Any]:
    api.set_clock(day)
    body = {"announcement_no": number, "announced_on": day, "document": ref(api, LEADING, f"{number}.pdf")}
    z = ok(api, "POST", f"/zones/{zid}/grant", LEADING, body)
    assert z["status"] == "granted"
    return dict(z)


def report_years(api: Api, zid: str, applicant: Actor, years: range) -> None:
    for year in years:
        api.set_clock(f"{year + 1}-01-20")
        body = {"year": year, "statistics": ANNUAL_STATISTICS, "summary": f"{year}年度工作总结"}
        ok(api, "POST", f"/zones/{zid}/annual-reports", applicant, body)
        z = ok(
            api,
            "POST",
            f"/zones/{zid}/annual-reports/{year}/evaluation",
            BUREAU,
            {"rating": "pass", "comments": "按计划推进。"},
        )
        assert z["annual_reports"][-1]["evaluation"]["checks"]


def test_two_lifecycles_as_the_document_reads(api: Api) -> None:
    first_batch_zone(api)
    later_call_zones(api)
    assert api.get("/audit/verify", INSPECTOR).json()["ok"] is True


def first_batch_zone(api: Api) -> None:
    # §3.1.1 the 2021 call (the first batch: Songshan Lake and Nancheng, items (3) and (4) only)
    zid = apply(
        api, SONGSHAN, "松山湖软件和信息技术服务业集聚区", "2021-first", GOOD_STATISTICS, ["creation_plan", "other"]
    )
    # §3.1.2 formal review: the approval to start (批复同意启动) opens the creation period (创建期, §1.1)
    api.set_clock("2021-07-20")
    approval = ref(api, BUREAU, "关于同意松山湖启动创建的批复.pdf")
    z = ok(
        api,
        "POST",
        f"/zones/{zid}/formal-review",
        BUREAU,
        {"outcome": "accepted", "reasons": "材料齐全。", "approval": approval},
    )
    assert z["status"] == "accepted"
    assert z["creation_period"]["starts_on"] == "2021-07-20" and z["creation_period"]["ends_on"] == "2023-12-31"
    # §3.4 creation: a progress report, a supervision visit
    api.set_clock("2022-03-01")
    ok(
        api,
        "POST",
        f"/zones/{zid}/progress-reports",
        SONGSHAN,
        {"summary": "2021年创建进展。", "statistics": ANNUAL_STATISTICS},
    )
    api.set_clock("2022-06-01")
    visit = {"kind": "supervision", "visited_on": "2022-06-01", "findings": "按方案推进。"}
    ok(api, "POST", f"/zones/{zid}/supervision", BUREAU, visit)
    # §3.2 the assessment, on the zone's own application; §3.3 the notice, then the recommendation (提请)
    assess(api, zid, SONGSHAN, "2023-06-01")
    notice(api, zid, "2023-09-28", "2023-10-09")
    api.set_clock("2023-10-14")
    assert "notice_ended" in [f["kind"] for f in api.sweep()]
    recommend(api, zid, "2023-10-16")
    z = grant(api, zid, "2023-10-20", "东制造〔2023〕8号")
    assert z["valid_until"] == "2026-10-19"  # 3 years less a day
    api.set_clock("2024-01-02")  # the creation period's end passes with the title granted: nothing to decide
    assert "creation_period_ended" not in [f["kind"] for f in api.sweep()]
    # §6.2 reports every year the title was held, evaluated against that year's targets
    report_years(api, zid, SONGSHAN, range(2023, 2026))
    # §6.4 review (复核) requested in the 3 months before expiry, passed against the plan; renewed by announcement
    api.set_clock("2026-08-01")
    assert ok(api, "POST", f"/zones/{zid}/review-request", SONGSHAN)["status"] == "in_review"
    api.set_clock("2026-09-01")
    z = ok(
        api, "POST", f"/zones/{zid}/review", BUREAU, {"passed": True, "reasons": "对照创建工作方案发展目标，复核通过。"}
    )
    assert z["status"] == "review_passed"
    recommend(api, zid, "2026-09-05")
    z = grant(api, zid, "2026-09-20", "东制造〔2026〕3号")
    assert z["valid_until"] == "2029-10-19"  # the new term continues from the old one's end
    history = api.get(f"/zones/{zid}/history", INSPECTOR).json()
    types = [h["type"] for h in history]
    assert types.count("Recommended") == 2 and types.count("Granted") == 2


def later_call_zones(api: Api) -> None:
    # a call for applications published by the bureau, with its filing window and a pass mark
    api.set_clock("2025-02-10")
    call = {
        "id": "2025-second",
        "name": "第二批软件和信息技术服务业集聚区创建申报",
        "opens_on": "2025-03-01",
        "closes_on": "2025-04-30",
        "creation_period": {"start_year": 2025, "end_year": 2027},
        "members": [],
        "members_only": False,
        "exempt_materials": [],
        "other_materials_required": [],
        "pass_mark": 60,
    }
    ok(api, "POST", "/calls", BUREAU, call, status=201)
    api.set_clock("2025-03-10")
    full = ["application_form", "application_report", "self_assessment", "coordination_plan", "creation_plan"]
    small = {**GOOD_STATISTICS, "revenue": 800_000_000, "base_revenue": 800_000_000}
    zid = apply(api, OTHER_TOWN, "长安软件和信息技术服务业集聚区", "2025-second", small, full)
    other = apply(api, DALANG, "大朗软件和信息技术服务业集聚区", "2025-second", GOOD_STATISTICS, full)
    # §4.3 "原则上不低于10亿元": the bureau waives the scale with reasons; without the waiver it cannot accept
    api.set_clock("2025-03-20")
    refused = api.post(f"/zones/{zid}/formal-review", BUREAU, json={"outcome": "accepted"})
    assert refused.status_code == 409 and refused.json()["code"] == "conditions_not_met"
    waiver = {"rule": "§4.3", "reasons": "产业增速快，规模接近10亿元，原则上条件予以豁免。"}
    z = ok(
        api,
        "POST",
        f"/zones/{zid}/formal-review",
        BUREAU,
        {"outcome": "accepted", "reasons": "同意启动。", "waivers": [waiver]},
    )
    assert z["status"] == "accepted"
    assert [w["rule"] for w in z["formal_review"]["waivers"]] == ["§4.3"]
    assert [c["waived"] for c in z["formal_review"]["checks"] if c["rule"].startswith("§4.3")] == [True]
    ok(api, "POST", f"/zones/{other}/formal-review", BUREAU, {"outcome": "accepted", "reasons": "同意启动。"})

    # the assessment, the notice; an objection by the public and one by letter, registered by the bureau
    assess(api, zid, OTHER_TOWN, "2026-05-11")
    notice(api, zid, "2026-06-01", "2026-06-08")
    api.set_clock("2026-06-09")
    public = ok(
        api,
        "POST",
        f"/zones/{zid}/objections",
        None,
        {"objector_name": "王芳", "contact": "wang@example.org", "text": "两个平台属同一公司。"},
        status=201,
    )
    api.set_clock("2026-06-15")
    letter = {
        "objector_name": "李明",
        "contact": "东莞市长安镇",
        "text": "申报数据有误。",
        "channel": "letter",
        "received_at": "2026-06-10T15:00:00+08:00",
    }
    registered = ok(api, "POST", f"/zones/{zid}/objections", BUREAU, letter, status=201)
    # one upheld: the zone is reassessed and the other objection closed as superseded
    api.set_clock("2026-06-16")
    z = ok(
        api,
        "POST",
        f"/zones/{zid}/objections/{registered['objection_id']}/resolution",
        BUREAU,
        {"outcome": "upheld", "consequence": "reassess", "reasons": "经核实，数据有误，重新评估。"},
    )
    assert z["status"] == "assessment_accepted"
    history = api.get(f"/zones/{zid}/history", BUREAU).json()
    upheld = [h for h in history if h["type"] == "ObjectionResolved"][-1]
    assert upheld["data"]["superseded"] == [public["objection_id"]]
    objections = {o["objection_id"]: o for o in objections_of(api, zid, BUREAU)}
    assert objections[public["objection_id"]]["status"] == "superseded"
    assert objections[registered["objection_id"]]["channel"] == "letter"
    assess(api, zid, OTHER_TOWN, "2026-06-22", requested=False)
    notice(api, zid, "2026-07-01", "2026-07-06")
    api.set_clock("2026-07-11")
    api.sweep()
    recommend(api, zid, "2026-07-13")
    # the leading group declines once, the bureau recommends again, the title is granted
    api.set_clock("2026-07-20")
    z = ok(api, "POST", f"/zones/{zid}/grant-refusal", LEADING, {"reasons": "请补充说明产业规模。"})
    assert z["status"] == "assessed"
    recommend(api, zid, "2026-07-27")
    z = grant(api, zid, "2026-08-03", "东制造〔2026〕9号")
    assert z["valid_until"] == "2029-08-02"
    report_years(api, zid, OTHER_TOWN, range(2026, 2029))
    # a failed review, a rectification period that ends with nothing submitted, revoked (§6.4)
    api.set_clock("2029-05-10")
    ok(api, "POST", f"/zones/{zid}/review-request", OTHER_TOWN)
    api.set_clock("2029-06-01")
    z = ok(api, "POST", f"/zones/{zid}/review", BUREAU, {"passed": False, "reasons": "未达到创建工作方案目标。"})
    assert z["status"] == "rectifying"
    api.set_clock("2029-12-02")
    assert "rectification_overdue" in [f["kind"] for f in api.sweep()]
    z = ok(api, "POST", f"/zones/{zid}/review", BUREAU, {"passed": False, "reasons": "整改期满未提交整改报告。"})
    assert z["status"] == "revoked" and z["revocation"]["cause"] == "rectification_not_submitted"

    # the second zone: revoked on §6.6 with evidence and a public circular (通报)
    api.set_clock("2029-12-10")
    z = ok(api, "POST", f"/zones/{other}/revocation", BUREAU, revocation_body(api, "concealment"))
    assert z["status"] == "revoked" and z["revocation"]["scope"] == "creation_qualification"
    circulars = [n for n in api.get("/notices", None).json() if n.get("kind") == "circular"]
    assert [c["zone_id"] for c in circulars] == [other]
    dossier = api.get(f"/zones/{zid}/dossier", INSPECTOR).json()
    assert len(dossier["recommendations"]) == 2 and len(dossier["announcements"]) == 1
    assert dossier["formal_review"]["waivers"] == [waiver]
    assert [c["rule"][:4] for c in dossier["formal_review"]["checks_failed_or_waived"]] == ["§4.3"]
    by_id = {o["objection_id"]: o for o in dossier["objections"]}
    assert by_id[registered["objection_id"]]["channel"] == "letter"
    assert by_id[public["objection_id"]]["superseded_by"] == registered["objection_id"]
    page = api.get(f"/zones/{zid}/dossier", INSPECTOR, params={"format": "html"}).text
    assert waiver["reasons"] in page and "被取代 superseded" in page and "来信 letter" in page
    circular = api.get(f"/zones/{other}/dossier", INSPECTOR).json()["revocation"]["circular"]
    assert circular["number"] and circular["text"]
    report = api.get("/audit/inspection", INSPECTOR).json()
    # the clock jumped years between sweeps, so deadlines were recorded late and reports went missing; nothing else
    assert {f["rule"] for f in report["findings"]} <= {"deadline_recorded_late", "annual_report_missing"}, report
