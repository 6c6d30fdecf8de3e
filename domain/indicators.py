"""The indicator system (指标体系) as versioned data: weights, groups, threshold checks, scoring."""

from __future__ import annotations

import json
import math
import statistics as pystats
from dataclasses import dataclass
from dataclasses import field
from importlib import resources
from pathlib import Path
from typing import Any

from domain.errors import InvalidValueError

STATISTICS_FIELDS = (
    "revenue",  # 软件和信息技术服务业 software & IT services revenue (§4.3, indicator 12)
    "internet_revenue",  # 互联网和相关服务业 internet & related services revenue (indicator 1 counts both)
    "base_revenue",
    "employees",
    "city_employees",
    "bachelor_share",
    "firms_over_1bn",
    "firms_over_500m",
    "firms_over_100m",
    "firms_over_20m",
    "new_firms_over_20m",
    "platforms",
    "new_platforms",
    "rd_spend",
    "industry_rd_intensity",
    "local_funds",
    "city_funds",
    "copyrights",
    "patents",
)

PANEL_METHODS = ("mean", "median")


@dataclass(frozen=True)
class ThresholdRule:
    """One measurable threshold of an indicator, computed from reported statistics."""

    indicator: int
    rule: str
    metric: dict[str, Any]
    op: str
    value: Any

    def check(self, stats: dict[str, Any]) -> dict[str, Any]:
        """Returns ``{indicator, rule, value, threshold, passed}``; a missing statistic fails."""
        measured = _metric(self.metric, stats)
        threshold = _metric(self.value, stats) if isinstance(self.value, dict) else self.value
        if measured is None or threshold is None:
            passed = False
        elif self.op == ">=":
            passed = measured >= threshold
        else:  # pragma: no cover - the loader admits only ">="
            raise ValueError(self.op)
        return {
            "indicator": self.indicator,
            "rule": self.rule,
            "value": None if measured is None else round(measured, 6),
            "threshold": threshold,
            "passed": passed,
        }


def _metric(spec: dict[str, Any], stats: dict[str, Any]) -> float | None:
    if "stat" in spec:
        v = stats.get(spec["stat"])
        return None if v is None else float(v)
    if "sum" in spec:  # a scope of several statistics (indicator 1): a part not reported counts 0, none → None
        parts = [stats[name] for name in spec["sum"] if stats.get(name) is not None]
        return float(sum(parts)) if parts else None
    num, den = (stats.get(name) for name in spec["ratio"])
    if num is None or den is None or den == 0:
        return None
    return float(num) / float(den)


@dataclass(frozen=True)
class Indicator:
    """A second-level indicator (二级指标) with its weight."""

    number: int
    name: str
    name_en: str
    weight: float
    first_level: str
    group: str
    checks: tuple[ThresholdRule, ...] = ()


@dataclass(frozen=True)
class Group:
    """A group (创建基础 / 创建目标 / 创建措施) with its declared and actual weight."""

    name: str
    name_en: str
    declared_weight: float
    actual_weight: float
    first_level: tuple[str, ...]


@dataclass(frozen=True)
class Discrepancy:
    """A group whose indicator weights do not add up to the weight the document declares."""

    group: str
    declared: float
    actual: float

    def __str__(self) -> str:
        return f"group {self.group}: indicator weights sum to {self.actual:g}, the document declares {self.declared:g}"


