"""Panel integrity over HTTP (v2): no expert of the applicant, members added (增补), recusals (回避), re-filings
that say why, and a conclusion with its subtotals that answers to the call's pass mark; the zone, the
assessment view and the dossier show them."""

from __future__ import annotations

from typing import Any

from ..helpers import BUREAU
from ..helpers import EXPERTS
from ..helpers import INSPECTOR
from ..helpers import RESERVE_EXPERTS
from ..helpers import SONGSHAN
from ..helpers import full_scores
from .conftest import Api
from .conftest import refused
from .conftest import to_assessing

RESERVE, RESERVE_2 = RESERVE_EXPERTS


def member(e: Any) -> dict[str, Any]:
    return {"sub": e.sub, "name": e.name, "org": e.org}


def conclusion(api: Api) -> dict[str, Any]:
    """A conclusion's body: passed, the uploaded panel report, reasons."""
    report = api.upload(BUREAU, "panel-report.pdf")
    return {"passed": True, "report": {"sha256": report["sha256"], "name": "panel-report.pdf"}, "reasons": "Confirmed."}


def score(api: Api, zid: str, expert: Any, **body: Any) -> Any:
    return api.put(f"/zones/{zid}/assessment/scores", expert, json={"scores": full_scores(), **body})


def test_an_expert_of_the_applicant_is_refused_on_the_panel_and_among_added_members(api: Api) -> None:
    zid = to_assessing(api)
    before = api.position()
    insider = {"sub": "u-ssl-exp", "name": "Songshan adviser", "org": SONGSHAN.org}
    panel = {"experts": [member(EXPERTS[0]), member(EXPERTS[1]), insider], "methods": ["site_visit"]}
    body = refused(api, api.post(f"/zones/{zid}/assessment/panel", BUREAU, json=panel), 422, "validation_failed")
    assert "§3.2" in body["detail"] and body["errors"] == [
        {"loc": ["experts", 2, "org"], "msg": "the applicant organisation"}
    ]
    r = api.post(f"/zones/{zid}/assessment/panel/members", BUREAU, json={"experts": [insider]})
    refused(api, r, 422, "validation_failed")
    assert api.position() == before


def test_members_added_recused_and_the_conclusion_waits_for_enough_unconflicted_sheets(api: Api) -> None:
    zid = to_assessing(api)
    z = f"/zones/{zid}"
    api.set_clock("2021-08-03")
    assert api.post(f"{z}/assessment/conflicts", EXPERTS[2], json={"reason": "Former employee."}).status_code == 200
    for e in EXPERTS[:2]:
        assert score(api, zid, e).status_code == 200
    api.set_clock("2021-08-10")
    before = api.position()
    body = refused(api, api.post(f"{z}/assessment/conclusion", BUREAU, json=conclusion(api)), 409, "panel_too_small")
    assert "Add members" in body["detail"] and "§3.2" in body["detail"]
    assert api.position() == before

    # 增补: two experts added; one already on the panel may not be added again
    r = api.post(f"{z}/assessment/panel/members", BUREAU, json={"experts": [member(EXPERTS[1])]})
    refused(api, r, 409, "already_on_panel")
    r = api.post(f"{z}/assessment/panel/members", BUREAU, json={"experts": [member(RESERVE), member(RESERVE_2)]})
    assert r.status_code == 200, r.text
    assert [e["sub"] for e in r.json()["panel"]["experts"]][-2:] == [RESERVE.sub, RESERVE_2.sub]
    assert r.json()["panel"]["experts"][-1]["org"] == RESERVE_2.org
    assert score(api, zid, RESERVE_2).status_code == 200

    # 回避: the bureau recuses the second added expert, whose sheet then does not count
    r = api.post(f"{z}/assessment/recusals", BUREAU, json={"expert": "u-nobody", "reasons": "x"})
    refused(api, r, 409, "expert_not_on_panel")
    r = api.post(f"{z}/assessment/recusals", BUREAU, json={"expert": EXPERTS[2].sub, "reasons": "x"})
    refused(api, r, 409, "already_recused")  # declared a conflict already
    refused(api, api.post(f"{z}/assessment/recusals", BUREAU, json={"expert": RESERVE_2.sub}), 422, "validation_failed")
    recusal = {"expert": RESERVE_2.sub, "reasons": "Advised the applicant in 2020."}
    r = api.post(f"{z}/assessment/recusals", BUREAU, json=recusal)
    assert r.status_code == 200, r.text
    assert r.json()["panel"]["recused"] == [RESERVE_2.sub]
    assert r.json()["panel"]["counted"] == [EXPERTS[0].sub, EXPERTS[1].sub, RESERVE.sub]
    refused(api, api.post(f"{z}/assessment/recusals", BUREAU, json=recusal), 409, "already_recused")
    refused(api, score(api, zid, RESERVE_2, reason="again"), 403, "expert_recused")

    # the added member has not scored yet; then a re-filing must say why
    refused(api, api.post(f"{z}/assessment/conclusion", BUREAU, json=conclusion(api)), 409, "illegal_transition")
    assert score(api, zid, RESERVE).status_code == 200
    body = refused(api, score(api, zid, EXPERTS[0], comment="revised"), 422, "validation_failed")
    assert body["errors"] == [{"loc": ["reason"], "msg": "required when re-filing"}]
    assert score(api, zid, EXPERTS[0], reason="Audited accounts read again.").status_code == 200

    api.set_clock("2021-09-01")
    r = api.post(f"{z}/assessment/conclusion", BUREAU, json=conclusion(api))
    assert r.status_code == 200, r.text
    shown = r.json()["assessment"]
    assert (shown["total"], shown["max"], shown["percentage"]) == (78.4, 98, 0.8)
    assert shown["groups"] == [
        {"declared": 25, "max": 26, "name": "创建基础", "score": 20.8},
        {"declared": 40, "max": 40, "name": "创建目标", "score": 32},
        {"declared": 35, "max": 32, "name": "创建措施", "score": 25.6},
    ]
    assert shown["recused"] == [RESERVE_2.sub] and shown["pass_mark"] is None

    history = api.get(f"{z}/history", BUREAU).json()
    kinds = [e["type"] for e in history]
    assert "PanelMembersAdded" in kinds and "ExpertRecused" in kinds
    (recused,) = [e for e in history if e["type"] == "ExpertRecused"]
    assert recused["reason"] == "Advised the applicant in 2020." and recused["data"]["scored_before"] is True
    refiling = [e for e in history if e["type"] == "ScoresFiled" and e["data"]["replaces_earlier"]]
    assert [e["reason"] for e in refiling] == ["Audited accounts read again."]

    view = api.get(f"{z}/assessment", INSPECTOR).json()["latest"]
    assert view["result"]["groups"] == shown["groups"]
    assert view["result"]["counted"] == [EXPERTS[0].sub, EXPERTS[1].sub, RESERVE.sub]
    assert view["recusals"][RESERVE_2.sub]["reasons"] == "Advised the applicant in 2020."
    assert view["sheets"][EXPERTS[0].sub]["reason"] == "Audited accounts read again."

    dossier = api.get(f"{z}/dossier", INSPECTOR).json()
    assert [(x["expert"], x["reasons"]) for x in dossier["recusals"]] == [
        (RESERVE_2.sub, "Advised the applicant in 2020.")
    ]
    assert dossier["conclusions"][0]["groups"] == shown["groups"]
    page = api.get(f"{z}/dossier", INSPECTOR, headers={"Accept": "text/html"}).text
    assert "回避 Recusals" in page and "Advised the applicant in 2020." in page and "创建措施" in page


