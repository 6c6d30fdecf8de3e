"""Sample cases (a first batch's actors, documents, figures) and a walk through the process on the service."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import time
from typing import Any
from uuid import UUID

from application.clock import SettableClock
from application.service import ZoneApplication
from domain.indicators import load_indicator_system
from domain.values import SHANGHAI
from domain.values import Actor
from domain.zone import Zone

SONGSHAN = Actor("u-ssl", "applicant", "songshan-lake", "Songshan Lake IT office")
NANCHENG = Actor("u-nc", "applicant", "nancheng", "Nancheng IT office")
BUREAU = Actor("u-bureau", "bureau", "dg-miit", "Bureau officer")
LEADING = Actor("u-lg", "leading_group", "dg-leading-group", "Leading group secretary")
PUBLIC = Actor("anonymous", "public", "", "")
EXPERTS = [Actor(f"u-exp{i}", "expert", f"univ-{i}", f"Expert {i}") for i in range(1, 4)]


def at(day: str, hour: int = 10) -> datetime:
    """``YYYY-MM-DD`` at ``hour`` o'clock Asia/Shanghai, as a UTC instant."""
    d = datetime.fromisoformat(day).date()
    return datetime.combine(d, time(hour), SHANGHAI).astimezone(UTC)


def doc(name: str, kind: str | None = None) -> dict[str, str]:
    """A document reference whose hash is derived from its name."""
    ref = {"sha256": hashlib.sha256(name.encode()).hexdigest(), "name": name}
    return {"kind": kind, **ref} if kind else ref


FULL_MATERIALS = [
    doc("form.pdf", "application_form"),
    doc("report.pdf", "application_report"),
    doc("self-assessment.pdf", "self_assessment"),
    doc("coordination.pdf", "coordination_plan"),
    doc("creation-plan.pdf", "creation_plan"),
]
FIRST_BATCH_MATERIALS = [doc("creation-plan.pdf", "creation_plan"), doc("annex.pdf", "other")]

GOOD_STATISTICS: dict[str, Any] = {
    "revenue": 12_000_000_000,
    "base_revenue": 12_000_000_000,
    "platforms": 4,
    "local_funds": 60_000_000,
    "city_funds": 100_000_000,
    "employees": 40_000,
    "city_employees": 600_000,
    "bachelor_share": 0.65,
    "rd_spend": 900_000_000,
    "industry_rd_intensity": 0.07,
}
GOOD_PLAN: dict[str, Any] = {
    "base_year": 2020,
    "matching_ratio": 0.6,  # §4.2: the plan commits 0.6 yuan of local funds per yuan of city funds
    "targets": [
        {"year": 2021, "revenue": 15_000_000_000, "employees": 45_000},
        {"year": 2022, "revenue": 19_000_000_000, "firms_over_1bn": 1, "new_platforms": 2},
        {"year": 2023, "revenue": 25_000_000_000, "firms_over_20m": 20, "new_firms_over_20m": 8, "new_platforms": 3},
    ],
}
ANNUAL_STATISTICS: dict[str, Any] = {
    **GOOD_STATISTICS,
    "revenue": 16_000_000_000,
    "firms_over_1bn": 1,
    "firms_over_500m": 2,
    "firms_over_100m": 6,
    "firms_over_20m": 22,
    "new_firms_over_20m": 3,
    "new_platforms": 1,
}
# What an assessment application (评估申请) reports: the targets reached, internet revenue beside software revenue.
ASSESSMENT_STATISTICS: dict[str, Any] = {
    **ANNUAL_STATISTICS,
    "revenue": 24_000_000_000,
    "internet_revenue": 3_000_000_000,
    "new_firms_over_20m": 8,
    "new_platforms": 3,
}
# What the demo's granted zone reports each year of its first term, against GOOD_PLAN's targets: every target
# reached but 2022's new platforms (1 of 2) and §4.2's matching that year (0.55 against the 0.6 committed).
DEMO_YEARS: dict[int, dict[str, Any]] = {
    2021: {**ANNUAL_STATISTICS, "revenue": 15_600_000_000, "employees": 46_000, "firms_over_1bn": 0},
    2022: {**ANNUAL_STATISTICS, "revenue": 19_800_000_000, "employees": 48_500, "local_funds": 55_000_000},
    2023: {
        **ANNUAL_STATISTICS,
        "revenue": 25_600_000_000,
        "employees": 52_000,
        "firms_over_20m": 23,
        "new_firms_over_20m": 8,
        "new_platforms": 3,
        "bachelor_share": 0.68,
    },
}
ALL_METHODS = ["document_review", "site_visit", "key_interviews", "symposium"]


