"""The indicator system as data: the 2021 table, its discrepancies, scoring and threshold checks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from domain.conditions import basic_conditions
from domain.conditions import load_batches
from domain.conditions import materials_check
from domain.errors import InvalidValueError
from domain.indicators import load_indicator_system

from ..helpers import FIRST_BATCH_MATERIALS
from ..helpers import GOOD_PLAN
from ..helpers import GOOD_STATISTICS


def test_the_2021_table_has_25_indicators_8_first_level_3_groups(system: Any) -> None:
    assert len(system.indicators) == 25
    assert sum(len(g.first_level) for g in system.groups) == 8
    assert [g.name for g in system.groups] == ["创建基础", "创建目标", "创建措施"]
    assert system.indicators[14].weight == 8 and system.indicators[14].name == "招商引资"


def test_loading_reports_every_group_whose_weights_differ(system: Any) -> None:
    found = {(d.group, d.declared, d.actual) for d in system.discrepancies}
    assert found == {("创建基础", 25, 26), ("创建措施", 35, 32)}
    assert system.maximum == 98
    assert system.declared_maximum == 100
    assert "sum to 26" in str(system.discrepancies[0])


def test_a_version_that_adds_up_reports_nothing(tmp_path: Path) -> None:
    doc = json.loads((Path("domain/data/indicators-2021.json")).read_text("utf-8"))
    doc["version"] = "2021-corrected"
    doc["groups"][0]["declared_weight"] = 26
    doc["groups"][2]["declared_weight"] = 32
    path = tmp_path / "v.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), "utf-8")
    corrected = load_indicator_system(path)
    assert corrected.discrepancies == ()
    assert corrected.version == "2021-corrected"


def test_panel_mean_and_median(system: Any) -> None:
    sheets = [{str(n): 0.0 for n in system.indicators} for _ in range(3)]
    sheets[0]["1"], sheets[1]["1"], sheets[2]["1"] = 1.0, 2.0, 4.5
    mean = system.panel_result(sheets, "mean")
    median = system.panel_result(sheets, "median")
    assert mean["scores"]["1"] == pytest.approx(2.5)
    assert median["scores"]["1"] == 2.0
    assert mean["total"] == pytest.approx(2.5)
    assert mean["percentage"] == pytest.approx(2.5 / 98, abs=1e-6)
    with pytest.raises(InvalidValueError):
        system.panel_result([], "mean")


@pytest.mark.parametrize(
    ("stats", "indicator", "rule_part", "passed"),
    [
        ({"revenue": 1_000_000_000}, 1, "1 billion", True),
        ({"revenue": 999_999_999}, 1, "1 billion", False),
        ({"revenue": 20, "base_revenue": 10}, 12, "doubles", True),
        ({"revenue": 19, "base_revenue": 10}, 12, "doubles", False),
        ({"employees": 5, "city_employees": 100}, 13, "5 %", True),
        ({"employees": 4, "city_employees": 100}, 13, "5 %", False),
        ({"bachelor_share": 0.6}, 13, "60 %", True),
        ({"bachelor_share": 0.59}, 13, "60 %", False),
        ({"new_firms_over_20m": 8}, 14, "≥ 8", True),
        ({"firms_over_1bn": 1}, 15, "1 billion yuan: ≥ 1", True),
        ({"firms_over_500m": 1}, 15, "500 million yuan: ≥ 2", False),
        ({"firms_over_100m": 5}, 15, "100 million yuan: ≥ 5", True),
        ({"firms_over_20m": 19}, 15, "20 million yuan: ≥ 20", False),
        ({"platforms": 3}, 6, "≥ 3", True),
        ({"new_platforms": 2}, 16, "≥ 3 newly", False),
        ({"local_funds": 50, "city_funds": 100}, 19, "1 : 0.5", True),
        ({"local_funds": 49, "city_funds": 100}, 19, "1 : 0.5", False),
        ({"rd_spend": 7, "revenue": 100, "industry_rd_intensity": 0.07}, 10, "industry average", True),
        ({"rd_spend": 6, "revenue": 100, "industry_rd_intensity": 0.07}, 10, "industry average", False),
        ({}, 1, "1 billion", False),  # a statistic not reported fails, with value None
    ],
)
def test_threshold_checks(system: Any, stats: dict[str, Any], indicator: int, rule_part: str, passed: bool) -> None:
    checks = [c for c in system.threshold_checks(stats) if c["indicator"] == indicator and rule_part in c["rule"]]
    assert len(checks) == 1
    assert checks[0]["passed"] is passed
    if not stats:
        assert checks[0]["value"] is None


def test_basic_conditions_and_materials(system: Any) -> None:
    checks = basic_conditions(system, GOOD_STATISTICS, GOOD_PLAN)
    assert all(c["passed"] for c in checks), checks
    assert {c["rule"].split()[0] for c in checks} == {"§4.1", "§4.2", "§4.3", "§4.7"}
    batch = load_batches()["2021-first"]
    assert batch.is_exempt("songshan-lake") and batch.is_exempt("nancheng")
    assert not batch.is_exempt("changan")
    assert all(c["passed"] for c in materials_check(batch, "nancheng", FIRST_BATCH_MATERIALS))
    assert [c["kind"] for c in materials_check(batch, "changan", FIRST_BATCH_MATERIALS) if not c["passed"]] == [
        "application_form",
        "application_report",
        "self_assessment",
        "coordination_plan",
    ]
    assert (batch.start_year, batch.end_year) == (2021, 2023)
    assert set(batch.members.values()) == {"松山湖", "南城"}