@dataclass(frozen=True)
class IndicatorSystem:
    """One version of the indicator system, as published."""

    version: str
    title: str
    groups: tuple[Group, ...]
    indicators: dict[int, Indicator] = field(repr=False)
    discrepancies: tuple[Discrepancy, ...]

    @property
    def maximum(self) -> float:
        """The highest total score this version allows (the sum of all weights, as published)."""
        return sum(i.weight for i in self.indicators.values())

    @property
    def declared_maximum(self) -> float:
        """The total the document's group headings declare."""
        return sum(g.declared_weight for g in self.groups)

    def rules(self) -> list[ThresholdRule]:
        """Every threshold rule of this version, by indicator number."""
        return [r for n in sorted(self.indicators) for r in self.indicators[n].checks]

    def rule(self, indicator: int, index: int = 0) -> ThresholdRule:
        """The ``index``-th threshold rule of an indicator."""
        return self.indicators[indicator].checks[index]

    def threshold_checks(self, stats: dict[str, Any]) -> list[dict[str, Any]]:
        """Every threshold check computed from reported statistics."""
        return [r.check(stats) for r in self.rules()]

    def validate_scores(self, raw: Any) -> dict[str, float]:
        """One expert's sheet: every indicator present once, each within 0..weight."""
        if not isinstance(raw, dict):
            raise InvalidValueError("Scores must be an object keyed by indicator number.")
        errors: list[dict[str, Any]] = []
        scores: dict[str, float] = {}
        for key, value in raw.items():
            try:
                number = int(str(key))
            except ValueError:
                number = -1
            if number not in self.indicators or str(number) != str(key).strip():
                errors.append({"loc": ["scores", str(key)], "msg": f"indicator {key} is not in version {self.version}"})
                continue
            weight = self.indicators[number].weight
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                errors.append({"loc": ["scores", str(key)], "msg": "a score must be a number"})
            elif not 0 <= value <= weight:
                errors.append(
                    {
                        "loc": ["scores", str(key)],
                        "msg": f"score {value:g} is outside 0..{weight:g} (the indicator's weight)",
                    }
                )
            else:
                scores[str(number)] = float(value)
        missing = [
            n
            for n in sorted(self.indicators)
            if str(n) not in scores and not any(e["loc"][-1] == str(n) for e in errors)
        ]
        for n in missing:
            errors.append({"loc": ["scores", str(n)], "msg": f"indicator {n} has no score"})
        if errors:
            raise InvalidValueError(f"The score sheet is not valid for indicator system {self.version}.", errors)
        return {str(n): scores[str(n)] for n in sorted(self.indicators)}

    def panel_result(self, sheets: list[dict[str, float]], method: str = "mean") -> dict[str, Any]:
        """Panel score per indicator, total, the version's maximum and the percentage."""
        if not sheets:
            raise InvalidValueError("No unconflicted expert has filed scores.")
        combine = pystats.fmean if method == "mean" else pystats.median
        per_indicator = {str(n): round(float(combine([s[str(n)] for s in sheets])), 4) for n in sorted(self.indicators)}
        total = round(sum(per_indicator.values()), 4)
        return {
            "indicator_system": self.version,
            "method": method,
            "experts_counted": len(sheets),
            "scores": per_indicator,
            "total": total,
            "maximum": self.maximum,
            "percentage": round(total / self.maximum, 6),
        }

    def subtotals(self, per_indicator: dict[str, float]) -> list[dict[str, Any]]:
        """Each group's panel score against its maximum (the sum of its indicators' weights) and the weight the
        document declares for it: 创建基础 26 against a declared 25, 创建措施 32 against 35 — shown, not
        renormalised."""
        out = []
        for g in self.groups:
            numbers = [n for n, i in self.indicators.items() if i.group == g.name]
            out.append(
                {
                    "name": g.name,
                    "declared": figure(g.declared_weight),
                    "max": figure(sum(self.indicators[n].weight for n in numbers)),
                    "score": figure(sum(per_indicator[str(n)] for n in numbers)),
                }
            )
        return out


def figure(value: float, places: int = 2) -> float | int:
    """A number as people write it: rounded to ``places``, and a whole number without its ``.0``."""
    rounded = round(float(value), places)
    return int(rounded) if rounded.is_integer() else rounded


def load_indicator_system(path: str | Path | None = None) -> IndicatorSystem:
    """Loads a version from its data file (default: the 2021 annex) and reports weight discrepancies."""
    if path is None:
        text = resources.files("domain.data").joinpath("indicators-2021.json").read_text("utf-8")
    else:
        text = Path(path).read_text("utf-8")
    doc = json.loads(text)
    groups: list[Group] = []
    indicators: dict[int, Indicator] = {}
    for g in doc["groups"]:
        actual = 0.0
        firsts: list[str] = []
        for f in g["first_level"]:
            firsts.append(f["name"])
            for i in f["indicators"]:
                number = int(i["number"])
                if number in indicators:
                    raise ValueError(f"indicator {number} defined twice in version {doc['version']}")
                rules = []
                for c in i.get("checks", []):
                    if c["op"] != ">=":
                        raise ValueError(f"indicator {number}: unsupported operator {c['op']!r}")
                    rules.append(ThresholdRule(number, c["rule"], c["metric"], c["op"], c["value"]))
                indicators[number] = Indicator(
                    number=number,
                    name=i["name"],
                    name_en=i.get("name_en", ""),
                    weight=float(i["weight"]),
                    first_level=f["name"],
                    group=g["name"],
                    checks=tuple(rules),
                )
                actual += float(i["weight"])
        groups.append(Group(g["name"], g.get("name_en", ""), float(g["declared_weight"]), actual, tuple(firsts)))
    discrepancies = tuple(
        Discrepancy(g.name, g.declared_weight, g.actual_weight) for g in groups if g.actual_weight != g.declared_weight
    )
    return IndicatorSystem(
        version=str(doc["version"]),
        title=doc.get("title", ""),
        groups=tuple(groups),
        indicators=dict(sorted(indicators.items())),
        discrepancies=discrepancies,
    )
