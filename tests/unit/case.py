"""Drives a Zone aggregate (no store) through the process, step by step."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID
from uuid import uuid4

from domain.conditions import load_batches
from domain.indicators import load_indicator_system
from domain.policy import Policy
from domain.zone import Zone

from ..helpers import ANNUAL_STATISTICS
from ..helpers import ASSESSMENT_STATISTICS
from ..helpers import BUREAU
from ..helpers import EXPERTS
from ..helpers import FIRST_BATCH_MATERIALS
from ..helpers import GOOD_PLAN
from ..helpers import GOOD_STATISTICS
from ..helpers import LEADING
from ..helpers import NANCHENG
from ..helpers import PUBLIC
from ..helpers import SONGSHAN
from ..helpers import at
from ..helpers import doc
from ..helpers import full_scores
from ..helpers import objector

SYSTEM = load_indicator_system()
BATCHES = load_batches(Path(__file__).parent.parent / "data" / "batches-test.json")
POLICY = Policy()


def applied(actor: Any = SONGSHAN, day: str = "2021-07-15", zone_id: UUID | None = None, **overrides: Any) -> Zone:
    """The applicant files (first batch, Songshan Lake, by default)."""
    kwargs: dict[str, Any] = {
        "name": "松山湖软件和信息技术服务业集聚区",
        "area_type": "park",
        "sites": [{"name": "core area", "address": "松山湖大道"}],
        "batch": BATCHES["2021-first"],
        "materials": FIRST_BATCH_MATERIALS,
        "self_assessment": {"statistics": GOOD_STATISTICS, "scores": {"1": 5}},
        "plan": GOOD_PLAN,
        "system": SYSTEM,
    }
    kwargs.update(overrides)
    return Zone.file_application(zone_id=zone_id or uuid4(), actor=actor, at=at(day), **kwargs)


def reviewed(
    z: Zone, outcome: str, reasons: str = "", day: str = "2021-07-20", actor: Any = BUREAU, **given: Any
) -> Zone:
    """The formal review (形式审查) with ``outcome``, by the bureau unless ``actor`` says otherwise (``given``:
    the approval document, waivers)."""
    z.formal_review(
        actor=actor,
        at=at(day),
        outcome=outcome,
        reasons=reasons,
        batch=BATCHES[z.batch],
        system=SYSTEM,
        policy=POLICY,
        **given,
    )
    return z


def accepted(z: Zone | None = None, day: str = "2021-07-20") -> Zone:
    return reviewed(z or applied(), "accepted", day=day)


def report(z: Zone, year: int, day: str, actor: Any = SONGSHAN) -> None:
    """The annual report (年度报告) on ``year``, filed on ``day``."""
    z.file_annual_report(
        actor=actor,
        at=at(day),
        year=year,
        statistics=ANNUAL_STATISTICS,
        summary=f"Work in {year}.",
        documents=[doc(f"report-{year}.pdf")],
        policy=POLICY,
    )


def assessment_requested(z: Zone | None = None, day: str = "2021-07-28", hour: int = 10) -> Zone:
    """The applicant files its assessment application (评估申请) on ``day``."""
    z = z or accepted()
    z.request_assessment(
        actor=SONGSHAN if z.applicant_org == SONGSHAN.org else NANCHENG,
        at=at(day, hour),
        summary="The plan's targets are reached.",
        statistics=ASSESSMENT_STATISTICS,
        documents=[doc("assessment-application.pdf")],
        system=SYSTEM,
    )
    return z


def assessment_accepted(z: Zone | None = None, day: str = "2021-07-28", hour: int = 10) -> Zone:
    """The assessment application filed on ``day`` and accepted (受理) by the bureau an hour later."""
    z = assessment_requested(z, day, hour)
    z.decide_assessment_request(actor=BUREAU, at=at(day, hour + 1), outcome="accepted", reasons="Complete.")
    return z


def assessing(z: Zone | None = None, day: str = "2021-08-02") -> Zone:
    """The panel appointed on ``day`` — after the assessment application filed and accepted that morning, when
    the zone is only accepted (not when an upheld objection sent it back for reassessment)."""
    z = z or accepted()
    if z.status == "accepted" and not z.assessments:
        assessment_accepted(z, day, hour=7)
    z.appoint_panel(
        actor=BUREAU,
        at=at(day),
        experts=[{"sub": e.sub, "name": e.name} for e in EXPERTS],
        methods=["document_review", "site_visit"],
        policy=POLICY,
    )
    return z


def scored(z: Zone | None = None, day: str = "2021-08-20") -> Zone:
    z = z or assessing()
    for i, e in enumerate(EXPERTS):
        z.file_scores(actor=e, at=at(day, 9 + i), scores=full_scores(), comment="", system=SYSTEM)
    return z


def assessed(
    z: Zone | None = None, passed: bool = True, day: str = "2021-09-01", override_reasons: str | None = None
) -> Zone:
    """The bureau concludes (under the zone's call, its pass mark if any)."""
    z = z or scored()
    z.conclude_assessment(
        actor=BUREAU,
        at=at(day),
        passed=passed,
        report=doc("panel-report.pdf"),
        reasons="Panel report confirmed.",
        system=SYSTEM,
        policy=POLICY,
        batch=BATCHES[z.batch],
        override_reasons=override_reasons,
    )
    return z


def in_notice(
    z: Zone | None = None, day: str = "2021-09-24", starts: str = "2021-09-27", ends: str = "2021-10-08"
) -> Zone:
    z = z or assessed()
    z.publish_notice(
        actor=BUREAU,
        at=at(day),
        text="关于松山湖集聚区的公示",
        starts_on=date.fromisoformat(starts),
        ends_on=date.fromisoformat(ends),
        working_days=5,
        calendar="test",
    )
    return z


def recommended(z: Zone | None = None, day: str = "2021-10-11") -> Zone:
    """The bureau recommends the grant (提请) — or, after a passed review, the renewal — on ``day``."""
    z = z or in_notice()
    z.recommend(actor=BUREAU, at=at(day), document=doc("recommendation.pdf"), reasons="经公示无异议，提请授予。")
    return z


def granted(z: Zone | None = None, day: str = "2021-10-11", announcement_no: str = "东制造〔2021〕8号") -> Zone:
    """The bureau recommends and the leading group grants by announcement, both on ``day``."""
    z = recommended(z, day)
    z.grant(actor=LEADING, at=at(day), announcement_no=announcement_no, policy=POLICY)
    return z


def forge_v1_grant(z: Zone, day: str) -> None:
    """Records a grant on ``day`` as v1 recorded it (valid until the same date 3 years on), its guards bypassed."""
    d = date.fromisoformat(day)
    z._record(
        Zone.Granted,
        actor=LEADING,
        at=at(day),
        reason="",
        number=1,
        granted_on=day,
        valid_until=d.replace(year=d.year + 3).isoformat(),
        review_window_opens_on=d.replace(year=d.year + 3, month=d.month - 3).isoformat(),
        announcement_no="x",
    )


def forge_conclusion(z: Zone, day: str, passed: bool = True) -> None:
    """Records the conclusion on ``day`` from the sheets as they stand, its guards (the panel's minimum,
    every unconflicted member scored) bypassed."""
    panel = z.panel
    assert panel is not None
    counted = [s for s in panel.counted() if s in panel.sheets]
    result = SYSTEM.panel_result([dict(panel.sheets[s].scores) for s in counted])
    z._record(
        Zone.Assessed,
        actor=BUREAU,
        at=at(day),
        reason="Panel report confirmed.",
        passed=passed,
        report=doc("panel-report.pdf"),
        result=result,
        total=result["total"],
        max=SYSTEM.maximum,
        percentage=round(result["total"] / SYSTEM.maximum, 4),
        groups=SYSTEM.subtotals(result["scores"]),
        pass_mark=None,
        against_pass_mark=False,
        **{**panel.as_concluded(), "counted": counted},
    )


def objected(z: Zone, text: str, day: str = "2021-09-28", objection_id: str = "o1") -> Zone:
    """A member of the public (Li) objects to the notice on ``day``."""
    z.raise_objection(
        actor=PUBLIC, at=at(day), objection_id=objection_id, objector=objector("Li", "li@example.org"), text=text
    )
    return z


def resolved(
    z: Zone,
    outcome: str,
    consequence: str | None = None,
    *,
    reasons: str = "Checked.",
    day: str = "2021-10-11",
    objection_id: str = "o1",
) -> Zone:
    """The bureau resolves the objection: dismissed, or upheld with its ``consequence`` (reassess, reject)."""
    z.resolve_objection(
        actor=BUREAU,
        at=at(day),
        objection_id=objection_id,
        outcome=outcome,
        consequence=consequence,
        reasons=reasons,
    )
    return z


def evaluated(z: Zone, year: int, day: str, rating: str = "good", comments: str = "x") -> Zone:
    """The bureau evaluates the zone's report on ``year`` (跟踪评价) on ``day``."""
    z.evaluate_annual_report(actor=BUREAU, at=at(day), year=year, rating=rating, comments=comments, system=SYSTEM)
    return z
