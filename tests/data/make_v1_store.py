"""How tests/data/v1-store.sqlite, v1-store.views.json and v1-store.public-key.pem were made.

Kept only as documentation of how the fixture was made; it is not run by the suite. It ran against
commit 500eb18bee82290e99101e619292968984a35bfc (the v1 layout: zonecase.settings, zonecase.checkpoints,
zonecase.integrity …), from a checkout of that commit with the checkout first on the path:

    git worktree add /tmp/v1 500eb18bee82290e99101e619292968984a35bfc
    cd /tmp/v1 && PYTHONPATH=/tmp/v1 python make_v1_store.py OUT_DIR

Ten zones of the 2021 first batch, driven through the application service with a settable clock and
the deadline sweep, so that every event class of ``domain/zone.py`` and of ``domain/calendar_year.py``
is stored at least once. Running it again gives the same bytes: zone ids are uuid5s, objection ids are
fixed, every instant comes from the settable clock, and the checkpoint key is derived from a fixed seed
(a test key, never used elsewhere).
"""

# ruff: noqa: I001  (its imports are the v1 layout, which this checkout no longer has)
from __future__ import annotations

import hashlib
import json
import sqlite3
import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

import domain.zone
import zonecase
from domain.calendar_year import CalendarYear
from domain.chained import topic_of
from domain.indicators import load_indicator_system
from domain.zone import Zone
from projections import VIEWS
from projections.runner import open_views, rebuild
from scheduler.sweep import sweep
from tests.helpers import (
    ANNUAL_STATISTICS,
    BUREAU,
    EXPERTS,
    FIRST_BATCH_MATERIALS,
    GOOD_PLAN,
    GOOD_STATISTICS,
    LEADING,
    NANCHENG,
    OTHER_TOWN,
    OUTSIDER_EXPERT,
    PUBLIC,
    SONGSHAN,
    at,
    doc,
    full_scores,
)
from zonecase.checkpoints import SigningKey, public_pem
from zonecase.clock import SettableClock
from zonecase.integrity import verify_store
from zonecase.settings import Settings
from zonecase.wiring import build

CHECKOUT = Path.cwd().resolve()  # run from the checkout whose code makes the fixture
for _module in (zonecase, domain.zone):
    assert Path(str(_module.__file__)).resolve().is_relative_to(CHECKOUT), (
        f"not the checkout's code: {_module.__file__}"
    )

SYSTEM = load_indicator_system()
FIXTURE_KEY_SEED = hashlib.sha256(b"zonecase v1 store fixture: checkpoint test key").digest()

# The primary key of every view table: the order its rows are dumped in.
ORDER_BY = {
    "view_zones": ["zone_id"],
    "view_history": ["position"],
    "view_assessments": ["zone_id", "round"],
    "view_deadlines": ["zone_id", "key"],
    "view_notices": ["zone_id", "number"],
}
JSON_COLUMNS = {"view_zones": ["document"], "view_assessments": ["document"]}


def zone_id(slug: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"zonecase:v1-fixture:{slug}")


def scores_at(share: float) -> dict[str, float]:
    """A complete score sheet with every indicator at ``share`` of its weight."""
    return {str(n): round(i.weight * share, 2) for n, i in SYSTEM.indicators.items()}


