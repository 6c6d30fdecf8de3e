"""The console's zone page: timeline, state as of a date, deadlines, notices with objections (identities only for
the bureau and inspectors), the assessment's charts and tables, the verify badge; roles and escaping."""

from __future__ import annotations

from uuid import UUID

from application.sample import NANCHENG
from application.sample import SONGSHAN
from domain.values import SHANGHAI

from ..helpers import BUREAU
from ..helpers import INSPECTOR
from ..helpers import LEADING
from .conftest import Api
from .console_helpers import fill_demo
from .console_helpers import page
from .console_helpers import sample_documents
from .console_helpers import sign_in


def test_the_timeline_shows_who_when_what_why_documents_and_compact_hashes(api: Api) -> None:
    ids = fill_demo(api)
    sign_in(api, INSPECTOR)
    html = page(api, f"/console/zones/{ids['in_notice']}")
    assert 'id="seq-1"' in html and "提交申请 applied" in html and "2024-03-04 10:00 (+08:00)" in html
    assert "Nancheng IT office" in html and "<code>u-nc</code>" in html and "申报单位 applicant" in html
    assert "材料齐全，予以受理。" in html  # the reason of the acceptance
    assert 'href="/console/documents/e106b18a7e3695ff0eae005a0d99f18df68acc5e0720a3512b67188443103b73"' in html
    history = api.get(f"/zones/{ids['in_notice']}/history", INSPECTOR).json()
    first = history[0]["hash"]
    assert f'<code title="{first}">{first[:12]}…</code>' in html
    assert 'src="/web/console.js"' in html and "<script>" not in html
    assert f'data-seq="{history[-1]["seq"]}"' in html and f'data-hash="{history[-1]["hash"]}"' in html


def test_the_state_as_of_a_date_is_the_past_one_and_marked_so(api: Api) -> None:
    ids = fill_demo(api)
    sign_in(api, BUREAU)
    now = page(api, f"/console/zones/{ids['in_notice']}")
    assert 'id="zone-status">公示中 in notice' in now and "过去的状态" not in now
    past = page(api, f"/console/zones/{ids['in_notice']}?as_of=2024-03-12")
    assert 'id="zone-status">创建期 in creation' in past and "过去的状态 as of 2024-03-12" in past
    assert 'id="seq-2"' in past and 'id="seq-3"' not in past  # the timeline up to then
    assert "data-hash" not in past  # the verify badge is for the current record
    assert "不存在" in page(api, f"/console/zones/{ids['in_notice']}?as_of=2020-01-01", 404)
    for bad in ("20240312", "2024-02-30", "abc"):  # refused in both languages, as on dynamic management
        assert "日期格式应为 YYYY-MM-DD" in page(api, f"/console/zones/{ids['in_notice']}?as_of={bad}", 422)
    assert "过去的状态" not in page(api, f"/console/zones/{ids['in_notice']}?as_of=")  # the form left empty: now
    today = api.client.app.state.container.clock.now().astimezone(SHANGHAI).date()  # type: ignore[attr-defined]
    assert "今日 as of" in page(api, f"/console/zones/{ids['in_notice']}?as_of={today}")
    sign_in(api, NANCHENG)
    page(api, f"/console/zones/{ids['in_notice']}?as_of=2024-03-12", 403)  # as the API: not for applicants
    assert 'name="as_of"' not in page(api, f"/console/zones/{ids['in_notice']}")


def test_objector_identities_only_for_the_bureau_and_inspectors(api: Api) -> None:
    ids = fill_demo(api)
    for reader in (BUREAU, INSPECTOR):
        sign_in(api, reader)
        html = page(api, f"/console/zones/{ids['in_notice']}")
        assert "营业收入数据偏高，请核实。" in html and "李雷" in html and "li@example.org" in html
    for reader in (LEADING, NANCHENG):
        sign_in(api, reader)
        html = page(api, f"/console/zones/{ids['in_notice']}")
        assert "营业收入数据偏高，请核实。" in html and "待处理 open" in html
        assert "李雷" not in html and "li@example.org" not in html and "objector_ref" not in html
        assert "objector_commitment" not in html and "不公开" in html  # who raised it is withheld too