def full_scores(value: float | None = None, *, share: float = 0.8) -> dict[str, float]:
    """A complete score sheet of the 2021 system: each indicator at ``value`` or at ``share`` of its weight."""
    system = load_indicator_system()
    return {str(n): (value if value is not None else round(i.weight * share, 2)) for n, i in system.indicators.items()}


def file_first_batch(
    app: Any,
    actor: Actor = SONGSHAN,
    name: str = "松山湖",
    area_type: str = "park",
    batch: str = "2021-first",
    materials: list[dict[str, str]] = FIRST_BATCH_MATERIALS,
) -> Any:
    """A complete first-batch application (the usual materials, statistics and plan) by ``actor`` (or, with
    ``batch`` and ``materials``, the same application in a later call)."""
    return app.apply(
        actor,
        name=name,
        area_type=area_type,
        sites=[{"name": "core"}],
        batch=batch,
        materials=materials,
        self_assessment={"statistics": GOOD_STATISTICS},
        plan=GOOD_PLAN,
    )


@dataclass
class Walk:
    """Carries one zone through the process on the service, each step on its own day (Asia/Shanghai, 10:00)."""

    app: ZoneApplication
    clock: SettableClock
    zone_id: UUID | None = None
    applicant: Actor = SONGSHAN  # who applied: the zone's applicant acts for it

    def on(self, day: str) -> Walk:
        """Moves the clock to ``day``."""
        self.clock.set(at(day))
        return self

    @property
    def zone(self) -> Zone:
        """The zone as it stands."""
        assert self.zone_id is not None, "apply first"
        return self.app.get_zone(self.zone_id)

    def apply(
        self,
        day: str,
        actor: Actor = SONGSHAN,
        name: str = "松山湖软件和信息技术服务业集聚区",
        batch: str = "2021-first",
        materials: list[dict[str, str]] = FIRST_BATCH_MATERIALS,
    ) -> Walk:
        """The applicant files a complete first-batch application (or one in the call ``batch``)."""
        self.zone_id = file_first_batch(self.on(day).app, actor, name, "park", batch, materials).id
        self.applicant = actor
        return self

    def step(self, day: str, act: Callable[[UUID], Any]) -> Walk:
        """Any command, on ``day``."""
        assert self.zone_id is not None, "apply first"
        act_on = self.on(day).zone_id
        assert act_on is not None
        act(act_on)
        return self

    def accept(self, day: str) -> Walk:
        """The bureau's formal review accepts the application."""
        return self.step(day, lambda z: self.app.formal_review(z, BUREAU, outcome="accepted"))

    def admit(self, day: str, *, hour: int = 10) -> Walk:
        """The applicant files its assessment application (评估申请) on ``day`` and the bureau accepts it (受理) two
        hours later."""
        assert self.zone_id is not None, "apply first"
        zone_id = self.zone_id
        self.clock.set(at(day, hour))
        self.app.request_assessment(
            zone_id,
            self.applicant,
            summary="创建目标已达成，申请评估。",
            statistics=ASSESSMENT_STATISTICS,
            documents=[doc("assessment-application.pdf")],
        )
        self.clock.set(at(day, hour + 2))
        self.app.decide_assessment_request(zone_id, BUREAU, outcome="accepted", reasons="材料齐全，予以受理。")
        return self

    def assess(self, day: str, *, passed: bool = True, share: float = 0.8) -> Walk:
        """A panel of three is appointed on ``day`` (the assessment application filed and accepted that morning
        if it has not been), scores a week later, and the bureau concludes the next week."""
        d = date.fromisoformat(day)
        if self.zone.status == "accepted" and not self.zone.assessments:
            self.admit(day, hour=7)
        self.step(
            day,
            lambda z: self.app.appoint_panel(
                z, BUREAU, experts=[{"sub": e.sub, "name": e.name} for e in EXPERTS], methods=ALL_METHODS
            ),
        )
        scored, concluded = _later(d, 7), _later(d, 14)
        for expert in EXPERTS:
            self.score(scored, expert, share)
        reasons = "The panel's report is confirmed." if passed else "The panel found the targets not reached."
        return self.step(
            concluded,
            lambda z: self.app.conclude_assessment(
                z, BUREAU, passed=passed, report=doc("panel-report.pdf"), reasons=reasons
            ),
        )

    def score(self, day: str, expert: Actor, share: float = 0.8) -> Walk:
        """One panel expert files a full sheet at ``share`` of each weight."""
        return self.step(day, lambda z: self.app.file_scores(z, expert, scores=full_scores(share=share)))

    def notice(self, day: str, starts_on: str | None = None) -> Walk:
        """The bureau publishes the public notice (公示)."""
        start = date.fromisoformat(starts_on or day)
        text = f"关于{self.zone.name}的公示：经专家评估，拟认定为东莞市软件和信息技术服务业集聚区。"
        return self.step(day, lambda z: self.app.publish_notice(z, BUREAU, text=text, starts_on=start))

    def objection(self, day: str, *, resolve_on: str | None = None) -> Walk:
        """A member of the public objects; with ``resolve_on`` the bureau dismisses it that day."""
        raised: list[str] = []
        self.step(
            day,
            lambda z: raised.append(
                self.app.raise_objection(
                    z, PUBLIC, objector_name="李雷", contact="li@example.org", text="营业收入数据偏高，请核实。"
                )[1]
            ),
        )
        if resolve_on is None:
            return self
        return self.step(
            resolve_on,
            lambda z: self.app.resolve_objection(
                z, BUREAU, objection_id=raised[0], outcome="dismissed", reasons="经核查审计报告，数据属实。"
            ),
        )

    def recommend(self, day: str, reasons: str = "经公示无异议，提请授予。") -> Walk:
        """The bureau recommends the grant — or, after a passed review, the renewal — to the leading group (提请)."""
        return self.step(
            day, lambda z: self.app.recommend(z, BUREAU, document=doc("recommendation.pdf"), reasons=reasons)
        )

    def grant(self, day: str, announcement_no: str = "东制造〔2021〕8号", *, recommended_on: str | None = None) -> Walk:
        """The bureau recommends (on ``recommended_on``, by default the same day) and the leading group grants the
        title by announcement (公告授予)."""
        self.recommend(recommended_on or day)
        return self.step(day, lambda z: self.app.grant(z, LEADING, announcement_no=announcement_no))

    def report(
        self, year: int, *, on: str | None = None, actor: Actor = SONGSHAN, statistics: dict[str, Any] | None = None
    ) -> Walk:
        """The applicant files the annual report on ``year`` (by default on January 15 of the next year), with
        ``statistics`` (by default ``ANNUAL_STATISTICS``)."""
        figures = ANNUAL_STATISTICS if statistics is None else statistics
        return self.step(
            on or f"{year + 1}-01-15",
            lambda z: self.app.file_annual_report(
                z, actor, year=year, statistics=figures, summary=f"{year}年度工作总结"
            ),
        )

    def evaluate(self, year: int, day: str, rating: str = "good") -> Walk:
        """The bureau's yearly tracking evaluation (跟踪评价)."""
        return self.step(
            day, lambda z: self.app.evaluate_annual_report(z, BUREAU, year=year, rating=rating, comments="按计划推进。")
        )

    def to_grant(self, applied_on: str = "2021-07-15", actor: Actor = SONGSHAN, name: str | None = None) -> Walk:
        """From application to grant, first batch: formal review, assessment, notice with one dismissed
        objection, grant — about three months."""
        d = date.fromisoformat(applied_on)
        self.apply(applied_on, actor, name or "松山湖软件和信息技术服务业集聚区")
        self.accept(_later(d, 5)).admit(_later(d, 12)).assess(_later(d, 18))
        self.notice(_later(d, 40)).objection(_later(d, 41), resolve_on=_later(d, 60))
        return self.grant(_later(d, 60))


