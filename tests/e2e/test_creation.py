"""Over HTTP: the approval to start, the creation period, its end, and the assessment application (v2, steps 2–4)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..helpers import ASSESSMENT_STATISTICS
from ..helpers import BUREAU
from ..helpers import EXPERTS
from ..helpers import GOOD_STATISTICS
from ..helpers import INSPECTOR
from ..helpers import NANCHENG
from ..helpers import SONGSHAN
from .conftest import Api
from .conftest import admit
from .conftest import recommended_and_granted
from .conftest import refused
from .test_lifecycle import apply
from .test_lifecycle import to_notice

SMALL = {**GOOD_STATISTICS, "revenue": 900_000_000, "base_revenue": 900_000_000, "internet_revenue": 400_000_000}


def applied(api: Api, statistics: dict[str, Any] | None = None) -> str:
    """Songshan Lake applies in the first batch (with ``statistics`` instead of the usual ones)."""
    zid = str(apply(api, SONGSHAN, "松山湖软件和信息技术服务业集聚区")["id"])
    if statistics is not None:  # the supplement path is not what is tested here: file the figures directly
        r = api.post(f"/zones/{zid}/formal-review", BUREAU, json={"outcome": "returned", "reasons": "新数据。"})
        assert r.status_code == 200, r.text
        r = api.post(f"/zones/{zid}/supplements", SONGSHAN, json={"statistics": statistics})
        assert r.status_code == 200, r.text
    return zid


def ref(document: dict[str, Any]) -> dict[str, str]:
    return {"sha256": document["sha256"], "name": document["name"]}


def unchanged(api: Api, send: Callable[[], Any], status: int, code: str) -> dict[str, Any]:
    """``send()`` is refused with ``status`` and ``code``, and records nothing (the log's position is taken before
    the request is sent: a response already received could not show it)."""
    before = api.position()
    problem = refused(api, send(), status, code)
    assert api.position() == before
    return problem


def test_the_approval_to_start_with_its_document_and_a_waiver_of_the_in_principle_scale(api: Api) -> None:
    zid = applied(api, SMALL)
    z = f"/zones/{zid}"
    approval = ref(api.upload(BUREAU, "批复.pdf"))
    problem = unchanged(
        api, lambda: api.post(f"{z}/formal-review", BUREAU, json={"outcome": "accepted"}), 409, "conditions_not_met"
    )
    assert "集聚区软件产业规模原则上不低于10亿元" in problem["detail"]
    for rule in ("§4.1", "§4.7", "§5"):
        body = {"outcome": "accepted", "waivers": [{"rule": rule, "reasons": "x"}]}
        problem = unchanged(
            api, lambda b=body: api.post(f"{z}/formal-review", BUREAU, json=b), 409, "conditions_not_met"
        )
        assert "原则上" in problem["detail"]
    body = {"outcome": "accepted", "waivers": [{"rule": "§4.3", "reasons": ""}]}
    unchanged(api, lambda: api.post(f"{z}/formal-review", BUREAU, json=body), 422, "validation_failed")
    unknown = {"sha256": "0" * 64, "name": "批复.pdf"}
    body = {"outcome": "accepted", "approval": unknown, "waivers": [{"rule": "§4.3", "reasons": "规模接近。"}]}
    unchanged(api, lambda: api.post(f"{z}/formal-review", BUREAU, json=body), 422, "validation_failed")
    body = {"outcome": "accepted", "approval": approval, "waivers": [{"rule": "§4.3", "reasons": "规模接近。"}]}
    r = api.post(f"{z}/formal-review", BUREAU, json=body)
    assert r.status_code == 200, r.text
    zone = r.json()
    assert zone["status"] == "accepted"
    assert zone["creation_period"] == {
        "end_year": 2023,
        "start_year": 2021,
        "ends_on": "2023-12-31",
        "starts_on": "2021-07-15",
    }
    assert zone["formal_review"]["approval"] == approval
    assert zone["formal_review"]["waivers"] == [{"reasons": "规模接近。", "rule": "§4.3"}]
    scale = next(c for c in zone["formal_review"]["checks"] if c["rule"].startswith("§4.3"))
    assert (scale["passed"], scale["waived"], scale["value"]) == (False, True, 900_000_000)
    assert api.get(z, SONGSHAN).json()["formal_review"]["waivers"][0]["rule"] == "§4.3"  # the dossier shows it


def test_progress_supervision_and_the_assessment_application(api: Api) -> None:
    zid = applied(api)
    z = f"/zones/{zid}"
    unchanged(
        api, lambda: api.post(f"{z}/progress-reports", SONGSHAN, json={"summary": "早了。"}), 409, "illegal_transition"
    )
    visit = {"kind": "supervision", "visited_on": "2021-07-15", "findings": "按计划推进。"}
    unchanged(api, lambda: api.post(f"{z}/supervision", BUREAU, json=visit), 409, "illegal_transition")
    assert api.post(f"{z}/formal-review", BUREAU, json={"outcome": "accepted"}).status_code == 200
    panel = {"experts": [{"sub": e.sub, "name": e.name} for e in EXPERTS], "methods": ["site_visit"]}
    unchanged(api, lambda: api.post(f"{z}/assessment/panel", BUREAU, json=panel), 409, "illegal_transition")
    unchanged(api, lambda: api.post(f"{z}/progress-reports", NANCHENG, json={"summary": "x"}), 403, "forbidden")
    stats = {"revenue": 13_000_000_000, "internet_revenue": 2_000_000_000}
    r = api.post(f"{z}/progress-reports", SONGSHAN, json={"summary": "平台进驻。", "statistics": stats})
    assert r.status_code == 200, r.text
    assert [(p["number"], p["statistics"]) for p in r.json()["progress_reports"]] == [(1, stats)]
    unchanged(
        api, lambda: api.post(f"{z}/supervision", BUREAU, json={**visit, "kind": "lunch"}), 422, "validation_failed"
    )
    unchanged(
        api,
        lambda: api.post(f"{z}/supervision", BUREAU, json={**visit, "visited_on": "2021-07-16"}),
        422,
        "validation_failed",
    )  # a day still to come
    r = api.post(f"{z}/supervision", BUREAU, json=visit)
    assert r.status_code == 200, r.text
    assert r.json()["supervision"][0]["findings"] == "按计划推进。"
    document = ref(api.upload(SONGSHAN, "评估申请.pdf"))
    request = {"summary": "达标。", "statistics": ASSESSMENT_STATISTICS, "documents": [document]}
    unchanged(api, lambda: api.post(f"{z}/assessment-request", BUREAU, json=request), 403, "forbidden")
    unchanged(
        api,
        lambda: api.post(f"{z}/assessment-request", SONGSHAN, json={**request, "documents": []}),
        422,
        "validation_failed",
    )
    decision = {"outcome": "refused", "reasons": "缺少审计报告。"}
    unchanged(
        api, lambda: api.post(f"{z}/assessment-request/decision", BUREAU, json=decision), 409, "illegal_transition"
    )
    r = api.post(f"{z}/assessment-request", SONGSHAN, json=request)
    assert r.status_code == 200 and r.json()["status"] == "assessment_requested", r.text
    assert r.json()["status_text"].startswith("awaiting the bureau's acceptance")
    unchanged(
        api,
        lambda: api.post(f"{z}/assessment-request/decision", BUREAU, json={"outcome": "refused"}),
        422,
        "validation_failed",
    )  # a refusal says why
    r = api.post(f"{z}/assessment-request/decision", BUREAU, json=decision)
    assert r.status_code == 200 and r.json()["status"] == "accepted", r.text
    zone = admit(api, zid)  # filed again while the period runs, and accepted
    assert [a["decision"]["outcome"] for a in zone["assessment_requests"]] == ["refused", "accepted"]
    assert api.post(f"{z}/assessment/panel", BUREAU, json=panel).status_code == 200
    r = api.post(f"{z}/supervision", BUREAU, json={**visit, "kind": "evaluation"})
    assert r.status_code == 200 and len(r.json()["supervision"]) == 2


def test_the_creation_period_ends_once_and_is_extended_then_cancelled(api: Api) -> None:
    zid = applied(api)
    z = f"/zones/{zid}"
    assert api.post(f"{z}/formal-review", BUREAU, json={"outcome": "accepted"}).status_code == 200
    api.set_clock("2023-12-31", 23)
    body = {"outcome": "cancelled", "reasons": "未达标。"}
    unchanged(api, lambda: api.post(f"{z}/creation-period", BUREAU, json=body), 409, "too_early")
    assert [f for f in api.sweep() if f["kind"] == "creation_period_ended"] == []
    api.set_clock("2024-01-01", 0)
    fired = api.sweep()
    assert [(f["zone_id"], f["key"]) for f in fired] == [(zid, "creation_period_ended:2023-12-31")]
    assert api.sweep() == []  # once
    rows = api.get("/deadlines", INSPECTOR, params={"kind": "creation_period_ended"}).json()
    assert [(d["zone_id"], d["due_on"], d["recorded"]) for d in rows] == [(zid, "2023-12-31", True)]
    api.set_clock("2024-01-05")
    unchanged(api, lambda: api.post(f"{z}/creation-period", SONGSHAN, json=body), 403, "forbidden")
    extend = {"outcome": "extended", "reasons": "延期半年。"}
    unchanged(api, lambda: api.post(f"{z}/creation-period", BUREAU, json=extend), 422, "validation_failed")
    unchanged(
        api,
        lambda: api.post(f"{z}/creation-period", BUREAU, json={**extend, "ends_on": "2023-12-30"}),
        422,
        "validation_failed",
    )
    r = api.post(f"{z}/creation-period", BUREAU, json={**extend, "ends_on": "2024-06-30"})
    assert r.status_code == 200, r.text
    assert r.json()["creation_period"]["ends_on"] == "2024-06-30"
    assert r.json()["creation_period"]["extensions"][0]["previous_ends_on"] == "2023-12-31"
    rows = api.get("/deadlines", BUREAU, params={"kind": "creation_period_ended"}).json()
    assert [(d["due_on"], d["recorded"]) for d in rows] == [("2024-06-30", False)]
    unchanged(api, lambda: api.post(f"{z}/creation-period", BUREAU, json=body), 409, "too_early")  # a new period runs
    api.set_clock("2024-07-01", 0)
    assert [f["key"] for f in api.sweep()] == ["creation_period_ended:2024-06-30"]
    api.set_clock("2024-07-05")
    r = api.post(f"{z}/creation-period", BUREAU, json=body)
    assert r.status_code == 200, r.text
    zone = r.json()
    assert zone["status"] == "revoked"
    assert (zone["revocation"]["scope"], zone["revocation"]["cause"]) == (
        "creation_qualification",
        "creation_period_ended",
    )
    assert zone["deadlines"] == []
    inspection = api.get("/audit/inspection", INSPECTOR, params={"to": "2024-07-06T00:00:00+08:00"}).json()
    assert inspection["clean"] is True, inspection["findings"]  # a revocation the process provides for
    history = api.get(f"{z}/history", INSPECTOR).json()
    assert [h["type"] for h in history][-4:] == [
        "CreationPeriodEnded",
        "CreationPeriodExtended",
        "CreationPeriodEnded",
        "Revoked",
    ]


def test_a_grant_before_the_end_leaves_no_creation_deadline_to_fire(api: Api) -> None:
    zid = str(apply(api, SONGSHAN, "松山湖软件和信息技术服务业集聚区")["id"])
    api.set_clock("2021-09-24")
    to_notice(api, zid, day="2021-09-27")
    api.set_clock("2021-10-11")
    assert recommended_and_granted(api, zid).status_code == 200
    api.set_clock("2024-01-02")
    assert "creation_period_ended" not in {f["kind"] for f in api.sweep()}
    assert api.get("/deadlines", BUREAU, params={"kind": "creation_period_ended"}).json() == []
    unchanged(
        api,
        lambda: api.post(f"/zones/{zid}/progress-reports", SONGSHAN, json={"summary": "已授予。"}),
        409,
        "illegal_transition",
    )
    visit = {"kind": "evaluation", "visited_on": "2024-01-02", "findings": "测评良好。"}
    assert api.post(f"/zones/{zid}/supervision", BUREAU, json=visit).status_code == 200