PANEL = [{"sub": e.sub, "name": e.name} for e in EXPERTS]
ALL_METHODS = ["document_review", "site_visit", "key_interviews", "symposium"]


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="v1gen-"))
    store = work / "v1-store.sqlite"
    settings = Settings(database_url=f"sqlite:///{store}", data_dir=work / "data")
    clock = SettableClock(at("2021-07-15"))
    c = build(settings, clock=clock, check_documents=False)
    runner = c.start_views(poll_interval=0.2)
    app = c.app
    last = [clock.now()]

    def t(day: str, hour: int = 10) -> None:
        instant = at(day, hour)
        assert instant >= last[0], f"the timeline goes back to {day} {hour}:00"
        last[0] = instant
        clock.set(instant)

    def swept(expected: list[tuple[str, str]]) -> None:
        fired = sweep(app, runner)
        got = sorted((names[UUID(f["zone_id"])], f["key"]) for f in fired)
        assert got == sorted(expected), (clock.now(), got)

    def apply(slug: str, actor: Any, name: str, area_type: str, materials: list[dict[str, str]]) -> UUID:
        z = app.apply(
            actor,
            zone_id=zone_id(slug),
            name=name,
            area_type=area_type,
            sites=[{"name": "核心区 core area", "address": f"{name} 大道 1 号"}],
            batch="2021-first",
            materials=materials,
            self_assessment={"statistics": GOOD_STATISTICS, "scores": {"1": 5}},
            plan=GOOD_PLAN,
        )
        names[z.id] = slug
        return z.id

    names: dict[UUID, str] = {}

    # --- applications (2021-07-15 … 19) ---------------------------------------------------------
    t("2021-07-15", 10)
    z1 = apply("z01-songshan-core", SONGSHAN, "松山湖软件和信息技术服务业集聚区", "park", FIRST_BATCH_MATERIALS)
    t("2021-07-15", 11)
    z2 = apply("z02-nancheng", NANCHENG, "南城软件和信息技术服务业集聚区", "town", [doc("annex.pdf", "other")])
    t("2021-07-16", 10)
    z3 = apply("z03-songshan-north", SONGSHAN, "松山湖北区信息服务园", "committee", FIRST_BATCH_MATERIALS)
    t("2021-07-16", 11)
    z4 = apply("z04-nancheng-tech", NANCHENG, "南城科技园", "park", FIRST_BATCH_MATERIALS)
    t("2021-07-16", 14)
    z5 = apply("z05-songshan-east", SONGSHAN, "松山湖东区软件园", "park", FIRST_BATCH_MATERIALS)
    t("2021-07-17", 10)
    z6 = apply("z06-nancheng-xiping", NANCHENG, "南城西平数字园", "park", FIRST_BATCH_MATERIALS)
    t("2021-07-17", 11)
    z7 = apply("z07-songshan-south", SONGSHAN, "松山湖南区软件园", "park", FIRST_BATCH_MATERIALS)
    t("2021-07-17", 14)
    z8 = apply("z08-nancheng-east", NANCHENG, "南城东城信息港", "committee", FIRST_BATCH_MATERIALS)
    t("2021-07-19", 10)
    z9 = apply("z09-songshan-west", SONGSHAN, "松山湖西区数据园", "park", FIRST_BATCH_MATERIALS)
    t("2021-07-19", 11)
    z10 = apply("z10-nancheng-guantai", NANCHENG, "南城莞太路信息园", "town", [doc("annex.pdf", "other")])

    # --- formal review (形式审查) -----------------------------------------------------------------
    t("2021-07-20", 10)
    for z in (z1, z4, z5, z6, z7, z8, z9):
        app.formal_review(z, BUREAU, outcome="accepted")
    app.formal_review(z2, BUREAU, outcome="returned", reasons="缺少创建方案 (creation plan missing).")
    app.formal_review(
        z3, BUREAU, outcome="rejected", reasons="不在全市软件产业布局规划范围内 (outside the planned areas)."
    )
    app.formal_review(z10, BUREAU, outcome="returned", reasons="缺少创建方案 (creation plan missing).")
    t("2021-07-23", 10)
    app.supplement(z2, NANCHENG, materials=[doc("creation-plan.pdf", "creation_plan")], note="补充创建方案")
    t("2021-07-26", 10)
    app.formal_review(z2, BUREAU, outcome="accepted")

    # --- expert panels (专家评估组) ---------------------------------------------------------------
    t("2021-08-02", 10)
    for z in (z1, z4, z5, z6, z7, z8, z9):
        app.appoint_panel(z, BUREAU, experts=PANEL, methods=ALL_METHODS)
    app.appoint_panel(
        z2,
        BUREAU,
        experts=[*PANEL, {"sub": OUTSIDER_EXPERT.sub, "name": OUTSIDER_EXPERT.name}],
        methods=["document_review", "site_visit"],
        reason="四人评估组",
    )
    t("2021-08-03", 10)
    app.declare_conflict(z2, OUTSIDER_EXPERT, reason="曾任园区企业顾问 (former adviser to a zone firm).")
    t("2021-08-20", 10)
    for z in (z1, z2, z5, z6, z7, z8):
        for i, e in enumerate(EXPERTS):
            app.file_scores(z, e, scores=full_scores() if i else scores_at(0.75), comment=f"{e.name} 评分")
    for e in EXPERTS:
        app.file_scores(z4, e, scores=scores_at(0.45), comment="产业规模不足")
    app.file_scores(z9, EXPERTS[0], scores=scores_at(0.7), comment="first sheet")
    app.file_scores(z9, EXPERTS[1], scores=full_scores())
    t("2021-08-25", 10)
    app.file_scores(z9, EXPERTS[0], scores=full_scores(), comment="re-filed after the site visit")
    t("2021-09-01", 10)
    for z in (z1, z2, z5, z6, z7, z8):
        app.conclude_assessment(z, BUREAU, passed=True, report=doc("panel-report.pdf"), reasons="评估报告确认。")
    app.conclude_assessment(
        z4, BUREAU, passed=False, report=doc("panel-report-z4.pdf"), reasons="综合得分低于合格线 (below the pass mark)."
    )

    # --- public notice (公示) and objections (异议) ------------------------------------------------
    t("2021-09-24", 10)
    for z in (z1, z2, z5, z6, z7, z8):
        zone = app.publish_notice(z, BUREAU, text=f"关于{app.get_zone(z).name}的公示", starts_on=date(2021, 9, 27))
        assert zone.notice["ends_on"] == "2021-10-08"
    t("2021-09-28", 10)
    app.raise_objection(
        z1, PUBLIC, objector_name="李雷", contact="li@example.org", text="营收数据偏高。", objection_id="obj-z01-1"
    )
    app.raise_objection(
        z2,
        PUBLIC,
        objector_name="韩梅梅",
        contact="han@example.org",
        text="两个平台属同一企业。",
        evidence=[doc("evidence-z02.pdf")],
        objection_id="obj-z02-1",
    )
    app.raise_objection(
        z5,
        OTHER_TOWN,
        objector_name="长安镇",
        contact="ca@example.org",
        text="统计数据造假。",
        objection_id="obj-z05-1",
    )
    t("2021-10-09", 10)
    swept([(names[z], "notice_ended:1") for z in (z1, z2, z5, z6, z7, z8)])
    t("2021-10-11", 10)
    app.resolve_objection(z1, BUREAU, objection_id="obj-z01-1", outcome="dismissed", reasons="经审计报表核实无误。")
    app.resolve_objection(
        z2, BUREAU, objection_id="obj-z02-1", outcome="upheld", consequence="reassess", reasons="两个平台确属同一企业。"
    )
    app.resolve_objection(
        z5, BUREAU, objection_id="obj-z05-1", outcome="upheld", consequence="reject", reasons="统计数据经查不实。"
    )
    t("2021-10-11", 15)
    for z in (z1, z6, z7, z8):
        app.grant(z, LEADING, announcement_no="东制造〔2021〕8号")

    # --- the second round of zone 2 ---------------------------------------------------------------
    t("2021-10-13", 10)
    app.appoint_panel(z2, BUREAU, experts=PANEL, methods=["document_review", "symposium"], reason="异议成立，重新评估")
    t("2021-10-20", 10)
    for e in EXPERTS:
        app.file_scores(z2, e, scores=scores_at(0.7))
    t("2021-10-25", 9)
    app.conclude_assessment(z2, BUREAU, passed=True, report=doc("panel-report-z02-r2.pdf"), reasons="重新评估通过。")
    t("2021-10-25", 10)
    zone = app.publish_notice(z2, BUREAU, text="关于南城集聚区的再次公示", starts_on=date(2021, 10, 25))
    assert zone.notice["ends_on"] == "2021-10-29"
    t("2021-10-30", 10)
    swept([(names[z2], "notice_ended:2")])
    t("2021-11-01", 10)
    app.grant(z2, LEADING, announcement_no="东制造〔2021〕12号")
    t("2021-12-01", 10)
    app.revoke(z7, BUREAU, reason="fraud", details="申报材料弄虚作假 (falsified statistics, §6.6).")

    # --- three years of annual reports (年度报告) --------------------------------------------------
    ratings = {2021: ("good", "pass", "pass"), 2022: ("good", "pass", "good"), 2023: ("excellent", "fail", "pass")}
    for year in (2021, 2022, 2023):
        t(f"{year + 1}-01-20", 10)
        for z, actor in ((z1, SONGSHAN), (z2, NANCHENG), (z8, NANCHENG)):
            app.file_annual_report(
                z,
                actor,
                year=year,
                statistics=ANNUAL_STATISTICS,
                summary=f"{year} 年度工作报告",
                documents=[doc(f"annual-{year}-{names[z]}.pdf")],
            )
        t(f"{year + 1}-01-25", 10)
        for z, rating in zip((z1, z2, z8), ratings[year], strict=True):
            app.evaluate_annual_report(z, BUREAU, year=year, rating=rating, comments=f"{year} 年度跟踪评价")
        t(f"{year + 1}-02-01", 10)
        swept([(names[z6], f"annual_report_overdue:{year}")])

    # --- review (复核), rectification (整改), expiry --------------------------------------------------
    t("2024-07-11", 10)
    swept([(names[z], "review_window_opened:1") for z in (z1, z6, z8)])
    t("2024-07-15", 10)
    app.request_review(z1, SONGSHAN, reason="申请复核")
    app.request_review(z8, NANCHENG)
    t("2024-08-01", 10)
    swept([(names[z2], "review_window_opened:1")])
    t("2024-08-02", 10)
    app.request_review(z2, NANCHENG, reason="申请复核")
    t("2024-08-15", 10)
    app.decide_review(z1, BUREAU, passed=True, reasons="复核通过，继续保留称号。")
    t("2024-09-01", 10)
    app.decide_review(z2, BUREAU, passed=False, reasons="营收未达创建方案目标。")
    app.decide_review(z8, BUREAU, passed=False, reasons="平台建设滞后。", rectification_months=3)
    t("2024-10-12", 10)
    swept([(names[z6], "title_expired:1"), (names[z8], "title_expired:1")])
    assert app.get_zone(z6).revocation["cause"] == "no_review_request"
    t("2024-11-02", 10)
    swept([(names[z2], "title_expired:1")])
    t("2024-12-02", 10)
    swept([(names[z8], "rectification_overdue:2024-09-01")])
    t("2025-01-20", 10)
    app.file_annual_report(z1, SONGSHAN, year=2024, statistics=ANNUAL_STATISTICS, summary="2024 年度工作报告")
    t("2025-01-25", 10)
    app.evaluate_annual_report(z1, BUREAU, year=2024, rating="good", comments="2024 年度跟踪评价")
    t("2025-02-01", 10)
    swept([(names[z2], "annual_report_overdue:2024"), (names[z8], "annual_report_overdue:2024")])
    t("2025-02-20", 10)
    app.submit_rectification(z2, NANCHENG, summary="新增三个公共服务平台。", documents=[doc("rectification-z02.pdf")])
    t("2025-03-10", 10)
    zone = app.decide_review(z2, BUREAU, passed=False, reasons="整改后复核仍未通过。")
    assert zone.revocation["cause"] == "review_failed_after_rectification"

    # --- the working-day calendar the bureau entered (a year the published data lacks) --------------
    year = app.calendar.last_year + 1
    t("2025-03-15", 10)
    holidays = [date(year, 1, 1), *(date(year, 10, d) for d in range(1, 8))]
    app.enter_calendar(BUREAU, year=year, holidays=holidays, working_days=[], source="国办发明电 (fixture)")
    t("2025-03-20", 10)
    weekend = next(d for d in (date(year, 9, 20) + timedelta(n) for n in range(14)) if d.weekday() == 6)
    app.enter_calendar(
        BUREAU,
        year=year,
        holidays=[*holidays, date(year, 5, 1)],
        working_days=[weekend],
        source="国办发明电 (fixture, corrected)",
        reason="补录劳动节及调休",
    )
    t("2025-03-31", 10)
    swept([])

    # --- a signed checkpoint over the whole log -----------------------------------------------------
    key = SigningKey(Ed25519PrivateKey.from_private_bytes(FIXTURE_KEY_SEED))
    checkpoint = c.start_checkpoints(key).sign("v1 store fixture")
    assert checkpoint.tree_size == app.recorder.max_notification_id()

    # --- checks -----------------------------------------------------------------------------------
    result = verify_store(app)
    assert result.ok, result.problems
    expected_topics = {
        topic_of(cls)
        for owner in (Zone, CalendarYear)
        for cls in vars(owner).values()
        if isinstance(cls, type)
        and issubclass(cls, owner.Event)
        and cls not in (owner.Event, Zone.DeadlineEvent)
        and cls.__name__ != "Created"  # the library's own, generated per aggregate class and never used here
    }
    runner.wait_for(app.recorder.max_notification_id(), timeout=30)
    live = dump_views(runner.views)
    statuses = {names[z]: app.get_zone(z).status for z in app.zone_ids()}
    c.runner.stop()
    c.runner = None
    fresh = open_views(app, settings.views_env())
    rebuild(app, fresh, batch_size=7)
    rebuilt = dump_views(fresh)
    assert rebuilt == live, "the live views and a rebuild differ"
    for projection in fresh.values():
        projection.view.datastore.close()
    c.close()

    with sqlite3.connect(store) as db:
        stored_topics = {r[0] for r in db.execute("SELECT DISTINCT topic FROM stored_events")}
        events = db.execute("SELECT COUNT(*) FROM stored_events").fetchone()[0]
    missing = expected_topics - stored_topics
    assert not missing, f"event classes never stored: {sorted(missing)}"
    assert stored_topics <= expected_topics, stored_topics - expected_topics

    # --- the outputs: the store alone (no views in it), compacted to one file -----------------------
    target = out / "v1-store.sqlite"
    target.unlink(missing_ok=True)
    with sqlite3.connect(store) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        view_tables = [
            r[0]
            for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if r[0].startswith("view_") or r[0].endswith("_tracking")
        ]
        assert not view_tables, view_tables  # the views of an SQLite store live in a file of their own
    src = sqlite3.connect(store)
    src.execute("VACUUM INTO ?", (str(target),))
    src.close()
    dst = sqlite3.connect(target)
    dst.execute("PRAGMA journal_mode=DELETE")
    dst.close()
    (out / "v1-store.public-key.pem").write_text(public_pem(key.public))
    document = {
        "about": "Every row of the five v1 views of v1-store.sqlite, projected by the v1 code (see README.md). "
        "Rows are ordered by the table's primary key; JSON columns are decoded.",
        "events": events,
        "tables": {
            table: {"order_by": ORDER_BY[table], "json_columns": JSON_COLUMNS.get(table, []), "rows": rows}
            for table, rows in rebuilt.items()
        },
    }
    (out / "v1-store.views.json").write_text(json.dumps(document, ensure_ascii=False, indent=1) + "\n")
    print(
        json.dumps(
            {"events": events, "statuses": statuses, "topics": sorted(stored_topics)}, indent=1, ensure_ascii=False
        )
    )
    print({t: len(r) for t, r in rebuilt.items()})
    print("checkpoint", checkpoint.as_dict())


def dump_views(views: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Every row of every view table, by primary key, JSON columns decoded (with the v1 code's readers)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for name in VIEWS:
        view = views[name].view
        for table in view.spec.tables:
            with view.read() as tx:
                rows = tx.all(f"SELECT * FROM {{{table}}} ORDER BY {', '.join(ORDER_BY[table])}")
            for row in rows:
                for column, value in row.items():
                    assert not isinstance(value, (bytes, memoryview)), (table, column)
                for column in JSON_COLUMNS.get(table, []):
                    row[column] = json.loads(row[column])
            out[table] = rows
    assert set(out) == set(ORDER_BY), set(out)
    return out


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else CHECKOUT / "fixture-out")