def _later(day: date, days: int) -> str:
    return date.fromordinal(day.toordinal() + days).isoformat()


SECOND_CALL: dict[str, Any] = {
    "call_id": "2024-second",
    "name": "第二批次东莞市软件和信息技术服务业集聚区 (second batch)",
    "opens_on": date(2024, 4, 1),
    "closes_on": date(2024, 6, 30),
    "creation_period": {"start_year": 2024, "end_year": 2026},
    "other_materials_required": ["园区发展情况说明 park development statement"],
    "pass_mark": 60,
}
SECOND_CALL_MATERIALS = [*FULL_MATERIALS, doc("park-statement.pdf", "other")]


def demo(app: ZoneApplication, clock: SettableClock) -> list[Zone]:
    """Fills a store without zones with zones at different stages, 2021–2024 (a newcomer's first look), in
    the first batch (imported from the calls file first) and a second call the bureau publishes in 2024:
    Songshan Lake granted, three annual reports evaluated, its review (复核) passed — in its second term;
    Nancheng's first application returned, supplemented and not passed; its second, which follows that case,
    in public notice (公示) with an objection open; a second Songshan Lake zone, in the second call, under
    assessment."""
    if next(app.zone_ids(), None) is not None:
        raise ValueError("The store already holds events of zones; the demo fills a store without zones only.")
    app.import_calls()
    songshan = Walk(app, clock).to_grant("2021-07-15", SONGSHAN, "松山湖软件和信息技术服务业集聚区")
    for year in (2021, 2022, 2023):
        songshan.report(year, statistics=DEMO_YEARS[year])
        songshan.evaluate(year, f"{year + 1}-03-01", rating="excellent" if year == 2023 else "good")
    songshan.step("2024-07-15", lambda z: app.request_review(z, SONGSHAN, reason="创建期满，申请复核。"))
    songshan.step(
        "2024-08-01",
        lambda z: app.decide_review(z, BUREAU, passed=True, reasons="复核通过，各项指标达到创建方案目标。"),
    )
    songshan.grant("2024-08-20", "东制造〔2024〕15号", recommended_on="2024-08-05")  # 继续授予

    returned = Walk(app, clock).apply("2021-07-16", NANCHENG, "南城软件和信息技术服务业集聚区")
    returned.step("2021-07-21", lambda z: app.formal_review(z, BUREAU, outcome="returned", reasons="请补充年度目标。"))
    returned.step("2021-07-26", lambda z: app.supplement(z, NANCHENG, materials=[doc("targets.pdf", "other")]))
    returned.accept("2021-07-28").admit("2021-08-04").assess("2021-08-09", passed=False, share=0.5)

    in_notice = Walk(app, clock).apply("2024-03-04", NANCHENG, "南城数字经济产业园集聚区").accept("2024-03-11")
    in_notice.admit("2024-03-13")
    in_notice.assess("2024-03-18").notice("2024-04-12", starts_on="2024-04-15").objection("2024-04-16")

    clock.set(at("2024-03-25"))
    app.publish_call(BUREAU, **SECOND_CALL, reason="东莞市工业和信息化局关于开展第二批集聚区创建申报工作的通知")
    assessing = Walk(app, clock).apply(
        "2024-05-06", SONGSHAN, "松山湖国际创新创业社区集聚区", SECOND_CALL["call_id"], SECOND_CALL_MATERIALS
    )
    assessing.accept("2024-05-13").admit("2024-05-15")
    assessing.step(
        "2024-05-20",
        lambda z: app.appoint_panel(
            z, BUREAU, experts=[{"sub": e.sub, "name": e.name} for e in EXPERTS], methods=ALL_METHODS
        ),
    ).score("2024-05-27", EXPERTS[0])
    return [w.zone for w in (songshan, returned, in_notice, assessing)]
