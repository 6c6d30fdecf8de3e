"""The console's dynamic management page (动态管理, §6.4): the zones side by side per year — each year's evaluation
rating, and the statistics reported against the creation plan's targets for the chosen year, a chart per measure
with its table; the filters; who may see which zones; bad input."""

from __future__ import annotations

import re
from typing import Any

from application.sample import ANNUAL_STATISTICS
from application.sample import GOOD_STATISTICS
from application.sample import NANCHENG
from application.sample import SECOND_CALL_MATERIALS
from application.sample import SONGSHAN
from application.sample import Walk
from application.sample import at

from ..helpers import BUREAU
from ..helpers import EXPERTS
from ..helpers import INSPECTOR
from ..helpers import LEADING
from .conftest import Api
from .console_helpers import fill_demo
from .console_helpers import page
from .console_helpers import sample_documents
from .console_helpers import sign_in

PLAN_2024: dict[str, Any] = {
    "base_year": 2023,
    "matching_ratio": 0.5,
    "targets": [
        {"year": 2024, "revenue": 14_000_000_000, "employees": 42_000, "new_platforms": 1},
        {"year": 2025, "revenue": 18_000_000_000, "firms_over_1bn": 1},
        {"year": 2026, "revenue": 25_000_000_000, "firms_over_20m": 20, "new_firms_over_20m": 8, "new_platforms": 3},
    ],
}


def with_a_second_title(api: Api) -> dict[str, str]:
    """The demo, then Nancheng's zone in the second call granted on 2024-07-15 with a plan from 2024: its 2024
    report (revenue 13.5 bn against 14 bn) evaluated "pass"; Songshan Lake files none for 2024; the clock on
    2025-03-10. Returns the zones' ids by status (the new one as ``second``)."""
    ids = fill_demo(api)
    container = api.client.app.state.container  # type: ignore[attr-defined]
    app, clock = container.app, container.clock
    walk = Walk(app, clock, applicant=NANCHENG)
    with sample_documents(api):
        clock.set(at("2024-06-03"))
        walk.zone_id = app.apply(
            NANCHENG,
            name="南城数字文化产业集聚区",
            area_type="park",
            sites=[{"name": "core"}],
            batch="2024-second",
            materials=SECOND_CALL_MATERIALS,
            self_assessment={"statistics": GOOD_STATISTICS},
            plan=PLAN_2024,
        ).id
        walk.accept("2024-06-05").admit("2024-06-07").assess("2024-06-10").notice("2024-07-01").grant("2024-07-15")
        figures = {**ANNUAL_STATISTICS, "revenue": 13_500_000_000, "employees": 43_000, "new_platforms": 1}
        walk.report(2024, on="2025-01-20", actor=NANCHENG, statistics=figures)
        walk.evaluate(2024, "2025-03-01", rating="pass")
    clock.set(at("2025-03-10"))
    container.runner.wait_for(api.position(), timeout=10)
    return {**ids, "second": str(walk.zone_id)}


def cell(html: str, zone_id: str, year: int) -> str:
    """The ratings table's cell for a zone and year."""
    row = html.split(f'<tr class="rating-row" data-zone-id="{zone_id}">')[1].split("</tr>")[0]
    found = re.search(rf'data-year="{year}">(.*?)</td>', row, re.S)
    assert found, (zone_id, year, row)
    return found.group(1)


def measure(html: str, name: str) -> str:
    """One measure's chart and table."""
    return html.split(f'id="measure-{name}"')[1].split("</table>")[0]


def line(part: str, zone_id: str) -> list[str]:
    """A zone's row of a measure's table: reported, target, reached."""
    row = part.split(f'<tr data-zone-id="{zone_id}">')[1].split("</tr>")[0]
    return [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]


