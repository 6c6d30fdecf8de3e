"""API.md v2, row by row, through HTTP on SQLite and PostgreSQL: each act succeeds for its role in its status,
and is refused — another role 403, another status 409 saying why, a bad body 422 — with nothing recorded (the
event log's position and the zone as the bureau reads it unchanged).

The rows the stage files already cover in full (calls, the window and duplicates, the waiver's 409s, the
revocation's body) are not repeated here; see the coverage table in the report of this branch."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from domain.values import Actor

from ..helpers import ANNUAL_STATISTICS
from ..helpers import ASSESSMENT_STATISTICS
from ..helpers import BUREAU
from ..helpers import EXPERTS
from ..helpers import INSPECTOR
from ..helpers import LEADING
from ..helpers import NANCHENG
from ..helpers import OTHER_TOWN
from ..helpers import OUTSIDER_EXPERT
from ..helpers import RESERVE_EXPERTS
from ..helpers import SONGSHAN
from ..helpers import full_scores
from .conftest import Api
from .conftest import first_batch_application
from .conftest import granted_term
from .conftest import objections_of
from .conftest import recommend
from .conftest import refused
from .conftest import revocation_body
from .conftest import to_assessing
from .test_lifecycle import apply
from .test_lifecycle import to_notice

NAME = "松山湖软件和信息技术服务业集聚区"
# who may not do what a row gives to one role (every one of them is refused 403 before its status is read)
NOT_BUREAU: tuple[Actor, ...] = (SONGSHAN, NANCHENG, LEADING, INSPECTOR, EXPERTS[0])
NOT_LEADING: tuple[Actor, ...] = (BUREAU, SONGSHAN, INSPECTOR, EXPERTS[0])
NOT_OWN_APPLICANT: tuple[Actor, ...] = (NANCHENG, BUREAU, LEADING, INSPECTOR, EXPERTS[0])


# --- vocabulary ---------------------------------------------------------------------------------


@contextmanager
def nothing_recorded(api: Api, zid: str | None = None) -> Iterator[None]:
    """What runs inside records nothing: the event log ends where it ended, and the zone reads as it read."""
    position = api.position()
    before = api.get(f"/zones/{zid}", BUREAU).json() if zid else None
    yield
    assert api.position() == position, "a refused request recorded an event"
    if zid:
        after = api.get(f"/zones/{zid}", BUREAU).json()
        assert after["version"] == before["version"] and after == before  # type: ignore[index]


def refuse(api: Api, response: Any, status: int, code: str, *says: str) -> dict[str, Any]:
    """A problem with ``status`` and ``code`` whose detail says each of ``says`` (why it was refused)."""
    problem = refused(api, response, status, code)
    for phrase in says:
        assert phrase in problem["detail"], (phrase, problem["detail"])
    return problem


def refused_in_status(api: Api, response: Any, *says: str) -> dict[str, Any]:
    """Refused 409 ``illegal_transition``: the act is not the zone's in its status, and the detail says each of
    ``says``."""
    return refuse(api, response, 409, "illegal_transition", *says)


def forbidden(api: Api, actors: tuple[Actor, ...], send: Any) -> None:
    """Each of ``actors`` is refused 403 (``send(actor)`` makes the request)."""
    for actor in actors:
        r = send(actor)
        assert r.status_code == 403, (actor.role, actor.org, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")


def ref(api: Api, actor: Actor, name: str) -> dict[str, str]:
    d = api.upload(actor, name)
    return {"sha256": d["sha256"], "name": d["name"]}


def applied(api: Api, applicant: Actor = SONGSHAN) -> str:
    return str(apply(api, applicant, NAME)["id"])


def accepted(api: Api, applicant: Actor = SONGSHAN) -> str:
    zid = applied(api, applicant)
    r = api.post(f"/zones/{zid}/formal-review", BUREAU, json={"outcome": "accepted"})
    assert r.status_code == 200, r.text
    return zid


def assessment_application(api: Api, zid: str, applicant: Actor = SONGSHAN) -> dict[str, Any]:
    return {
        "summary": "创建目标已达成，申请评估。",
        "statistics": ASSESSMENT_STATISTICS,
        "documents": [ref(api, applicant, f"assessment-application-{zid}.pdf")],
    }


def conclusion(api: Api, **extra: Any) -> dict[str, Any]:
    return {"passed": True, "report": ref(api, BUREAU, "panel-report.pdf"), "reasons": "专家组报告确认。", **extra}


def scored(api: Api) -> str:
    """A zone under assessment whose three experts have filed their sheets."""
    zid = to_assessing(api)
    for e in EXPERTS:
        r = api.put(f"/zones/{zid}/assessment/scores", e, json={"scores": full_scores()})  # 80 % of the maximum
        assert r.status_code == 200, r.text
    return zid


def in_notice(api: Api) -> str:
    """Songshan Lake assessed and in its notice, 2021-09-27 through 2021-10-08."""
    zid = applied(api)
    api.set_clock("2021-09-24")
    to_notice(api, zid, day="2021-09-27")
    return zid


def letter(received_at: str, **extra: Any) -> dict[str, Any]:
    return {
        "objector_name": "王先生",
        "contact": "东城区某路 1 号",
        "text": "从业人员数重复统计。",
        "channel": "letter",
        "received_at": received_at,
        **extra,
    }


def objection(api: Api, zid: str) -> str:
    r = api.post(
        f"/zones/{zid}/objections", None, json={"objector_name": "Li", "contact": "li@x.org", "text": "Doubt."}
    )
    assert r.status_code == 201, r.text
    return str(r.json()["objection_id"])


def test_nothing_recorded_notices_a_recording(api: Api) -> None:
    """The helper every refusal here relies on is not vacuous: an act inside it fails it."""
    zid = applied(api)
    with pytest.raises(AssertionError, match="recorded an event"), nothing_recorded(api, zid):
        assert api.post(f"/zones/{zid}/formal-review", BUREAU, json={"outcome": "accepted"}).status_code == 200


# --- POST /zones: an applicant's, and a members-only call's members' -----------------------------


def test_an_application_is_an_applicants_and_a_members_only_call_takes_its_members_only(api: Api) -> None:
    body = first_batch_application(api)
    with nothing_recorded(api):
        forbidden(api, (BUREAU, LEADING, INSPECTOR, EXPERTS[0]), lambda a: api.post("/zones", a, json=body))
        refused(api, api.post("/zones", None, json=body), 401, "unauthorized")
        problem = refuse(api, api.post("/zones", OTHER_TOWN, json=body), 403, "forbidden", "2021-first", "changan")
        assert "§1.3" in problem["detail"]
    r = api.post("/zones", SONGSHAN, json=body)
    assert r.status_code == 201 and r.json()["status"] == "applied", r.text


# --- formal review: the approval to start ----------------------------------------------------------


def test_the_approval_to_start_is_the_bureaus_once_and_its_document_and_waivers_go_with_an_acceptance(
    api: Api,
) -> None:
    zid = applied(api)
    z = f"/zones/{zid}"
    approval = ref(api, BUREAU, "批复.pdf")
    body = {"outcome": "accepted", "reasons": "同意启动。", "approval": approval}
    with nothing_recorded(api, zid):
        forbidden(api, NOT_BUREAU, lambda a: api.post(f"{z}/formal-review", a, json=body))
        returned = {"outcome": "returned", "reasons": "补充材料。", "approval": approval}
        problem = refuse(api, api.post(f"{z}/formal-review", BUREAU, json=returned), 422, "validation_failed")
        assert problem["errors"] == [{"loc": ["approval"], "msg": "only with outcome accepted"}]
        waived = {**body, "waivers": [{"rule": "§4.3", "reasons": "规模接近。"}]}  # the zone's scale passes
        problem = refuse(api, api.post(f"{z}/formal-review", BUREAU, json=waived), 422, "validation_failed", "§4.3")
        assert problem["errors"] == [{"loc": ["waivers", 0, "rule"], "msg": "the condition is met"}]
        refuse(
            api, api.post(f"{z}/formal-review", BUREAU, json={**body, "outcome": "approved"}), 422, "validation_failed"
        )
    r = api.post(f"{z}/formal-review", BUREAU, json=body)
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["formal_review"]["approval"]) == ("accepted", approval)
    assert r.json()["creation_period"]["starts_on"] == "2021-07-15"
    with nothing_recorded(api, zid):
        refused_in_status(
            api, api.post(f"{z}/formal-review", BUREAU, json=body), "record a formal review", "approved to start"
        )


# --- the creation period: progress reports, supervision, its end --------------------------------


def test_progress_reports_are_the_applicants_in_its_creation_period_only(api: Api) -> None:
    zid = applied(api)
    z = f"/zones/{zid}"
    report = {"summary": "平台进驻。", "statistics": {"revenue": 13_000_000_000}}
    with nothing_recorded(api, zid):
        refused_in_status(
            api,
            api.post(f"{z}/progress-reports", SONGSHAN, json=report),
            "applied, awaiting formal review",
            "creation period (创建期",
        )
    assert api.post(f"{z}/formal-review", BUREAU, json={"outcome": "accepted"}).status_code == 200
    with nothing_recorded(api, zid):
        forbidden(api, NOT_OWN_APPLICANT, lambda a: api.post(f"{z}/progress-reports", a, json=report))
        for bad in ({"summary": ""}, {**report, "statistics": {"revenue": -1}}, {**report, "documents": "x"}):
            refuse(api, api.post(f"{z}/progress-reports", SONGSHAN, json=bad), 422, "validation_failed")
    r = api.post(f"{z}/progress-reports", SONGSHAN, json=report)
    assert r.status_code == 200 and r.json()["progress_reports"][0]["summary"] == "平台进驻。", r.text

    other = applied(api, NANCHENG)
    r = api.post(f"/zones/{other}/formal-review", BUREAU, json={"outcome": "rejected", "reasons": "不符合条件。"})
    assert r.status_code == 200
    with nothing_recorded(api, other):
        refused_in_status(
            api, api.post(f"/zones/{other}/progress-reports", NANCHENG, json=report), "the zone is rejected"
        )


def test_supervision_is_the_bureaus_from_the_approval_to_start_and_not_on_a_closed_case(api: Api) -> None:
    zid = applied(api)
    z = f"/zones/{zid}"
    visit = {"kind": "supervision", "visited_on": "2021-07-15", "findings": "按计划推进。"}
    with nothing_recorded(api, zid):
        refused_in_status(
            api,
            api.post(f"{z}/supervision", BUREAU, json=visit),
            "applied, awaiting formal review",
            "from the approval to start",
        )
    assert api.post(f"{z}/formal-review", BUREAU, json={"outcome": "accepted"}).status_code == 200  # 2021-07-15
    api.set_clock("2021-07-20")
    with nothing_recorded(api, zid):
        forbidden(api, NOT_BUREAU, lambda a: api.post(f"{z}/supervision", a, json=visit))
        early = {**visit, "visited_on": "2021-07-14"}  # before the approval to start
        problem = refuse(api, api.post(f"{z}/supervision", BUREAU, json=early), 422, "validation_failed", "2021-07-15")
        assert problem["errors"] == [{"loc": ["visited_on"], "msg": "a past day since the approval to start"}]
        refuse(api, api.post(f"{z}/supervision", BUREAU, json={**visit, "findings": ""}), 422, "validation_failed")
    r = api.post(f"{z}/supervision", BUREAU, json=visit)
    assert r.status_code == 200 and r.json()["supervision"][0]["visited_on"] == "2021-07-15", r.text

    other, revocation = applied(api, NANCHENG), revocation_body(api)
    r = api.post(f"/zones/{other}/formal-review", BUREAU, json={"outcome": "rejected", "reasons": "不符合条件。"})
    assert r.status_code == 200
    with nothing_recorded(api, other):
        refused_in_status(
            api,
            api.post(f"/zones/{other}/supervision", BUREAU, json={**visit, "visited_on": "2021-07-20"}),
            "the zone is rejected",
        )
        # a rejected case holds no creation qualification: nothing to revoke (revocation's 409, v2)
        refused_in_status(
            api, api.post(f"/zones/{other}/revocation", BUREAU, json=revocation), "no title or creation qualification"
        )


def test_the_creation_periods_end_is_the_bureaus_to_decide_once_it_has_ended(api: Api) -> None:
    zid = accepted(api)  # the period runs to 2023-12-31
    z = f"/zones/{zid}"
    cancel = {"outcome": "cancelled", "reasons": "未达标。"}
    api.set_clock("2023-06-01")
    with nothing_recorded(api, zid):
        refuse(
            api,
            api.post(f"{z}/creation-period", BUREAU, json=cancel),
            409,
            "too_early",
            "runs until 2023-12-31",
            "once it has ended",
        )
    api.set_clock("2024-01-02")
    assert [f["kind"] for f in api.sweep()] == ["creation_period_ended"]
    with nothing_recorded(api, zid):
        forbidden(api, NOT_BUREAU, lambda a: api.post(f"{z}/creation-period", a, json=cancel))
        problem = refuse(
            api,
            api.post(f"{z}/creation-period", BUREAU, json={**cancel, "ends_on": "2024-06-30"}),
            422,
            "validation_failed",
        )
        assert problem["errors"] == [{"loc": ["ends_on"], "msg": "only with outcome extended"}]
        for bad in ({**cancel, "reasons": ""}, {**cancel, "outcome": "paused"}, {"outcome": "cancelled"}):
            refuse(api, api.post(f"{z}/creation-period", BUREAU, json=bad), 422, "validation_failed")
    r = api.post(f"{z}/creation-period", BUREAU, json=cancel)
    assert r.status_code == 200 and r.json()["status"] == "revoked", r.text
    assert r.json()["revocation"]["scope"] == "creation_qualification"
    with nothing_recorded(api, zid):
        refused_in_status(api, api.post(f"{z}/creation-period", BUREAU, json=cancel), "revoked")


# --- the assessment application and its decision; the panel (changed) ------------------------------


def test_the_assessment_application_is_filed_from_accepted_and_decided_by_the_bureau(api: Api) -> None:
    zid = applied(api)
    z = f"/zones/{zid}"
    request = assessment_application(api, zid)
    panel = {"experts": [{"sub": e.sub, "name": e.name, "org": e.org} for e in EXPERTS], "methods": ["site_visit"]}
    with nothing_recorded(api, zid):
        refused_in_status(
            api,
            api.post(f"{z}/assessment-request", SONGSHAN, json=request),
            "file an assessment application",
            "approved to start",
        )
    assert api.post(f"{z}/formal-review", BUREAU, json={"outcome": "accepted"}).status_code == 200
    with nothing_recorded(api, zid):
        forbidden(api, NOT_OWN_APPLICANT, lambda a: api.post(f"{z}/assessment-request", a, json=request))
        no_revenue = {**request, "statistics": {"employees": 5000}}
        for bad in ({**request, "documents": []}, no_revenue, {**request, "summary": ""}):
            refuse(api, api.post(f"{z}/assessment-request", SONGSHAN, json=bad), 422, "validation_failed")
        decision = {"outcome": "accepted", "reasons": "受理。"}
        refused_in_status(
            api,
            api.post(f"{z}/assessment-request/decision", BUREAU, json=decision),
            "decide an assessment application",
            "awaiting the bureau's acceptance",
        )
        # the panel (changed): only once the assessment application is accepted (受理)
        refused_in_status(
            api,
            api.post(f"{z}/assessment/panel", BUREAU, json=panel),
            "appoint an expert panel",
            "assessment application accepted (受理)",
        )
    r = api.post(f"{z}/assessment-request", SONGSHAN, json=request)
    assert r.status_code == 200 and r.json()["status"] == "assessment_requested", r.text
    with nothing_recorded(api, zid):
        refused_in_status(
            api, api.post(f"{z}/assessment-request", SONGSHAN, json=request), "awaiting the bureau's acceptance"
        )
        refused_in_status(api, api.post(f"{z}/assessment/panel", BUREAU, json=panel), "受理")
        forbidden(api, NOT_BUREAU, lambda a: api.post(f"{z}/assessment-request/decision", a, json=decision))
        for bad in ({"outcome": "maybe"}, {"outcome": "refused"}, {"outcome": "refused", "reasons": "  "}):
            refuse(api, api.post(f"{z}/assessment-request/decision", BUREAU, json=bad), 422, "validation_failed")
    r = api.post(f"{z}/assessment-request/decision", BUREAU, json=decision)
    assert r.status_code == 200 and r.json()["status"] == "assessment_accepted", r.text
    with nothing_recorded(api, zid):
        forbidden(api, NOT_BUREAU, lambda a: api.post(f"{z}/assessment/panel", a, json=panel))
        two = {**panel, "experts": panel["experts"][:2]}
        refuse(api, api.post(f"{z}/assessment/panel", BUREAU, json=two), 422, "validation_failed", "at least 3")
        insider = {**panel, "experts": [*panel["experts"][:2], {"sub": "u-in", "name": "In", "org": SONGSHAN.org}]}
        refuse(api, api.post(f"{z}/assessment/panel", BUREAU, json=insider), 422, "validation_failed", "§3.2")
    r = api.post(f"{z}/assessment/panel", BUREAU, json=panel)
    assert r.status_code == 200 and r.json()["status"] == "assessing", r.text


def test_an_assessment_application_is_filed_within_the_creation_period(api: Api) -> None:
    zid = accepted(api)
    request = assessment_application(api, zid)
    api.set_clock("2024-01-01", 0)  # the period ended with 2023-12-31
    with nothing_recorded(api, zid):
        refuse(
            api,
            api.post(f"/zones/{zid}/assessment-request", SONGSHAN, json=request),
            409,
            "deadline_passed",
            "ended on 2023-12-31",
            "may extend",
        )
    api.sweep()
    api.set_clock("2024-01-05")
    extend = {"outcome": "extended", "ends_on": "2024-06-30", "reasons": "延期半年。"}
    assert api.post(f"/zones/{zid}/creation-period", BUREAU, json=extend).status_code == 200
    r = api.post(f"/zones/{zid}/assessment-request", SONGSHAN, json=request)  # within the extended period
    assert r.status_code == 200 and r.json()["status"] == "assessment_requested", r.text


# --- the panel: members added, recusals, re-filings, the conclusion -------------------------------


def test_members_and_recusals_are_the_bureaus_while_the_panel_sits_and_refusals_record_nothing(api: Api) -> None:
    zid = to_assessing(api)
    z = f"/zones/{zid}"
    added = {"experts": [{"sub": e.sub, "name": e.name, "org": e.org} for e in RESERVE_EXPERTS]}
    recusal = {"expert": EXPERTS[1].sub, "reasons": "2020 年曾为申报单位提供咨询。"}
    with nothing_recorded(api, zid):
        forbidden(api, NOT_BUREAU, lambda a: api.post(f"{z}/assessment/panel/members", a, json=added))
        forbidden(api, NOT_BUREAU, lambda a: api.post(f"{z}/assessment/recusals", a, json=recusal))
        again = {"experts": [{"sub": EXPERTS[0].sub, "name": EXPERTS[0].name}]}
        refuse(
            api,
            api.post(f"{z}/assessment/panel/members", BUREAU, json=again),
            409,
            "already_on_panel",
            EXPERTS[0].sub,
        )
        stranger = {"expert": "u-nobody", "reasons": "x"}
        refuse(api, api.post(f"{z}/assessment/recusals", BUREAU, json=stranger), 409, "expert_not_on_panel", "u-nobody")
        refuse(
            api,
            api.post(f"{z}/assessment/recusals", BUREAU, json={**recusal, "reasons": ""}),
            422,
            "validation_failed",
        )
        twice = {"experts": [added["experts"][0], added["experts"][0]]}
        refuse(api, api.post(f"{z}/assessment/panel/members", BUREAU, json=twice), 422, "validation_failed")
    r = api.post(f"{z}/assessment/panel/members", BUREAU, json=added)
    assert r.status_code == 200 and len(r.json()["panel"]["experts"]) == 5, r.text
    r = api.post(f"{z}/assessment/recusals", BUREAU, json=recusal)
    assert r.status_code == 200 and r.json()["panel"]["recused"] == [EXPERTS[1].sub], r.text
    with nothing_recorded(api, zid):
        refuse(api, api.post(f"{z}/assessment/recusals", BUREAU, json=recusal), 409, "already_recused", EXPERTS[1].sub)
        r = api.put(f"{z}/assessment/scores", EXPERTS[1], json={"scores": full_scores()})
        refuse(api, r, 403, "expert_recused", "回避")


def test_a_re_filed_sheet_says_why_and_scores_are_filed_only_while_the_panel_sits(api: Api) -> None:
    zid = to_assessing(api)
    z = f"/zones/{zid}"
    assert api.put(f"{z}/assessment/scores", EXPERTS[0], json={"scores": full_scores()}).status_code == 200
    with nothing_recorded(api, zid):
        view = api.get(f"{z}/assessment", BUREAU).json()
        r = api.put(f"{z}/assessment/scores", EXPERTS[0], json={"scores": full_scores(1), "comment": "revised"})
        problem = refuse(api, r, 422, "validation_failed", "must say why")
        assert problem["errors"] == [{"loc": ["reason"], "msg": "required when re-filing"}]
        r = api.put(f"{z}/assessment/scores", EXPERTS[0], json={"scores": full_scores(1), "reason": "   "})
        refuse(api, r, 422, "validation_failed")
        refuse(
            api, api.put(f"{z}/assessment/scores", OUTSIDER_EXPERT, json={"scores": full_scores()}), 403, "not_on_panel"
        )
        forbidden(
            api,
            (BUREAU, SONGSHAN, LEADING),
            lambda a: api.put(f"{z}/assessment/scores", a, json={"scores": full_scores()}),
        )
        assert api.get(f"{z}/assessment", BUREAU).json() == view  # the first sheet stands
    r = api.put(f"{z}/assessment/scores", EXPERTS[0], json={"scores": full_scores(1), "reason": "复核审计报告。"})
    assert r.status_code == 200, r.text
    sheets = [e for e in api.get(f"{z}/history", BUREAU).json() if e["type"] == "ScoresFiled"]
    assert [(e["data"]["replaces_earlier"], e["reason"]) for e in sheets] == [(False, ""), (True, "复核审计报告。")]
    for e in EXPERTS[1:]:
        assert api.put(f"{z}/assessment/scores", e, json={"scores": full_scores()}).status_code == 200
    assert api.post(f"{z}/assessment/conclusion", BUREAU, json=conclusion(api)).status_code == 200
    with nothing_recorded(api, zid):
        r = api.put(f"{z}/assessment/scores", EXPERTS[0], json={"scores": full_scores(), "reason": "again"})
        refused_in_status(api, r, "file scores", "under assessment")


def test_a_not_passed_conclusion_at_or_above_the_pass_mark_says_why_and_a_conclusion_is_the_bureaus_once(
    api: Api,
) -> None:
    first = api.get("/calls/2021-first", None).json()
    terms = ("name", "opens_on", "closes_on", "creation_period", "members", "members_only", "exempt_materials")
    fix = {k: first[k] for k in (*terms, "other_materials_required")}
    assert (
        api.put("/calls/2021-first", BUREAU, json={**fix, "pass_mark": 60, "reason": "及格线 60 分"}).status_code == 200
    )
    zid = scored(api)  # 80 % of the maximum, above the pass mark
    z = f"/zones/{zid}"
    not_passed = conclusion(api, passed=False)
    with nothing_recorded(api, zid):
        forbidden(api, NOT_BUREAU, lambda a: api.post(f"{z}/assessment/conclusion", a, json=not_passed))
        problem = refuse(
            api,
            api.post(f"{z}/assessment/conclusion", BUREAU, json=not_passed),
            422,
            "validation_failed",
            "not passed",
            "at or above the call's pass mark of 60 %",
        )
        assert problem["errors"][0]["loc"] == ["override_reasons"]
        refuse(
            api,
            api.post(f"{z}/assessment/conclusion", BUREAU, json={**not_passed, "override_reasons": " "}),
            422,
            "validation_failed",
        )
    why = "现场考察发现平台数据不实。"
    r = api.post(f"{z}/assessment/conclusion", BUREAU, json={**not_passed, "override_reasons": why})
    assert r.status_code == 200 and r.json()["status"] == "not_passed", r.text
    shown = r.json()["assessment"]
    assert (shown["percentage"], shown["pass_mark"], shown["against_pass_mark"]) == (0.8, 60, True)
    assert [g["name"] for g in shown["groups"]] == ["创建基础", "创建目标", "创建措施"]
    with nothing_recorded(api, zid):
        refused_in_status(
            api,
            api.post(f"{z}/assessment/conclusion", BUREAU, json=conclusion(api)),
            "conclude the assessment",
            "assessed and not passed",
        )


# --- objections registered by the bureau; their resolution (changed) ---------------------------------


def test_the_bureau_registers_an_objection_received_during_the_notice_and_not_once_recommended(api: Api) -> None:
    zid = in_notice(api)
    z = f"/zones/{zid}"
    api.set_clock("2021-09-28")
    with nothing_recorded(api, zid):
        forbidden(
            api,
            (SONGSHAN, LEADING, INSPECTOR, EXPERTS[0]),
            lambda a: api.post(f"{z}/objections", a, json=letter("2021-09-27T15:00:00+08:00")),
        )
        problem = refuse(
            api, api.post(f"{z}/objections", BUREAU, json=letter("2021-09-29T09:00:00+08:00")), 422, "validation_failed"
        )
        assert problem["errors"] == [{"loc": ["received_at"], "msg": "not in the future"}]
        refuse(
            api,
            api.post(f"{z}/objections", BUREAU, json=letter("2021-09-26T23:00:00+08:00")),
            409,
            "too_early",
            "received on 2021-09-26",
            "started on 2021-09-27",
        )
        refuse(
            api,
            api.post(f"{z}/objections", BUREAU, json=letter("2021-09-27T15:00:00+08:00", channel="fax")),
            422,
            "validation_failed",
        )
    r = api.post(f"{z}/objections", BUREAU, json=letter("2021-09-27T15:00:00+08:00", channel="phone"))
    assert r.status_code == 201, r.text
    api.set_clock("2021-10-11")
    with nothing_recorded(api, zid):
        refuse(
            api,
            api.post(f"{z}/objections", BUREAU, json=letter("2021-10-09T09:00:00+08:00")),
            409,
            "deadline_passed",
            "received on 2021-10-09",
            "ended on 2021-10-08",
        )
    oid = r.json()["objection_id"]
    r = api.post(f"{z}/objections/{oid}/resolution", BUREAU, json={"outcome": "dismissed", "reasons": "查无实据。"})
    assert r.status_code == 200, r.text
    assert recommend(api, zid).status_code == 200
    with nothing_recorded(api, zid):
        refused_in_status(
            api,
            api.post(f"{z}/objections", BUREAU, json=letter("2021-10-08T09:00:00+08:00")),
            "nothing has been recommended",
            "recommended to the leading group",
        )


def test_upholding_an_objection_with_reject_rejects_and_supersedes_the_others_and_refusals_record_nothing(
    api: Api,
) -> None:
    zid = in_notice(api)
    z = f"/zones/{zid}"
    api.set_clock("2021-09-28")
    first, second, third = objection(api, zid), objection(api, zid), objection(api, zid)
    upheld = {"outcome": "upheld", "consequence": "reject", "reasons": "经核实，数据造假。"}
    with nothing_recorded(api, zid):
        forbidden(api, NOT_BUREAU, lambda a: api.post(f"{z}/objections/{first}/resolution", a, json=upheld))
        for bad, loc in (
            ({"outcome": "upheld", "reasons": "x"}, ["consequence"]),  # upheld says what follows
            ({"outcome": "dismissed", "consequence": "reassess", "reasons": "x"}, ["consequence"]),
            ({"outcome": "dismissed", "reasons": ""}, None),
            ({"outcome": "withdrawn", "reasons": "x"}, None),
        ):
            problem = refuse(
                api, api.post(f"{z}/objections/{first}/resolution", BUREAU, json=bad), 422, "validation_failed"
            )
            if loc is not None:
                assert [e["loc"] for e in problem["errors"]] == [loc]
    r = api.post(f"{z}/objections/{third}/resolution", BUREAU, json={"outcome": "dismissed", "reasons": "查无实据。"})
    assert r.status_code == 200, r.text
    r = api.post(f"{z}/objections/{first}/resolution", BUREAU, json=upheld)
    assert r.status_code == 200 and r.json()["status"] == "rejected", r.text
    shown = {o["objection_id"]: o for o in objections_of(api, zid, BUREAU)}
    assert (shown[second]["status"], shown[second]["superseded_by"]) == ("superseded", first)
    assert shown[third]["status"] == "dismissed"  # resolved before: not superseded
    with nothing_recorded(api, zid):
        dismiss = {"outcome": "dismissed", "reasons": "x"}
        refused_in_status(
            api, api.post(f"{z}/objections/{second}/resolution", BUREAU, json=dismiss), "superseded", first
        )
        refused_in_status(
            api, api.post(f"{z}/objections/{first}/resolution", BUREAU, json=dismiss), "already resolved (upheld)"
        )


# --- the recommendation, the grant (changed), the grant's refusal -----------------------------------


def test_the_recommendation_is_the_bureaus_after_a_cleared_notice_and_once(api: Api) -> None:
    zid = scored(api)
    z = f"/zones/{zid}"
    assert api.post(f"{z}/assessment/conclusion", BUREAU, json=conclusion(api)).status_code == 200
    document = ref(api, BUREAU, "提请.pdf")
    body = {"document": document, "reasons": "经公示无异议，提请授予。"}
    with nothing_recorded(api, zid):
        refused_in_status(
            api,
            api.post(f"{z}/recommendation", BUREAU, json=body),
            "Cannot recommend the grant",
            "awaiting the public notice",
        )
    api.set_clock("2021-09-24")
    assert api.post(f"{z}/notice", BUREAU, json={"text": "公示", "starts_on": "2021-09-27"}).status_code == 200
    api.set_clock("2021-09-28")
    oid = objection(api, zid)
    api.set_clock("2021-10-11")
    with nothing_recorded(api, zid):
        forbidden(api, NOT_BUREAU, lambda a: api.post(f"{z}/recommendation", a, json=body))
        refuse(api, api.post(f"{z}/recommendation", BUREAU, json=body), 409, "objection_open", oid)
        for bad in ({**body, "reasons": ""}, {"reasons": "x"}, {**body, "document": {"sha256": "0" * 64, "name": "x"}}):
            refuse(api, api.post(f"{z}/recommendation", BUREAU, json=bad), 422, "validation_failed")
    r = api.post(f"{z}/objections/{oid}/resolution", BUREAU, json={"outcome": "dismissed", "reasons": "查无实据。"})
    assert r.status_code == 200
    r = api.post(f"{z}/recommendation", BUREAU, json=body)
    assert r.status_code == 200 and r.json()["status"] == "recommended", r.text
    assert r.json()["recommendations"][0]["considered"] == [oid]
    with nothing_recorded(api, zid):
        refused_in_status(api, api.post(f"{z}/recommendation", BUREAU, json=body), "recommended to the leading group")


def test_the_grant_is_the_leading_groups_on_a_recommendation_and_its_term_is_three_years_or_says_why(
    api: Api,
) -> None:
    zid = in_notice(api)
    z = f"/zones/{zid}"
    api.set_clock("2021-10-11")
    grant = {"announcement_no": "东制造〔2021〕8号"}
    with nothing_recorded(api, zid):
        refused_in_status(api, api.post(f"{z}/grant", LEADING, json=grant), "提请", "in public notice")
        refused_in_status(
            api, api.post(f"{z}/grant-refusal", LEADING, json={"reasons": "暂缓。"}), "decline a grant", "提请"
        )
    assert recommend(api, zid).status_code == 200  # on 2021-10-11
    api.set_clock("2021-10-15")
    with nothing_recorded(api, zid):
        forbidden(api, NOT_LEADING, lambda a: api.post(f"{z}/grant", a, json=grant))
        forbidden(api, NOT_LEADING, lambda a: api.post(f"{z}/grant-refusal", a, json={"reasons": "暂缓。"}))
        problem = refuse(
            api,
            api.post(f"{z}/grant", LEADING, json={**grant, "term_years": 5}),
            422,
            "validation_failed",
            "原则上三年",
        )
        assert problem["errors"] == [{"loc": ["term_reasons"], "msg": "required when term_years is not 3"}]
        for day in ("2021-10-10", "2021-10-16"):  # before the recommendation; after today
            problem = refuse(
                api, api.post(f"{z}/grant", LEADING, json={**grant, "announced_on": day}), 422, "validation_failed"
            )
            assert problem["errors"][0]["loc"] == ["announced_on"]
        for bad in ({"announcement_no": ""}, {**grant, "term_years": 0}, {**grant, "term_years": 11}):
            refuse(api, api.post(f"{z}/grant", LEADING, json=bad), 422, "validation_failed")
        refuse(api, api.post(f"{z}/grant-refusal", LEADING, json={"reasons": ""}), 422, "validation_failed")
    r = api.post(f"{z}/grant", LEADING, json={**grant, "announced_on": "2021-10-13", "term_years": 3})
    assert r.status_code == 200, r.text
    zone = r.json()
    assert (zone["status"], zone["valid_until"], zone["term"]["announced_on"]) == (
        "granted",
        "2024-10-12",
        "2021-10-13",
    )
    with nothing_recorded(api, zid):
        refused_in_status(api, api.post(f"{z}/grant", LEADING, json=grant), "granted the title")
        refused_in_status(api, recommend(api, zid), "granted the title")
    api.set_clock("2024-01-02")  # the creation period's end passes with the title granted: nothing to decide
    with nothing_recorded(api, zid):
        refused_in_status(
            api,
            api.post(f"{z}/creation-period", BUREAU, json={"outcome": "cancelled", "reasons": "x"}),
            "granted the title",
        )
        refused_in_status(
            api,
            api.post(f"{z}/assessment-request", SONGSHAN, json=assessment_application(api, zid)),
            "granted the title",
        )


# --- the review (changed) and a renewal declined -----------------------------------------------------


def test_a_passed_review_awaits_the_renewal_and_a_renewal_declined_goes_back_to_review(api: Api) -> None:
    zid = in_notice(api)
    z = f"/zones/{zid}"
    api.set_clock("2021-10-11")
    assert recommend(api, zid).status_code == 200
    assert api.post(f"{z}/grant", LEADING, json={"announcement_no": "东制造〔2021〕8号"}).status_code == 200
    for year in (2021, 2022, 2023):
        api.set_clock(f"{year + 1}-01-20")
        body = {"year": year, "statistics": ANNUAL_STATISTICS, "summary": f"{year}"}
        assert api.post(f"{z}/annual-reports", SONGSHAN, json=body).status_code == 200
    api.set_clock("2024-08-01")
    passed = {"passed": True, "reasons": "对照创建工作方案目标，复核通过。"}
    with nothing_recorded(api, zid):
        refused_in_status(api, api.post(f"{z}/review", BUREAU, json=passed), "decide a review", "under review")
    assert api.post(f"{z}/review-request", SONGSHAN).status_code == 200
    api.set_clock("2024-09-01")
    with nothing_recorded(api, zid):
        forbidden(api, NOT_BUREAU, lambda a: api.post(f"{z}/review", a, json=passed))
        for bad in ({"passed": True}, {"passed": "yes", "reasons": "x"}, {**passed, "rectification_months": 0}):
            refuse(api, api.post(f"{z}/review", BUREAU, json=bad), 422, "validation_failed")
    r = api.post(f"{z}/review", BUREAU, json=passed)
    assert r.status_code == 200 and r.json()["status"] == "review_passed", r.text
    assert {c["field"] for c in r.json()["review"]["checks"]} >= {"revenue"}
    with nothing_recorded(api, zid):
        refused_in_status(api, api.post(f"{z}/review", BUREAU, json=passed), "past its review")
        refused_in_status(
            api,
            api.post(f"{z}/grant", LEADING, json={"announcement_no": "东制造〔2024〕15号"}),
            "recommends the renewal first",
        )
    r = recommend(api, zid, "复核通过，提请继续授予。")
    assert r.status_code == 200 and r.json()["recommendations"][-1]["kind"] == "renewal", r.text

    # the leading group declines the renewal: back to review, to be decided again
    api.set_clock("2024-09-10")
    r = api.post(f"{z}/grant-refusal", LEADING, json={"reasons": "请补充产业规模说明。"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "in_review"
    assert [x["outcome"] for x in r.json()["recommendations"]] == ["granted", "refused"]
    review = r.json()["review"]  # the passed decision is undone: the review is to be decided again
    assert ("passed" not in review or review["passed"] is None) and not review.get("checks"), review
    with nothing_recorded(api, zid):
        refused_in_status(api, recommend(api, zid), "under review")
    r = api.post(f"{z}/review", BUREAU, json={**passed, "reasons": "补充说明后复核通过。"})
    assert r.status_code == 200 and r.json()["status"] == "review_passed", r.text
    assert recommend(api, zid).status_code == 200
    api.set_clock("2024-09-20")
    r = api.post(f"{z}/grant", LEADING, json={"announcement_no": "东制造〔2024〕15号"})
    granted_term(r, number=2, granted_on="2024-10-11", valid_until="2027-10-10", renewal=True)


# --- GET /deadlines: the bureau's and the inspector's -----------------------------------------------


def test_the_creation_period_ended_deadline_is_read_by_the_bureau_and_inspectors_only(api: Api) -> None:
    zid = accepted(api)
    params = {"kind": "creation_period_ended"}
    for actor in (SONGSHAN, LEADING, EXPERTS[0]):
        refused(api, api.get("/deadlines", actor, params=params), 403, "forbidden")
    refused(api, api.get("/deadlines", None, params=params), 401, "unauthorized")
    for actor in (BUREAU, INSPECTOR):
        rows = api.get("/deadlines", actor, params=params).json()
        assert [(d["zone_id"], d["kind"], d["due_on"], d["recorded"]) for d in rows] == [
            (zid, "creation_period_ended", "2023-12-31", False)
        ]
