"""Actors, dates and the usual materials: the scenario vocabulary shared by the tests."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, time
from typing import Any

from domain.values import SHANGHAI, Actor

SONGSHAN = Actor("u-ssl", "applicant", "songshan-lake", "Songshan Lake IT office")
NANCHENG = Actor("u-nc", "applicant", "nancheng", "Nancheng IT office")
OTHER_TOWN = Actor("u-ch", "applicant", "changan", "Chang'an IT office")
BUREAU = Actor("u-bureau", "bureau", "dg-miit", "Bureau officer")
LEADING = Actor("u-lg", "leading_group", "dg-leading-group", "Leading group secretary")
INSPECTOR = Actor("u-insp", "inspector", "dg-audit", "Inspector")
PUBLIC = Actor("anonymous", "public", "", "")
EXPERTS = [Actor(f"u-exp{i}", "expert", f"univ-{i}", f"Expert {i}") for i in range(1, 4)]
OUTSIDER_EXPERT = Actor("u-exp9", "expert", "univ-9", "Expert 9")


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


def full_scores(value: float | None = None) -> dict[str, float]:
    """A complete score sheet of the 2021 system: each indicator at ``value`` or at 80 % of its weight."""
    from domain.indicators import load_indicator_system

    system = load_indicator_system()
    return {str(n): (value if value is not None else round(i.weight * 0.8, 2)) for n, i in system.indicators.items()}


def file_first_batch(app: Any, actor: Actor = SONGSHAN, name: str = "松山湖", area_type: str = "park") -> Any:
    """A complete first-batch application (the usual materials, statistics and plan) by ``actor``."""
    return app.apply(
        actor,
        name=name,
        area_type=area_type,
        sites=[{"name": "core"}],
        batch="2021-first",
        materials=FIRST_BATCH_MATERIALS,
        self_assessment={"statistics": GOOD_STATISTICS},
        plan=GOOD_PLAN,
    )
