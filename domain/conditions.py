"""Calls for applications (batches), the materials checklist (§5) and the basic conditions (§4)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

from domain.errors import DeadlinePassedError
from domain.errors import TooEarlyError
from domain.indicators import IndicatorSystem
from domain.state_case import Plan
from domain.state_term import AnnualReport

MATERIAL_KINDS = (
    "application_form",
    "application_report",
    "self_assessment",
    "coordination_plan",
    "creation_plan",
    "other",
)

# §5 (1)-(3); item (4) "other" is whatever the call for applications names.
REQUIRED_MATERIALS = (
    ("application_form", "(1) 申请表 application form"),
    ("application_report", "(2) 书面申请报告 written application report"),
    ("self_assessment", "(2) 自评报告 self-assessment report"),
    ("coordination_plan", "(2) 协同工作机制方案 cross-department coordination plan"),
    ("creation_plan", "(3) 创建工作方案 creation work plan"),
)


@dataclass(frozen=True)
class Batch:
    """A call for applications (申报批次): who may apply, which materials, the creation period."""

    id: str
    name: str
    start_year: int
    end_year: int
    members: dict[str, str]
    members_only: bool
    exempt_materials: tuple[str, ...]
    other_materials_required: tuple[str, ...]
    opens_on: date | None = None  # the filing window, both days inclusive (Asia/Shanghai); None: no limit
    closes_on: date | None = None
    pass_mark: float | None = None  # a percentage of the indicator system's maximum, 0..100

    def check_window(self, day: date) -> None:
        """Refuses an application filed on ``day`` outside the call's filing window."""
        if self.opens_on is not None and day < self.opens_on:
            raise TooEarlyError(
                f"The call {self.id} opens for applications on {self.opens_on.isoformat()}; it is {day.isoformat()}."
            )
        if self.closes_on is not None and day > self.closes_on:
            raise DeadlinePassedError(
                f"The call {self.id} closed for applications on {self.closes_on.isoformat()}; it is {day.isoformat()}."
            )

    def is_exempt(self, org: str) -> bool:
        """Whether ``org`` submits only items (3) and (4) (the first-batch exemption, §5)."""
        return org in self.members and bool(self.exempt_materials)

    def required_materials(self, org: str) -> list[tuple[str, str]]:
        """The material kinds ``org`` must submit, with the checklist wording."""
        exempt = set(self.exempt_materials) if self.is_exempt(org) else set()
        required = [(k, label) for k, label in REQUIRED_MATERIALS if k not in exempt]
        required += [("other", f"(4) {label}") for label in self.other_materials_required]
        return required


def load_batches(path: str | Path | None = None) -> dict[str, Batch]:
    """Loads the calls for applications from a data file (default: the shipped first batch)."""
    if path is None:
        text = resources.files("domain.data").joinpath("batches.json").read_text("utf-8")
    else:
        text = Path(path).read_text("utf-8")
    out: dict[str, Batch] = {}
    for b in json.loads(text)["batches"]:
        out[b["id"]] = Batch(
            id=b["id"],
            name=b.get("name", b["id"]),
            start_year=int(b["creation_period"]["start_year"]),
            end_year=int(b["creation_period"]["end_year"]),
            members={m["org"]: m["name"] for m in b.get("members", [])},
            members_only=bool(b.get("members_only", False)),
            exempt_materials=tuple(b.get("exempt_materials", [])),
            other_materials_required=tuple(b.get("other_materials_required", [])),
            opens_on=_day(b.get("opens_on")),
            closes_on=_day(b.get("closes_on")),
            pass_mark=b.get("pass_mark"),
        )
    return out