def test_the_assessment_chart_has_its_table_the_groups_and_the_experts(api: Api) -> None:
    ids = fill_demo(api)
    sign_in(api, LEADING)
    html = page(api, f"/console/zones/{ids['in_notice']}")
    assert '<svg class="chart" id="indicator-chart" role="img"' in html and 'id="indicator-table"' in html
    assert 'id="group-chart"' in html and "创建基础" in html and "20.8" in html
    assert "78.4" in html and "80.0 %" in html and "Expert 1" in html
    section = html[html.index('id="assessment-h"') : html.index('id="timeline-h"')]
    assert "0000000" not in section and "9999999" not in section  # no float artefacts
    sign_in(api, NANCHENG)
    assert "indicator-chart" not in page(api, f"/console/zones/{ids['in_notice']}")  # as the API: not applicants


def test_an_applicant_may_not_open_another_organisation_s_zone(api: Api) -> None:
    ids = fill_demo(api)
    sign_in(api, SONGSHAN)
    assert "无权查看" in page(api, f"/console/zones/{ids['in_notice']}", 403)
    page(api, f"/console/zones/{ids['granted']}")
    sign_in(api, BUREAU)
    page(api, "/console/zones/00000000-0000-4000-8000-000000000000", 404)


def test_recorded_text_is_escaped_on_the_zone_page(api: Api) -> None:
    from .conftest import apply_first_batch

    zone_id = apply_first_batch(api, name='<img src=x onerror="alert(1)">')
    api.client.app.state.container.runner.wait_for(api.position(), timeout=10)  # type: ignore[attr-defined]
    sign_in(api, BUREAU)
    html = page(api, f"/console/zones/{zone_id}")
    assert "<img src=x" not in html and "&lt;img src=x onerror=" in html


