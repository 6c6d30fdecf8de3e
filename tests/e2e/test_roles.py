"""The role matrix: every command × every role. Exactly the allowed cells succeed; every other cell is
401 or 403 and records nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from domain.values import Actor

from ..helpers import ANNUAL_STATISTICS
from ..helpers import BUREAU
from ..helpers import EXPERTS
from ..helpers import GOOD_PLAN
from ..helpers import GOOD_STATISTICS
from ..helpers import INSPECTOR
from ..helpers import LEADING
from ..helpers import NANCHENG
from ..helpers import OUTSIDER_EXPERT
from ..helpers import RESERVE_EXPERTS
from ..helpers import SONGSHAN
from ..helpers import full_scores
from .conftest import Api
from .conftest import apply_first_batch
from .conftest import objections_of
from .conftest import revocation_body

# The columns of the matrix. None is the public (no token).
ROLES: dict[str, Actor | None] = {
    "public": None,
    "applicant (own zone)": SONGSHAN,
    "applicant (other organisation)": NANCHENG,
    "expert (on the panel)": EXPERTS[0],
    "expert (not on the panel)": OUTSIDER_EXPERT,
    "bureau": BUREAU,
    "leading_group": LEADING,
    "inspector": INSPECTOR,
}


class Matrix:
    """Tries one command as every role; only the allowed ones may succeed."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.cells: list[tuple[str, str, int]] = []

    def check(
        self, name: str, allowed: set[str], send: Callable[[Actor | None], Any], *, perform: str | None = None
    ) -> Any:
        """Every disallowed role is refused (401/403, nothing recorded); then ``perform`` (by default the one
        allowed role) succeeds."""
        if perform is None:
            (perform,) = allowed
        for role, actor in ROLES.items():
            if role in allowed:
                continue
            before = self.api.position()
            r = send(actor)
            expected = {401} if actor is None else {403}
            assert r.status_code in expected, f"{name} as {role}: {r.status_code} {r.text}"
            assert r.headers["content-type"].startswith("application/problem+json")
            assert self.api.position() == before, f"{name} as {role} recorded something"
            self.cells.append((name, role, r.status_code))
        r = send(ROLES[perform])
        assert r.status_code in (200, 201), f"{name} as {perform}: {r.status_code} {r.text}"
        self.cells.append((name, perform, r.status_code))
        return r.json()