def test_each_year_s_rating_and_the_latest_year_s_figures_against_the_plan(api: Api) -> None:
    ids = fill_demo(api)
    sign_in(api, INSPECTOR)
    html = page(api, "/console/dynamic")
    assert 'href="/console/dynamic"' in page(api, "/console/zones")  # in the navigation
    granted = ids["granted"]
    assert [cell(html, granted, y) for y in (2021, 2022, 2023)] == ["良好 good", "良好 good", "优秀 excellent"]
    assert cell(html, granted, 2024) == "未到期 due 2025-01-31" and 'data-year="2025"' not in html  # 2024-05-27
    assert html.count('class="rating-row"') == 1  # the others hold no title: no report due
    assert "1 zone with annual reports due or filed" in html  # one zone, not "1 zones"
    assert '<option value="" selected>最新 latest (2023)</option>' in html  # the latest year reported
    revenue = measure(html, "revenue")
    assert '<svg class="chart" id="chart-revenue" role="img"' in revenue and "2023 年 营业收入" in revenue
    assert line(revenue, granted) == ["256.0 亿元", "250.0 亿元", "✓ 达标 reached"]
    assert line(measure(html, "new_firms_over_20m"), granted) == ["8", "8", "✓ 达标 reached"]
    assert line(measure(html, "bachelor_share"), granted) == ["68.0 %", "—", "—"]  # reported, no target
    assert line(measure(html, "matching_ratio"), granted) == ["0.6", "0.6", "✓ 达标 reached"]
    tables = re.sub(r"<svg.*?</svg>", "", html, flags=re.S)
    assert "0000001" not in tables and "9999999" not in tables and "e+" not in tables  # no float artefacts

    html = page(api, "/console/dynamic?year=2022")
    assert '<option value="2022" selected>' in html and "2022 年 营业收入" in html
    assert line(measure(html, "revenue"), granted) == ["198.0 亿元", "190.0 亿元", "✓ 达标 reached"]
    assert line(measure(html, "new_platforms"), granted) == ["1", "2", "✗ 未达标 not reached"]
    assert line(measure(html, "matching_ratio"), granted) == ["0.55", "0.6", "✗ 未达标 not reached"]
    assert line(measure(html, "firms_over_1bn"), granted) == ["1", "1", "✓ 达标 reached"]
    assert line(measure(html, "firms_over_20m"), granted) == ["22", "—", "—"]  # a target of 2023 only


def test_zones_side_by_side_in_a_year_one_filed_one_overdue(api: Api) -> None:
    ids = with_a_second_title(api)
    sign_in(api, BUREAU)
    html = page(api, "/console/dynamic?year=2024")
    first, second = ids["granted"], ids["second"]
    assert "未报告（逾期）" in cell(html, first, 2024) and 'class="overdue"' in cell(html, first, 2024)
    assert cell(html, second, 2024) == "合格 pass" and cell(html, second, 2021) == "—"
    assert "2 zones with annual reports due or filed" in html
    revenue = measure(html, "revenue")
    assert line(revenue, second) == ["135.0 亿元", "140.0 亿元", "✗ 未达标 not reached"]
    assert line(revenue, first) == ["未报告 not filed", "—", "—"]
    assert line(measure(html, "employees"), second) == ["43,000", "42,000", "✓ 达标 reached"]
    assert revenue.index("松山湖软件和信息技术服务业集聚区") > 0 and "南城数字文化产业集聚区" in revenue  # both charted
    only = page(api, "/console/dynamic?year=2024&call=2024-second")
    assert ids["second"] in only and f'data-zone-id="{first}"' not in only
    assert '<option value="2024-second" selected>' in only


