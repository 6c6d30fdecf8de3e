"""The console's pages across zones: the deadlines (open, overdue, recorded late with the lag) and the inspection
report for a period (findings linked to their events, the counts checked, "no findings"); roles and escaping."""

from __future__ import annotations

import re

from application.sample import NANCHENG
from application.sample import SONGSHAN

from ..helpers import BUREAU
from ..helpers import EXPERTS
from ..helpers import GOOD_PLAN
from ..helpers import INSPECTOR
from ..helpers import LEADING
from .conftest import Api
from .conftest import apply_first_batch
from .console_helpers import fill_demo
from .console_helpers import page
from .console_helpers import sign_in


def record_notice_end_late(api: Api) -> str:
    """The demo, then the notice's end (due 2024-04-20 00:00 Asia/Shanghai) recorded days late by a sweep on
    2024-04-25 10:00; returns the zone id."""
    ids = fill_demo(api)
    api.set_clock("2024-04-25")
    fired = api.sweep()
    assert any(f.get("kind") == "notice_ended" or "notice_ended" in str(f) for f in fired), fired
    api.client.app.state.container.runner.wait_for(api.position(), timeout=10)  # type: ignore[attr-defined]
    return ids["in_notice"]


def test_deadlines_open_soonest_first_overdue_flagged_with_links(api: Api) -> None:
    ids = fill_demo(api)
    sign_in(api, BUREAU)
    html = page(api, "/console/deadlines")
    assert '期限 <span lang="en">Deadlines</span>' in html and 'href="/console/deadlines"' in html
    open_part = html.split('id="open-deadlines"')[1].split("</table>")[0]
    assert "公示期满 notice period ends" in open_part and "逾期" in open_part
    assert f'href="/console/zones/{ids["in_notice"]}"' in open_part
    assert "2024-04-20 00:00 (+08:00)" in open_part  # due_at in Asia/Shanghai
    rows = [r for r in open_part.split('<tr class="deadline-row')[1:]]
    assert rows and "is-overdue" in rows[0]  # the soonest (and overdue) first
    dues = [r.split("<td>")[1].split("<br>")[0] for r in rows]
    assert dues == sorted(dues)
    assert "没有迟延记录的期限" in html  # nothing recorded late yet
    r = api.client.get("/console/deadlines")
    assert "script-src 'self'" in r.headers["content-security-policy"] and r.headers["x-frame-options"] == "DENY"
    assert r.headers["cache-control"] == "no-store"


def test_a_deadline_recorded_late_is_listed_with_its_lag(api: Api) -> None:
    zone_id = record_notice_end_late(api)
    sign_in(api, INSPECTOR)
    html = page(api, "/console/deadlines")
    late = html.split('id="late-deadlines"')[1].split("</table>")[0]
    assert "公示期满 notice period ends" in late and "notice_ended:1" in late
    assert "5 天 10 小时 · 5 d 10 h" in late  # 2024-04-20 00:00 → 2024-04-25 10:00, Asia/Shanghai
    assert "2024-04-25 10:00 (+08:00)" in late
    assert f'href="/console/zones/{zone_id}#seq-' in late
    open_part = html.split('id="open-deadlines"')[1].split("</table>")[0]
    assert "notice_ended:1" not in open_part  # recorded: no longer open


def test_applicants_see_only_their_own_zones_deadlines_and_experts_none(api: Api) -> None:
    ids = record_notice_end_late(api)
    sign_in(api, SONGSHAN)
    html = page(api, "/console/deadlines")
    assert ids not in html and "南城" not in html and "松山湖" in html
    assert 'href="/console/inspection"' not in html
    sign_in(api, NANCHENG)
    html = page(api, "/console/deadlines")
    assert ids in html and "5 d 10 h" in html and "松山湖" not in html
    sign_in(api, LEADING)
    assert ids in page(api, "/console/deadlines")
    sign_in(api, EXPERTS[0])
    assert "403" in page(api, "/console/deadlines", 403)


def test_names_are_escaped_on_the_deadlines_page(api: Api) -> None:
    zid = apply_first_batch(api, name="<script>alert(1)</script>松山湖", plan=GOOD_PLAN)
    r = api.post(f"/zones/{zid}/formal-review", BUREAU, json={"outcome": "accepted"})
    assert r.status_code == 200, r.text
    api.client.app.state.container.runner.wait_for(api.position(), timeout=10)  # type: ignore[attr-defined]
    sign_in(api, BUREAU)
    html = page(api, "/console/deadlines")
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;松山湖" in html


def test_inspection_says_no_findings_on_a_clean_log_with_the_counts(api: Api) -> None:
    fill_demo(api)
    sign_in(api, INSPECTOR)
    html = page(api, "/console/inspection")
    assert 'id="clean"' in html and "无发现" in html and "No findings" in html
    assert re.search(r"\d{2,} events of \d+ zones checked", html)  # counted, in plural
    assert "期限事件 deadline events" in html and 'id="findings"' not in html
    assert 'href="/console/inspection"' in html and 'name="from"' in html
    r = api.client.get("/console/inspection")
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]


def test_inspection_lists_a_late_deadline_with_its_rule_detail_and_event_link(api: Api) -> None:
    zone_id = record_notice_end_late(api)
    sign_in(api, BUREAU)
    html = page(api, "/console/inspection?from=2024-04-01&to=2024-04-30")
    assert 'id="not-clean"' in html and 'data-rule="deadline_recorded_late"' in html
    assert '发现 1 项 <span lang="en">1 finding</span>' in html  # one, not "1 findings"
    assert "期限记录迟延 deadline recorded late" in html
    detail = re.search(r"notice_ended:1 fell due at [^<]*later", html)
    assert detail and detail.group(0).startswith(
        "notice_ended:1 fell due at 2024-04-20 00:00 (+08:00) and was recorded 5 d "
    )
    assert "+00:00" not in detail.group(0) and "days," not in detail.group(0), detail.group(0)  # as people read it
    seq = api.get(f"/zones/{zone_id}/history", BUREAU).json()[-1]["seq"]
    assert f'href="/console/zones/{zone_id}#seq-{seq}"' in html
    assert 'value="2024-04-01"' in html and "2024-04-30 23:59 (+08:00)" in html
    before = page(api, "/console/inspection?from=2021-01-01&to=2024-04-24")  # the period before the sweep
    assert 'id="clean"' in before


def test_inspection_is_for_the_bureau_and_inspectors_and_checks_its_dates(api: Api) -> None:
    for actor in (LEADING, SONGSHAN, EXPERTS[0]):
        sign_in(api, actor)
        assert "403" in page(api, "/console/inspection", 403)
    sign_in(api, INSPECTOR)
    html = page(api, "/console/inspection?from=%3Cscript%3Ex&to=", 422)
    assert "<script>x" not in html and "YYYY-MM-DD" in html


def test_a_period_that_starts_after_it_ends_is_refused_not_reported_clean(api: Api) -> None:
    sign_in(api, INSPECTOR)
    assert "from 晚于 to" in page(api, "/console/inspection?from=2026-12-01&to=2021-01-01", 422)
    r = api.get("/audit/inspection?from=2026-12-01T00:00:00%2B08:00&to=2021-01-01T00:00:00%2B08:00", INSPECTOR)
    assert r.status_code == 422 and r.json()["code"] == "validation_failed", r.text