def _day(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


def materials_check(batch: Batch, org: str, materials: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One check per required item of §5: present or missing."""
    counts: dict[str, int] = {}
    for m in materials:
        counts[m["kind"]] = counts.get(m["kind"], 0) + 1
    checks = []
    for kind, label in batch.required_materials(org):
        present = counts.get(kind, 0) > 0
        if present:
            counts[kind] -= 1
        checks.append({"check": "material", "rule": f"§5 {label}", "kind": kind, "value": present, "passed": present})
    return checks


# The basic conditions the document states "in principle" (原则上): the bureau may waive them, with reasons.
WAIVABLE_CONDITIONS = {"§4.3": "集聚区软件产业规模原则上不低于10亿元"}
SCALE_THRESHOLD = 1_000_000_000  # §4.3: 10亿元
MATCHING_THRESHOLD = 0.5  # §4.2: 对市相关扶持资金按1:0.5的比例配套资助


def basic_conditions(system: IndicatorSystem, statistics: dict[str, Any], plan: dict[str, Any]) -> list[dict[str, Any]]:
    """The measurable basic conditions of §4, each with rule, value and pass/fail."""
    checks: list[dict[str, Any]] = []
    # §4.3 industry base: software & IT services revenue only (``revenue``; indicator 1 also counts internet revenue).
    revenue = statistics.get("revenue")
    checks.append(
        {
            "check": "basic_condition",
            "indicator": None,
            "rule": "§4.3 " + WAIVABLE_CONDITIONS["§4.3"],
            "value": revenue,
            "threshold": SCALE_THRESHOLD,
            "passed": revenue is not None and revenue >= SCALE_THRESHOLD,
        }
    )
    # §4.2 a commitment: the matching ratio (local : city funds) the creation plan commits to, not funds already
    # spent (those are compared with it in the annual reports, indicator 19).
    ratio = plan.get("matching_ratio")
    checks.append(
        {
            "check": "basic_condition",
            "indicator": 19,
            "rule": "§4.2 the creation plan commits local funds matching city funds at ≥ 1 : 0.5 "
            "(对市相关扶持资金按1:0.5的比例配套资助: plan.matching_ratio)",
            "value": ratio,
            "threshold": MATCHING_THRESHOLD,
            "passed": ratio is not None and ratio >= MATCHING_THRESHOLD,
        }
    )
    # §4.7 ≥ 3 platforms: the same threshold as indicator 6.
    c = system.rule(6).check(statistics)
    checks.append({"check": "basic_condition", **c, "rule": f"§4.7 {c['rule']}"})
    # §4.1 the plan targets revenue doubling within 3 years of the base year.
    base = statistics.get("base_revenue", statistics.get("revenue"))
    base_year = plan.get("base_year")
    targets = [t for t in plan.get("targets", []) if isinstance(t, dict)]
    within: list[float] = [
        t["revenue"]
        for t in targets
        if base_year is not None and base_year < t.get("year", 0) <= base_year + 3 and t.get("revenue") is not None
    ]
    best = max(within) if within else None
    ratio = None if best is None or not base else round(best / base, 6)
    checks.append(
        {
            "check": "basic_condition",
            "indicator": 12,
            "rule": "§4.1 the plan targets revenue doubling within 3 years of the base year",
            "value": ratio,
            "threshold": 2,
            "passed": ratio is not None and ratio >= 2,
        }
    )
    # §4.1 explicit targets for firm cultivation, talent, investment attraction and platforms.
    areas = {
        "firm cultivation (软企培育)": ("firms_over_1bn", "firms_over_500m", "firms_over_100m", "firms_over_20m"),
        "talent (人才集聚)": ("employees", "bachelor_share"),
        "investment attraction (招商引资)": ("new_firms_over_20m",),
        "platforms (平台载体)": ("new_platforms", "platforms"),
    }
    named = {k for t in targets for k in t}
    missing = [area for area, keys in areas.items() if not named.intersection(keys)]
    checks.append(
        {
            "check": "basic_condition",
            "indicator": None,
            "rule": "§4.1 the plan names targets for firm cultivation, talent, investment attraction and platforms",
            "value": "missing: " + ", ".join(missing) if missing else "all named",
            "threshold": None,
            "passed": not missing,
        }
    )
    return checks


# §4.2: local funds match the city's support funds at 1 : 0.5 (对市相关扶持资金按1:0.5的比例配套资助) — the matching
# ratio the applicant commits to, checked against the funds it reports each year.
MATCHING_RATIO = 0.5
# The annex's group whose thresholds are the creation targets, to be reached within the 3 years (创建目标: revenue
# doubling, talent, attracted firms, firm cultivation, platforms); the others hold every year.
TARGET_GROUP = "创建目标"
FUNDS_INDICATOR = 19  # local : city funds ≥ 0.5 — checked as §4.2's commitment instead
# The indicator a plan target's field stands for (§4.1's areas, the annex's 创建目标), where there is one.
TARGET_INDICATORS = {
    "revenue": 12,
    "employees": 13,
    "bachelor_share": 13,
    "new_firms_over_20m": 14,
    "firms_over_1bn": 15,
    "firms_over_500m": 15,
    "firms_over_100m": 15,
    "firms_over_20m": 15,
    "new_platforms": 16,
    "platforms": 16,
    "local_funds": 19,
    "city_funds": 19,
}


def plan_target_checks(
    targets: Iterable[Mapping[str, Any]], year: int, stats: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """Whether a year's statistics reach every field of the creation plan's target for that year (§5 (3), §6.2);
    a figure not reported fails."""
    return _against_plan(targets, year, stats, check="plan_target", aim="target")


def _against_plan(
    targets: Iterable[Mapping[str, Any]], year: int, stats: Mapping[str, Any], *, check: str, aim: str, **named: Any
) -> list[dict[str, Any]]:
    """One check per field of the plan's target for ``year``: whether ``stats`` reaches it (a figure not reported
    fails); ``aim`` names it in the rule (the yearly target, the final goal), ``named`` adds to each check."""
    checks = []
    for target in targets:
        if target["year"] != year:
            continue
        for key, wanted in target.items():
            if key == "year":
                continue
            value = stats.get(key)
            checks.append(
                {
                    "check": check,
                    "indicator": TARGET_INDICATORS.get(key),
                    "field": key,
                    "rule": f"{key} reaches the creation plan's {aim} for {year}",
                    **named,
                    "value": value,
                    "threshold": wanted,
                    "passed": value is not None and value >= wanted,
                }
            )
    return checks


def plan_final_year(plan: Plan, creation_end_year: int) -> int:
    """The creation plan's final year: its last yearly target, or the creation period's last year."""
    years = [t["year"] for t in plan.targets]
    return max(years) if years else creation_end_year


def matching_check(stats: Mapping[str, Any], committed: float = MATCHING_RATIO) -> dict[str, Any]:
    """§4.2's matching commitment against the funds reported: local funds / city funds ≥ the committed ratio."""
    local, city = stats.get("local_funds"), stats.get("city_funds")
    ratio = None if local is None or not city else round(local / city, 4)
    return {
        "check": "matching_commitment",
        "indicator": FUNDS_INDICATOR,
        "rule": f"§4.2 local funds match city funds at the committed 1 : {committed:g} (配套资助)",
        "value": ratio,
        "threshold": committed,
        "passed": ratio is not None and ratio >= committed,
    }


def evaluation_checks(
    system: IndicatorSystem, plan: Plan, creation_end_year: int, year: int, stats: dict[str, Any]
) -> list[dict[str, Any]]:
    """The yearly tracking evaluation's checks (跟踪评价, §6.2): that year's plan targets, §4.2's matching
    commitment, the annex's standing thresholds, and its 3-year creation targets only in (or after) the plan's
    final year."""
    final = year >= plan_final_year(plan, creation_end_year)
    thresholds = [
        {"check": "threshold", **rule.check(stats)}
        for rule in system.rules()
        if rule.indicator != FUNDS_INDICATOR and (final or system.indicators[rule.indicator].group != TARGET_GROUP)
    ]
    committed = MATCHING_RATIO if plan.matching_ratio is None else plan.matching_ratio  # v1 plans committed none
    return [*plan_target_checks(plan.targets, year, stats), matching_check(stats, committed), *thresholds]


def review_checks(plan: Plan, reports: Iterable[AnnualReport]) -> list[dict[str, Any]]:
    """The review's checks against the creation plan's goals (参照集聚区创建工作方案发展目标组织复核, §6.4): the
    plan's final-year targets against the latest annual statistics (each check names the year reported)."""
    latest = max(reports, key=lambda r: r.year, default=None)
    years = [t["year"] for t in plan.targets]
    if not years:
        return []
    stats = dict(latest.statistics) if latest is not None else {}
    reported = latest.year if latest is not None else None
    return _against_plan(plan.targets, max(years), stats, check="plan_goal", aim="goal", statistics_year=reported)
