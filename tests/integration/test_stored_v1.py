"""A store written by the v1 code keeps working: tests/data/v1-store.sqlite (how it was made: tests/data/README.md)
loads zone by zone, verifies (in process and with ``zonecase store verify``), and rebuilds, from its log alone,
to exactly the view rows the v1 code projected (tests/data/v1-store.views.json)."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from application.settings import Settings
from audit.checkpoints import SigningKey
from audit.checkpoints import load_public_key
from audit.checkpoints import verify_tree_head
from audit.integrity import verify_store
from zonecase.wiring import Container
from zonecase.wiring import build

DATA = Path(__file__).parent.parent / "data"
STORE = DATA / "v1-store.sqlite"
EXPECTED: dict[str, Any] = json.loads((DATA / "v1-store.views.json").read_text("utf-8"))
EVENTS = 137

# Every topic the v1 store holds; each must keep loading, whatever the modules are called.
V1_TOPICS = [
    "domain.calendar_year:CalendarYear.Corrected",
    "domain.calendar_year:CalendarYear.Entered",
    "domain.zone:Zone.AnnualEvaluated",
    "domain.zone:Zone.AnnualReportOverdue",
    "domain.zone:Zone.AnnualReported",
    "domain.zone:Zone.ApplicationRejected",
    "domain.zone:Zone.ApplicationReturned",
    "domain.zone:Zone.Applied",
    "domain.zone:Zone.Assessed",
    "domain.zone:Zone.ConflictDeclared",
    "domain.zone:Zone.FormallyAccepted",
    "domain.zone:Zone.Granted",
    "domain.zone:Zone.NoticeEnded",
    "domain.zone:Zone.ObjectionRaised",
    "domain.zone:Zone.ObjectionResolved",
    "domain.zone:Zone.PanelAppointed",
    "domain.zone:Zone.Publicized",
    "domain.zone:Zone.RectificationOrdered",
    "domain.zone:Zone.RectificationOverdue",
    "domain.zone:Zone.Rectified",
    "domain.zone:Zone.ReviewPassed",
    "domain.zone:Zone.ReviewRequested",
    "domain.zone:Zone.ReviewWindowOpened",
    "domain.zone:Zone.Revoked",
    "domain.zone:Zone.ScoresFiled",
    "domain.zone:Zone.Supplemented",
    "domain.zone:Zone.TitleExpired",
]

# The zones of the store, in the order they were created: id → (name, status, version).
ZONES = {
    UUID("28ab26f8-2f93-506e-b99a-efbaa42a2ae7"): ("松山湖软件和信息技术服务业集聚区", "granted", 23),
    UUID("1ff003a6-1ee6-54f2-9f17-419dd570eec5"): ("南城软件和信息技术服务业集聚区", "revoked", 35),
    UUID("4d8e8632-6e7f-5d2e-8abc-04259221e67b"): ("松山湖北区信息服务园", "rejected", 2),
    UUID("af7e8b01-0f2e-5f79-9538-0e2ee3fdf5bf"): ("南城科技园", "not_passed", 7),
    UUID("bd2d7ca5-c1c7-57f7-8dd4-a5e584f67350"): ("松山湖东区软件园", "rejected", 11),
    UUID("cbfc21f5-f5d5-50a3-8ecd-9b0c90976301"): ("南城西平数字园", "revoked", 16),
    UUID("cf4a7b83-eb7d-5cd4-9d74-997b098a8294"): ("松山湖南区软件园", "revoked", 11),
    UUID("027f7c48-a575-5af4-ae65-20a6ac4c0eb9"): ("南城东城信息港", "rectifying", 22),
    UUID("c243bb00-3894-5124-8e80-89bc5de97312"): ("松山湖西区数据园", "assessing", 6),
    UUID("37268717-73fc-5f93-9049-8d38aafe2923"): ("南城莞太路信息园", "returned", 2),
}


def settings_for(store: Path, tmp_path: Path) -> Settings:
    return Settings(database_url=f"sqlite:///{store}", data_dir=tmp_path / "data")


@pytest.fixture
def opened(store_copy: Path, tmp_path: Path) -> Any:
    c = build(settings_for(store_copy, tmp_path), check_documents=False)
    yield c
    c.close()


def cli(args: list[str], store: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZONECASE_")}
    env.update(ZONECASE_DATABASE_URL=f"sqlite:///{store}", ZONECASE_DATA_DIR=str(tmp_path / "data"))
    return subprocess.run(
        [sys.executable, "-m", "zonecase", *args],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )


def views_file(store: Path, tmp_path: Path) -> Path:
    return Path(settings_for(store, tmp_path).views_env()["SQLITE_DBNAME"])


def read_views(path: Path) -> dict[str, list[dict[str, Any]]]:
    """The rows of the tables the expected file names, in its order, JSON columns decoded."""
    out = {}
    with closing(sqlite3.connect(path)) as db:
        db.row_factory = sqlite3.Row
        for table, spec in EXPECTED["tables"].items():
            rows = [dict(r) for r in db.execute(f"SELECT * FROM {table} ORDER BY {', '.join(spec['order_by'])}")]
            for row in rows:
                for column in spec["json_columns"]:
                    row[column] = json.loads(row[column])
            out[table] = rows
    return out


def assert_v1_rows(got: dict[str, list[dict[str, Any]]]) -> None:
    for table, spec in EXPECTED["tables"].items():
        want = spec["rows"]
        assert len(got[table]) == len(want), f"{table}: {len(got[table])} rows, v1 had {len(want)}"
        for i, (row, expected) in enumerate(zip(got[table], want, strict=True)):
            key = {k: expected[k] for k in spec["order_by"]}
            assert row == expected, f"{table} row {i} {key} differs from v1"
    # equal as values is not enough: 1 and true, 1 and 1.0 must not stand for each other either
    canonical = json.dumps(got, sort_keys=True, ensure_ascii=False)
    assert canonical == json.dumps(
        {t: s["rows"] for t, s in EXPECTED["tables"].items()}, sort_keys=True, ensure_ascii=False
    )


def test_the_store_holds_the_v1_topics_and_no_views() -> None:
    with closing(sqlite3.connect(STORE)) as db:
        topics = {r[0] for r in db.execute("SELECT DISTINCT topic FROM stored_events")}
        events = db.execute("SELECT COUNT(*) FROM stored_events").fetchone()[0]
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert sorted(topics) == V1_TOPICS  # a topic left out here is one the test no longer shows loading
    assert events == EVENTS == EXPECTED["events"]
    assert not {t for t in tables if t.startswith("view_") or t.endswith("_tracking")}  # they must be rebuilt


def test_every_zone_loads(opened: Container) -> None:
    app = opened.app
    ids = list(app.zone_ids())
    assert ids == list(ZONES)
    with closing(sqlite3.connect(STORE)) as db:
        last_hashes = {
            UUID(zone_id): json.loads(state)["hash"]
            for zone_id, state in db.execute(
                "SELECT originator_id, state FROM stored_events e WHERE originator_version = "
                "(SELECT MAX(originator_version) FROM stored_events WHERE originator_id = e.originator_id)"
            )
        }
    for zone_id in ids:
        zone = app.get_zone(zone_id)
        assert (zone.name, zone.status, zone.version) == ZONES[zone_id]
        assert zone.last_hash == last_hashes[zone_id]  # replayed to the end of its stored chain
    calendar = app.calendar_override(2027)  # entered, then corrected, by the bureau
    assert calendar is not None and calendar.version == 2 and "2027-05-01" in calendar.holidays


def test_the_chain_verifies_in_process_and_with_the_command(
    opened: Container, store_copy: Path, tmp_path: Path
) -> None:
    result = verify_store(opened.app)
    assert result.ok, result.problems
    assert result.events_checked == EVENTS
    out = cli(["store", "verify"], store_copy, tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    report = json.loads(out.stdout)
    assert report["ok"] is True and report["events_checked"] == EVENTS and report["first_bad"] is None


def test_the_views_projected_afresh_are_the_v1_rows(store_copy: Path, tmp_path: Path) -> None:
    path = views_file(store_copy, tmp_path)
    assert not path.exists()  # nothing to start from but the log
    c = build(settings_for(store_copy, tmp_path), check_documents=False)
    try:
        runner = c.start_views(poll_interval=0.2)
        runner.wait_for(c.app.recorder.max_notification_id(), timeout=30)
        assert all(v["failed"] is None for v in runner.status()["views"].values())
    finally:
        c.close()
    assert_v1_rows(read_views(path))


def test_the_views_rebuilt_by_the_command_are_the_v1_rows(store_copy: Path, tmp_path: Path) -> None:
    out = cli(["rebuild"], store_copy, tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"from {EVENTS} events" in out.stdout
    assert_v1_rows(read_views(views_file(store_copy, tmp_path)))


def test_the_v1_checkpoint_still_verifies_over_the_rebuilt_log(opened: Container) -> None:
    (checkpoint,) = opened.app.side_tables.get_checkpoints()
    assert checkpoint.tree_size == EVENTS
    public = load_public_key((DATA / "v1-store.public-key.pem").read_bytes())
    assert verify_tree_head(public, checkpoint.as_dict())
    tree = opened.start_checkpoints(SigningKey.generate()).tree()  # any key: only the tree is read
    assert tree.root(checkpoint.tree_size).hex() == checkpoint.root_hash


def test_the_v1_store_exports_and_verifies_offline_covered_by_its_checkpoint(opened: Container, tmp_path: Path) -> None:
    from audit.heads import parse_tree_head_argument
    from audit.offline import export
    from audit.offline import verify_export

    checkpoints = [cp.as_dict() for cp in opened.app.side_tables.get_checkpoints()]
    key = DATA / "v1-store.public-key.pem"
    export(opened.app, checkpoints, key.read_text("utf-8"), tmp_path / "export")
    (checkpoint,) = checkpoints
    trusted = parse_tree_head_argument(f"{checkpoint['tree_size']}:{checkpoint['root_hash']}")
    report = verify_export(tmp_path / "export", key, trusted)
    assert report.ok, report.problems
    assert report.events_checked == EVENTS
    assert report.covered_by is not None and report.covered_by["tree_size"] == EVENTS
    assert report.tree_head is not None and report.tree_head["consistent"] is True