def test_the_timeline_s_document_links_open_on_the_console_cookie_under_the_api_s_rules(api: Api) -> None:
    from ..helpers import EXPERTS
    from ..helpers import OTHER_TOWN
    from .conftest import apply_first_batch

    zid = apply_first_batch(api)  # Songshan Lake's plan.pdf, uploaded by its organisation
    api.client.app.state.container.runner.wait_for(api.position(), timeout=10)  # type: ignore[attr-defined]
    sha = api.get(f"/zones/{zid}", BUREAU).json()["materials"][0]["sha256"]
    link = f"/console/documents/{sha}"
    r = api.client.get(link, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/console/sign-in?next=%2Fconsole%2Fdocuments%2F{sha}"
    sign_in(api, INSPECTOR)
    assert f'href="{link}"' in page(api, f"/console/zones/{zid}")
    for reader in (INSPECTOR, BUREAU, LEADING, SONGSHAN):
        sign_in(api, reader)
        r = api.client.get(link)
        assert r.status_code == 200 and r.content == b"%PDF-1.4 plan.pdf", (reader, r.status_code)
        assert r.headers["content-type"] == "application/pdf"
        assert r.headers["content-disposition"].startswith('attachment; filename="plan.pdf"')
        assert r.headers["x-content-type-options"] == "nosniff" and r.headers["cache-control"] == "no-store"
    for reader in (OTHER_TOWN, EXPERTS[0]):  # another organisation's document; a role that may not read
        sign_in(api, reader)
        r = api.client.get(link)
        assert r.status_code == 403 and b"%PDF" not in r.content and "无权查看" in r.text
    sign_in(api, BUREAU)
    assert "未找到" in page(api, "/console/documents/" + "0" * 64, 404)
    r = api.client.get("/console/documents/not-a-hash")  # refused as the API refuses it, shown as a page
    assert r.status_code == 422 and r.headers["content-type"].startswith("text/html") and "参数有误" in r.text
    # and the API's own route: the same answers on the bearer header
    assert api.get(f"/documents/{sha}", OTHER_TOWN).status_code == 403
    assert api.get(f"/documents/{sha}", SONGSHAN).content == b"%PDF-1.4 plan.pdf"


def reassessed(api: Api) -> str:
    """The demo, then the notice's objection upheld (reassess, 2024-06-03) and a second panel round: appointed
    2024-06-10, scored at 60 % of each weight on 2024-06-17, concluded (not passed) on 2024-06-24."""
    from application.sample import BUREAU as DEMO_BUREAU
    from application.sample import Walk

    zone_id = fill_demo(api)["in_notice"]
    container = api.client.app.state.container  # type: ignore[attr-defined]
    walk = Walk(container.app, container.clock, zone_id=UUID(zone_id), applicant=NANCHENG)
    objection = next(iter(walk.zone.objections))
    with sample_documents(api):
        walk.step(
            "2024-06-03",
            lambda z: container.app.resolve_objection(
                z, DEMO_BUREAU, objection_id=objection, outcome="upheld", consequence="reassess", reasons="数据存疑。"
            ),
        )
        walk.assess("2024-06-10", passed=False, share=0.6)
    container.runner.wait_for(api.position(), timeout=10)
    return zone_id


def assessment_of(html: str) -> str:
    return html[html.index('id="assessment-h"') : html.index('id="timeline-h"')]


def test_the_assessment_as_of_a_date_is_the_round_as_it_stood_then(api: Api) -> None:
    zone_id = reassessed(api)
    sign_in(api, INSPECTOR)
    now = assessment_of(page(api, f"/console/zones/{zone_id}"))
    assert "第 2 轮" in now and "当前记录" in now and "<strong>58.8</strong>" in now
    assert "60.0 %" in now and "未通过" in now
    before = assessment_of(page(api, f"/console/zones/{zone_id}?as_of=2024-06-05"))  # round 2 not yet appointed
    assert "第 1 轮" in before and "截至 2024-06-05" in before and "当前记录" not in before
    assert "<strong>78.4</strong>" in before and "80.0 %" in before and "通过 passed" in before
    scoring = assessment_of(page(api, f"/console/zones/{zone_id}?as_of=2024-06-18"))  # scored, not concluded
    assert "第 2 轮" in scoring and "评分进行中" in scoring and "总分" not in scoring
    assert '<td class="n">4.2</td>' in scoring and '<td class="n">5.6</td>' not in scoring  # 0.6 × 7 (indicator 13)
    first = assessment_of(page(api, f"/console/zones/{zone_id}?as_of=2024-03-26"))  # round 1 scored, open
    assert "第 1 轮" in first and "评分进行中" in first and '<td class="n">5.6</td>' in first  # 0.8 × 7
    assert 'id="assessment-h"' not in page(api, f"/console/zones/{zone_id}?as_of=2024-03-12")  # no panel yet


def test_the_verify_badge_reads_the_latest_event_as_stored_withheld_where_the_history_withholds_it(api: Api) -> None:
    ids = fill_demo(api)
    zone = ids["in_notice"]
    history = api.get(f"/zones/{zone}/history", INSPECTOR).json()
    last = history[-1]
    assert last["type"] == "ObjectionRaised"
    json_accept = {"Accept": "application/json"}
    r = api.client.get(f"/console/zones/{zone}/records/{last['seq']}", headers=json_accept)
    assert r.status_code == 401 and r.json()["code"] == "unauthorized"  # a fetch is told, not redirected
    sign_in(api, INSPECTOR)
    r = api.client.get(f"/console/zones/{zone}/records/{last['seq']}", headers=json_accept)
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    record = r.json()
    assert (record["originator_id"], record["version"], record["hash"]) == (zone, last["seq"], last["hash"])
    assert record["topic"] == "domain.zone:Zone.ObjectionRaised" and record["body"]["prev_hash"] == last["prev_hash"]
    assert set(record) == {"position", "originator_id", "version", "topic", "timestamp", "hash", "body"}
    for reader in (LEADING, NANCHENG):  # they may not see who objected: the objection's record is withheld
        sign_in(api, reader)
        assert f'data-hash="{last["hash"]}"' in page(api, f"/console/zones/{zone}")
        r = api.client.get(f"/console/zones/{zone}/records/{last['seq']}", headers=json_accept)
        assert r.status_code == 403 and r.json()["code"] == "objector_withheld" and "li@example.org" not in r.text
        r = api.client.get(f"/console/zones/{zone}/records/1", headers=json_accept)
        assert r.status_code == 200 and r.json()["hash"] == history[0]["hash"]
    r = api.client.get(f"/console/zones/{zone}/records/{last['seq'] + 1}", headers=json_accept)
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    sign_in(api, SONGSHAN)
    r = api.client.get(f"/console/zones/{zone}/records/1", headers=json_accept)
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    assert api.client.get(f"/console/zones/{zone}/records/0", headers=json_accept).status_code == 422


def test_an_erased_objector_reads_as_the_erasure_for_the_bureau_and_inspectors(api: Api) -> None:
    ids = fill_demo(api)
    zone_id = ids["in_notice"]
    objection_id = api.get(f"/zones/{zone_id}/objections", BUREAU).json()["items"][0]["objection_id"]
    r = api.post(f"/zones/{zone_id}/objections/{objection_id}/erasure", BUREAU, json={"reason": "异议人申请删除"})
    assert r.status_code == 200, r.text
    erased_on = r.json()["erased_on"]
    for reader in (BUREAU, INSPECTOR):
        sign_in(api, reader)
        html = page(api, f"/console/zones/{zone_id}")
        row = html[html.index('<td class="objector">') :]
        erased = f'已删除 <span lang="en">erased</span> {erased_on}'
        assert row.startswith(f'<td class="objector">{erased}（异议人申请删除）</td>')
        assert "erased_at" not in html and "{&#39;" not in html  # not the erasure's dict as Python writes it
        timeline = html[html.index('id="timeline-h"') :]
        assert f'<p class="objector">异议人 <span lang="en">Objector</span>: {erased}' in timeline
        assert "李雷" not in html and "li@example.org" not in html


def test_every_event_a_zone_records_has_its_words_on_the_timeline(api: Api) -> None:
    from api.console import words
    from domain.zone import Zone

    kinds = {n for n in dir(Zone) if isinstance(getattr(Zone, n), type) and issubclass(getattr(Zone, n), Zone.Event)}
    recorded = kinds - {"Event", "Created", "FormalReviewed", "AssessmentRequestDecided", "DeadlineEvent"}  # bases
    assert recorded <= set(words.EVENTS), sorted(recorded - set(words.EVENTS))
    assert set(words.EVENTS) <= kinds, sorted(set(words.EVENTS) - kinds)  # no word for an event that does not exist
    ids = fill_demo(api)
    sign_in(api, BUREAU)
    html = page(api, f"/console/zones/{ids['granted']}")
    for said in ("提交年度报告 annual report filed", "年度跟踪评价 annual report evaluated", "复核通过 review passed"):
        assert said in html
    for raw in ("AnnualReported", "AnnualEvaluated", "ReviewPassed"):
        assert f"{raw}</strong>" not in html


def test_an_objection_s_resolution_says_its_outcome_in_words_when_and_why(api: Api) -> None:
    ids = fill_demo(api)
    for reader in (BUREAU, LEADING):
        sign_in(api, reader)
        html = page(api, f"/console/zones/{ids['granted']}")
        cell = html[html.index('<td class="resolution">') :]
        cell = cell[: cell.index("</td>")]
        assert cell.startswith('<td class="resolution">不成立 dismissed · 2021-09-13 10:00 (+08:00)<br>'), cell
        assert "经核查审计报告，数据属实。" in cell


def test_the_indicator_system_s_weight_discrepancies_are_said_in_both_languages(api: Api) -> None:
    ids = fill_demo(api)
    sign_in(api, INSPECTOR)
    html = page(api, f"/console/zones/{ids['in_notice']}")
    said = '<p class="meta discrepancy">⚠ 分组“创建基础”的指标权重合计 26，文件声明 25 <span lang="en">group 创建基础:'
    assert said in html
    assert "⚠ group " not in html  # not English alone


def test_a_deadline_shows_its_last_day_and_the_moment_it_is_overdue(api: Api) -> None:
    ids = fill_demo(api)
    sign_in(api, INSPECTOR)
    html = page(api, f"/console/zones/{ids['granted']}")
    row = next(r for r in html.split("<tr>") if "annual_report_overdue:2024" in r)
    assert '<td class="due">2025-01-31 <small>截止日' in row  # the day the report is due, read as the day it is
    assert "2025-02-01 00:00 (+08:00) 起逾期" in row  # and the moment after it