def test_every_command_by_every_role(sqlite_api: Api) -> None:
    api, m = sqlite_api, Matrix(sqlite_api)
    plan = api.upload(SONGSHAN, "plan.pdf")
    materials = [{"kind": "creation_plan", "sha256": plan["sha256"], "name": "plan.pdf"}]
    body = {
        "name": "松山湖",
        "area_type": "park",
        "sites": [{"name": "core"}],
        "batch": "2021-first",
        "materials": materials,
        "self_assessment": {"statistics": GOOD_STATISTICS},
        "plan": GOOD_PLAN,
    }
    own = {"applicant (own zone)"}

    # POST /zones: an applicant of the first batch (Nancheng is a member too, so it is left out here)
    zid = m.check(
        "apply",
        own | {"applicant (other organisation)"},
        lambda a: api.post("/zones", a, json=body),
        perform="applicant (own zone)",
    )["id"]
    z = f"/zones/{zid}"
    m.check(
        "formal review (return)",
        {"bureau"},
        lambda a: api.post(f"{z}/formal-review", a, json={"outcome": "returned", "reasons": "More detail."}),
    )
    m.check(
        "supplement",
        own,
        lambda a: api.post(f"{z}/supplements", a, json={"materials": materials, "note": "ok"}),
        perform="applicant (own zone)",
    )
    m.check(
        "formal review (accept)", {"bureau"}, lambda a: api.post(f"{z}/formal-review", a, json={"outcome": "accepted"})
    )
    m.check(
        "progress report",
        own,
        lambda a: api.post(f"{z}/progress-reports", a, json={"summary": "两家平台进驻。"}),
        perform="applicant (own zone)",
    )
    m.check(
        "supervision",
        {"bureau"},
        lambda a: api.post(
            f"{z}/supervision", a, json={"kind": "supervision", "visited_on": "2021-07-15", "findings": "按计划。"}
        ),
    )
    application = api.upload(SONGSHAN, "assessment-application.pdf")
    request = {
        "summary": "创建目标已达成。",
        "statistics": GOOD_STATISTICS,
        "documents": [{"sha256": application["sha256"], "name": application["name"]}],
    }
    m.check(
        "assessment application",
        own,
        lambda a: api.post(f"{z}/assessment-request", a, json=request),
        perform="applicant (own zone)",
    )
    m.check(
        "assessment application decision",
        {"bureau"},
        lambda a: api.post(f"{z}/assessment-request/decision", a, json={"outcome": "accepted"}),
    )
    panel = {"experts": [{"sub": e.sub, "name": e.name} for e in EXPERTS], "methods": ["site_visit"]}
    m.check("appoint panel", {"bureau"}, lambda a: api.post(f"{z}/assessment/panel", a, json=panel))
    m.check(
        "declare conflict",
        {"expert (on the panel)"},
        lambda a: api.post(
            f"{z}/assessment/conflicts", a if a is not EXPERTS[0] else EXPERTS[2], json={"reason": "Former employee."}
        ),
    )
    m.check(
        "file scores",
        {"expert (on the panel)"},
        lambda a: api.put(f"{z}/assessment/scores", a, json={"scores": full_scores()}),
    )
    assert api.put(f"{z}/assessment/scores", EXPERTS[1], json={"scores": full_scores()}).status_code == 200
    # one conflict leaves two of three: the bureau adds two experts (增补) and recuses one of them (回避)
    added = {"experts": [{"sub": e.sub, "name": e.name, "org": e.org} for e in RESERVE_EXPERTS]}
    m.check("add panel members", {"bureau"}, lambda a: api.post(f"{z}/assessment/panel/members", a, json=added))
    recusal = {"expert": RESERVE_EXPERTS[1].sub, "reasons": "Advised the applicant in 2020."}
    m.check("recuse an expert", {"bureau"}, lambda a: api.post(f"{z}/assessment/recusals", a, json=recusal))
    assert api.put(f"{z}/assessment/scores", RESERVE_EXPERTS[0], json={"scores": full_scores()}).status_code == 200
    report = api.upload(BUREAU, "report.pdf")
    m.check(
        "conclude",
        {"bureau"},
        lambda a: api.post(
            f"{z}/assessment/conclusion",
            a,
            json={
                "passed": True,
                "report": {"sha256": report["sha256"], "name": "report.pdf"},
                "reasons": "Confirmed.",
            },
        ),
    )
    api.set_clock("2021-09-24")
    m.check(
        "publish notice",
        {"bureau"},
        lambda a: api.post(f"{z}/notice", a, json={"text": "公示", "starts_on": "2021-09-27"}),
    )
    api.set_clock("2021-09-28")
    objection = {"objector_name": "Li", "contact": "li@example.org", "text": "Doubt."}
    allowed = {
        "public",
        "applicant (own zone)",
        "applicant (other organisation)",
        "expert (on the panel)",
        "expert (not on the panel)",
        "bureau",
        "leading_group",
    }
    m.check("raise objection", allowed, lambda a: api.post(f"{z}/objections", a, json=objection), perform="public")
    letter = {**objection, "channel": "letter", "received_at": "2021-09-27T15:00:00+08:00"}
    m.check("register objection", {"bureau"}, lambda a: api.post(f"{z}/objections", a, json=letter))
    for role in allowed - {"public"}:  # every allowed cell succeeds
        r = api.post(f"{z}/objections", ROLES[role], json=objection)
        assert r.status_code == 201, (role, r.text)
    open_ids = [o["objection_id"] for o in objections_of(api, z.rsplit("/", 1)[-1], BUREAU)]
    assert len(open_ids) == len(allowed) + 1
    api.set_clock("2021-10-09")
    for oid in open_ids[1:]:
        assert (
            api.post(
                f"{z}/objections/{oid}/resolution", BUREAU, json={"outcome": "dismissed", "reasons": "Unfounded."}
            ).status_code
            == 200
        )
    m.check(
        "resolve objection",
        {"bureau"},
        lambda a: api.post(
            f"{z}/objections/{open_ids[0]}/resolution", a, json={"outcome": "dismissed", "reasons": "Unfounded."}
        ),
    )
    recommendation = api.upload(BUREAU, "recommendation.pdf")
    rec = {"document": {"sha256": recommendation["sha256"], "name": "recommendation.pdf"}, "reasons": "No objection."}
    m.check("recommend", {"bureau"}, lambda a: api.post(f"{z}/recommendation", a, json=rec))
    m.check("refuse grant", {"leading_group"}, lambda a: api.post(f"{z}/grant-refusal", a, json={"reasons": "Wait."}))
    assert api.post(f"{z}/recommendation", BUREAU, json=rec).status_code == 200  # recommended again
    m.check("grant", {"leading_group"}, lambda a: api.post(f"{z}/grant", a, json={"announcement_no": "No. 1"}))
    api.set_clock("2022-01-10")
    m.check(
        "annual report",
        own,
        lambda a: api.post(
            f"{z}/annual-reports", a, json={"year": 2021, "statistics": ANNUAL_STATISTICS, "summary": "2021."}
        ),
        perform="applicant (own zone)",
    )
    m.check(
        "evaluate report",
        {"bureau"},
        lambda a: api.post(f"{z}/annual-reports/2021/evaluation", a, json={"rating": "good", "comments": "On track."}),
    )
    api.set_clock("2024-08-01")
    m.check("request review", own, lambda a: api.post(f"{z}/review-request", a), perform="applicant (own zone)")
    m.check(
        "decide review", {"bureau"}, lambda a: api.post(f"{z}/review", a, json={"passed": False, "reasons": "Short."})
    )
    m.check(
        "submit rectification",
        own,
        lambda a: api.post(f"{z}/rectification", a, json={"summary": "Done."}),
        perform="applicant (own zone)",
    )
    revoke = revocation_body(api)
    m.check("revoke", {"bureau"}, lambda a: api.post(f"{z}/revocation", a, json=revoke))
    commands = {name for name, _, _ in m.cells}
    # the 17 commands of API.md v1, formal review both ways; v2's panel members, recusal, recommendation, grant
    # refusal, registered objection, progress report, supervision, assessment application and its decision
    assert len(commands) == 18 + 9
    # apply: 6 refused + 1; objections: 1 refused + 1; the 25 others: 7 refused + 1 each
    assert len(m.cells) == 7 + 2 + 25 * 8


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("/zones", {"applicant", "expert", "bureau", "leading_group", "inspector"}),
        ("/deadlines", {"bureau", "inspector"}),
        ("/audit/verify", {"bureau", "inspector"}),
        ("/audit/events", {"bureau", "inspector"}),
        ("/calendar/2026", {"applicant", "expert", "bureau", "leading_group", "inspector"}),
    ],
)
def test_queries_by_role(sqlite_api: Api, path: str, allowed: set[str]) -> None:
    for role, actor in ROLES.items():
        r = sqlite_api.get(path, actor)
        if actor is None:
            assert r.status_code == 401
        elif actor.role in allowed:
            assert r.status_code == 200, (role, r.text)
        else:
            assert r.status_code == 403, (role, r.text)