def test_a_conclusion_against_the_calls_pass_mark_says_why(api: Api) -> None:
    first = api.get("/calls/2021-first", None).json()
    terms = ("name", "opens_on", "closes_on", "creation_period", "members", "members_only", "exempt_materials")
    fix = {k: first[k] for k in (*terms, "other_materials_required")}
    r = api.put("/calls/2021-first", BUREAU, json={**fix, "pass_mark": 85, "reason": "及格线 85 分"})
    assert r.status_code == 200, r.text
    zid = to_assessing(api)
    for e in EXPERTS:
        assert score(api, zid, e).status_code == 200  # 80 % of the maximum
    before = api.position()
    r = api.post(f"/zones/{zid}/assessment/conclusion", BUREAU, json=conclusion(api))
    body = refused(api, r, 422, "validation_failed")
    assert "85 %" in body["detail"] and body["errors"][0]["loc"] == ["override_reasons"]
    assert api.position() == before
    why = "The site visit found the platforms the sheets missed."
    r = api.post(f"/zones/{zid}/assessment/conclusion", BUREAU, json={**conclusion(api), "override_reasons": why})
    assert r.status_code == 200, r.text
    shown = r.json()["assessment"]
    assert (shown["pass_mark"], shown["against_pass_mark"], shown["override_reasons"]) == (85, True, why)
    assert r.json()["status"] == "assessed"


def test_only_the_bureau_adds_members_or_recuses_and_only_while_the_panel_sits(api: Api) -> None:
    zid = to_assessing(api)
    z = f"/zones/{zid}"
    r = api.post(f"{z}/assessment/recusals", EXPERTS[0], json={"expert": EXPERTS[1].sub, "reasons": "x"})
    refused(api, r, 403, "forbidden")
    refused(api, api.post(f"{z}/assessment/panel/members", BUREAU, json={"experts": []}), 422, "validation_failed")
    for e in EXPERTS:
        assert score(api, zid, e).status_code == 200
    assert api.post(f"{z}/assessment/conclusion", BUREAU, json=conclusion(api)).status_code == 200
    r = api.post(f"{z}/assessment/panel/members", BUREAU, json={"experts": [member(RESERVE)]})
    assert "增补专家" in refused(api, r, 409, "illegal_transition")["detail"]
    r = api.post(f"{z}/assessment/recusals", BUREAU, json={"expert": EXPERTS[1].sub, "reasons": "x"})
    assert "回避" in refused(api, r, 409, "illegal_transition")["detail"]