def test_an_applicant_compares_only_its_own_zones_and_experts_see_nothing(api: Api) -> None:
    ids = with_a_second_title(api)
    sign_in(api, SONGSHAN)
    html = page(api, "/console/dynamic?year=2024")
    assert ids["granted"] in html and ids["second"] not in html and "南城" not in html
    sign_in(api, NANCHENG)
    html = page(api, "/console/dynamic?year=2024")
    assert ids["second"] in html and ids["granted"] not in html and "松山湖" not in html
    sign_in(api, LEADING)
    html = page(api, "/console/dynamic?year=2024")
    assert ids["second"] in html and ids["granted"] in html
    sign_in(api, EXPERTS[0])
    assert "无权查看" in page(api, "/console/dynamic", 403)
    api.client.cookies.clear()
    r = api.client.get("/console/dynamic", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/console/sign-in?next=%2Fconsole%2Fdynamic"


def test_a_bad_year_is_refused_and_a_year_without_reports_says_so(api: Api) -> None:
    fill_demo(api)
    sign_in(api, INSPECTOR)
    html = page(api, "/console/dynamic?year=%3Cscript%3E", 422)
    assert "<script>" not in html.split("<main>")[1] and "YYYY" in html
    r = api.client.get("/console/dynamic?year=20x1", headers={"Accept": "application/json"})
    assert r.status_code == 422 and r.json()["code"] == "validation_failed"
    assert r.headers["content-type"] == "application/problem+json"
    html = page(api, "/console/dynamic?year=1999")
    assert 'id="no-year"' in html and 'id="measure-revenue"' not in html
    r = api.client.get("/console/dynamic")
    assert "script-src 'self'" in r.headers["content-security-policy"] and r.headers["cache-control"] == "no-store"


def test_each_measure_is_headed_by_its_name_before_its_chart(api: Api) -> None:
    ids = fill_demo(api)
    sign_in(api, BUREAU)
    html = page(api, "/console/dynamic?year=2023")
    names = re.findall(r'<div class="measure" id="measure-([a-z_0-9]+)">', html)
    assert "revenue" in names and "employees" in names and "matching_ratio" in names
    for name in names:  # the heading comes first: the chart is not left to be read under the table above it
        part = measure(html, name)
        assert part.index(f'<h3 id="measure-{name}-h">') < part.index(f'id="chart-{name}"'), name
    assert '<h3 id="measure-revenue-h">营业收入 revenue（亿元） · 2023</h3>' in html
    assert '<h3 id="measure-employees-h">从业人员 employees · 2023</h3>' in html
    assert line(measure(html, "revenue"), ids["granted"])[0] == "256.0 亿元"


def test_the_comparison_as_it_stood_at_the_end_of_a_past_day(api: Api) -> None:
    ids = with_a_second_title(api)  # Nancheng's 2024 report filed 2025-01-20, rated on 2025-03-01
    first, second = ids["granted"], ids["second"]
    sign_in(api, INSPECTOR)
    before = page(api, "/console/dynamic?year=2024&as_of=2025-01-10")
    assert cell(before, second, 2024) == "未到期 due 2025-01-31" == cell(before, first, 2024)
    assert 'id="as-of-banner"' in before and 'name="as_of" value="2025-01-10"' in before
    assert "未报告 not filed" in line(measure(before, "revenue"), second)[0]  # no figures yet
    filed = page(api, "/console/dynamic?year=2024&as_of=2025-02-15")
    assert cell(filed, second, 2024) == "未评价 not evaluated" and "未报告（逾期）" in cell(filed, first, 2024)
    assert line(measure(filed, "revenue"), second)[:2] == ["135.0 亿元", "140.0 亿元"]
    assert cell(page(api, "/console/dynamic?year=2024&as_of=2025-03-05"), second, 2024) == "合格 pass"
    assert second not in page(api, "/console/dynamic?as_of=2024-06-01")  # it applied on 2024-06-03
    now = page(api, "/console/dynamic?year=2024")
    assert 'id="as-of-banner"' not in now and cell(now, second, 2024) == "合格 pass"
    for bad in ("not-a-day", "2025-02-30", "20250110", "2025-W02-5", "2025-03-11"):  # the clock is on 2025-03-10
        assert "参数有误" in page(api, f"/console/dynamic?as_of={bad}", 422)
    today = page(api, "/console/dynamic?year=2024&as_of=2025-03-10")  # today: as it stands now, and says so
    assert "今日 as of 2025-03-10" in today and "过去的状态" not in today
    assert f'href="/console/zones/{second}?as_of=2025-02-15"' in filed  # a zone opens as it stood that day too
    latest = page(api, "/console/dynamic?year=&as_of=2022-03-01")  # the form's "latest": the latest by then
    assert '<option value="" selected>最新 latest (2021)</option>' in latest
    assert today.index(first) > today.index(second) and now.index(first) > now.index(second)  # the list's order
    assert cell(page(api, "/console/dynamic?year=2024&as_of="), second, 2024) == "合格 pass"  # the form left empty
    sign_in(api, SONGSHAN)  # as for a zone: not for applicants
    assert "无权查看" in page(api, "/console/dynamic?as_of=2025-01-10", 403)
    assert 'name="as_of"' not in page(api, "/console/dynamic")