def test_zone_reads_by_role(sqlite_api: Api) -> None:
    api = sqlite_api
    zid = apply_first_batch(api)
    plan = api.upload(SONGSHAN, "plan.pdf")  # the same bytes: the same hash, stored once
    expect = {  # path → roles that may read it
        f"/zones/{zid}": {
            "applicant (own zone)",
            "expert (on the panel)",
            "expert (not on the panel)",
            "bureau",
            "leading_group",
            "inspector",
        },
        f"/zones/{zid}/history": {"applicant (own zone)", "bureau", "leading_group", "inspector"},
        f"/zones/{zid}/assessment": {"bureau", "leading_group", "inspector"},
        f"/zones/{zid}?as_of=2030-01-01T00:00:00%2B08:00": {"bureau", "leading_group", "inspector"},
        f"/documents/{plan['sha256']}": {"applicant (own zone)", "bureau", "leading_group", "inspector"},
    }
    for path, allowed in expect.items():
        for role, actor in ROLES.items():
            r = api.get(path, actor)
            want = 200 if role in allowed else (401 if actor is None else 403)
            assert r.status_code == want, (path, role, r.status_code, r.text)
    assert api.get("/zones", NANCHENG).json() == []
    assert api.get("/zones", NANCHENG, params={"org": "songshan-lake"}).status_code == 403
    assert [z["id"] for z in api.get("/zones", SONGSHAN).json()] == [zid]
    assert api.get("/notices", None).status_code == 200
