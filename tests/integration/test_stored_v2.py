"""A store written before the JCS hash scheme keeps working: tests/data/v2-store.sqlite (how it was made:
tests/data/README.md) loads, verifies (in process, with ``zonecase store verify``, and as an export — the one
its own code wrote and a fresh one), projects to exactly the rows its code projected, and takes new events
under the new scheme on its old chains."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from application.clock import SettableClock
from application.sample import EXPERTS
from application.sample import at
from application.sample import full_scores
from application.settings import Settings
from audit.checkpoints import SigningKey
from audit.checkpoints import load_public_key
from audit.checkpoints import public_pem
from audit.checkpoints import verify_tree_head
from audit.integrity import verify_store
from audit.offline import export
from audit.offline import verify_export
from projections import VIEWS
from zonecase.wiring import build

DATA = Path(__file__).parent.parent / "data"
STORE = DATA / "v2-store.sqlite"
OLD_EXPORT = DATA / "v2-export"
EXPECTED: dict[str, Any] = json.loads((DATA / "v2-store.views.json").read_text("utf-8"))
EVENTS = 151


@pytest.fixture
def store(tmp_path: Path) -> Path:
    folder = tmp_path / "store"
    folder.mkdir()
    copy = folder / STORE.name
    shutil.copyfile(STORE, copy)
    return copy


def settings_for(store: Path, tmp_path: Path) -> Settings:
    return Settings(database_url=f"sqlite:///{store}", data_dir=tmp_path / "data")


def cli(args: list[str], store: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZONECASE_")}
    env.update(ZONECASE_DATABASE_URL=f"sqlite:///{store}", ZONECASE_DATA_DIR=str(tmp_path / "data"))
    return subprocess.run(
        [sys.executable, "-m", "zonecase", *args], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
    )


def stored_states(store: Path) -> list[dict[str, Any]]:
    with closing(sqlite3.connect(store)) as db:
        return [json.loads(s) for (s,) in db.execute("SELECT state FROM stored_events ORDER BY rowid")]


def has_float(value: Any) -> bool:
    if isinstance(value, dict):
        return any(has_float(v) for v in value.values())
    if isinstance(value, list):
        return any(has_float(v) for v in value)
    return isinstance(value, float)


def dump_views(views: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """As tests/data/make_v2_store.py.txt dumped them: every row, sorted by its JSON text."""
    out: dict[str, list[dict[str, Any]]] = {}
    for name in VIEWS:
        view = views[name].view
        for table in view.spec.tables:
            with view.read() as tx:
                rows = tx.all(f"SELECT * FROM {{{table}}}")
            out[table] = sorted(rows, key=lambda r: json.dumps(r, sort_keys=True, ensure_ascii=False))
    return out


def test_the_fixture_is_of_the_old_scheme_floats_and_all(store: Path) -> None:
    states = stored_states(store)
    assert len(states) == EVENTS
    assert not any("hash_scheme" in s for s in states)  # made before the scheme was recorded
    assert any(has_float(s["data"]) for s in states)  # scores, ratios, 12000000000.0 …
    assert any("originator_topic" in s for s in states)


def test_it_loads_and_verifies_in_process_and_with_the_command(store: Path, tmp_path: Path) -> None:
    c = build(settings_for(store, tmp_path), check_documents=False)
    try:
        result = verify_store(c.app)
        assert result.ok, result.problems
        assert result.events_checked == EVENTS
        zones = {z: c.app.get_zone(z) for z in c.app.zone_ids()}
        assert len(zones) == 9
        (checkpoint,) = c.app.side_tables.get_checkpoints()
        public = load_public_key((OLD_EXPORT / "public-key.pem").read_text())
        assert checkpoint.tree_size == EVENTS and verify_tree_head(public, checkpoint.as_dict())
        tree = c.start_checkpoints(SigningKey.generate()).tree()  # any key: only the tree is read
        assert tree.root(EVENTS).hex() == checkpoint.root_hash
    finally:
        c.close()
    out = cli(["store", "verify"], store, tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    assert json.loads(out.stdout)["events_checked"] == EVENTS


def test_its_old_export_and_a_fresh_one_verify_offline(store: Path, tmp_path: Path) -> None:
    key = OLD_EXPORT / "public-key.pem"
    report = verify_export(OLD_EXPORT, key)
    assert report.ok, report.problems
    assert (report.events_checked, report.checkpoints_checked) == (EVENTS, 1)
    out = cli(["verify", str(OLD_EXPORT), "--public-key", str(key)], store, tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    c = build(settings_for(store, tmp_path), check_documents=False)
    try:
        checkpoints = [cp.as_dict() for cp in c.app.side_tables.get_checkpoints()]
        export(c.app, checkpoints, key.read_text(), tmp_path / "fresh")
    finally:
        c.close()
    # the export of the old events is the very one the old code wrote
    for name in ("events.ndjson", "checkpoints.json", "manifest.json"):
        assert (tmp_path / "fresh" / name).read_bytes() == (OLD_EXPORT / name).read_bytes(), name
    assert verify_export(tmp_path / "fresh", key).ok


def test_it_projects_to_the_rows_its_code_projected(store: Path, tmp_path: Path) -> None:
    c = build(settings_for(store, tmp_path), check_documents=False)
    try:
        runner = c.start_views(poll_interval=0.2)
        runner.wait_for(c.app.recorder.max_notification_id(), timeout=60)
        assert all(v["failed"] is None for v in runner.status()["views"].values())
        got = dump_views(runner.views)
    finally:
        c.close()
    assert got == EXPECTED["tables"]
    # equal as values is not enough: 4 and 4.0 must not stand for each other either
    assert json.dumps(got, ensure_ascii=False) == json.dumps(EXPECTED["tables"], ensure_ascii=False)


def test_new_events_on_an_old_chain_are_of_the_new_scheme_and_everything_still_verifies(
    store: Path, tmp_path: Path
) -> None:
    clock = SettableClock(at("2024-05-28"))
    c = build(settings_for(store, tmp_path), clock=clock, check_documents=False)
    try:
        (zone_id,) = [z for z in c.app.zone_ids() if c.app.get_zone(z).status == "assessing"]
        before = c.app.get_zone(zone_id)
        c.app.file_scores(zone_id, EXPERTS[1], scores=full_scores(share=0.8))
        zone = c.app.get_zone(zone_id)
        assert zone.version == before.version + 1
        assert zone.panel is not None and zone.panel.sheets[EXPERTS[1].sub].scores["2"] == 2.4  # read back
        result = verify_store(c.app)
        assert result.ok, result.problems
        key = SigningKey.generate()
        checkpointer = c.start_checkpoints(key)
        checkpoints = [cp.as_dict() for cp in c.app.side_tables.get_checkpoints()]
        checkpoints.append(checkpointer.sign("after the upgrade").as_dict())
        export(c.app, checkpoints, public_pem(key.public), tmp_path / "mixed")
    finally:
        c.close()
    last = stored_states(store)[-1]
    assert last["hash_scheme"] == "jcs-sha256/1" and not has_float(last)
    assert last["data"]["scores"]["2"] == {"$decimal": "2.4"}
    assert last["prev_hash"] == before.last_hash  # chained to the old scheme's last event
    # the old checkpoint is signed by the fixture's key, the new one by this key: each key checks its own
    report = verify_export(tmp_path / "mixed", tmp_path / "mixed" / "public-key.pem")
    assert report.events_checked == EVENTS + 1
    assert [p["tree_size"] for p in report.problems] == [EVENTS]  # only the fixture key's checkpoint
    old_key_report = verify_export(tmp_path / "mixed", OLD_EXPORT / "public-key.pem")
    # under the old key, the new checkpoint is another key's, and the event after the old one is not covered
    assert [p.get("tree_size") for p in old_key_report.problems] == [EVENTS + 1, None]
    assert old_key_report.problems[1]["first"] == EVENTS + 1
    out = cli(["store", "verify"], store, tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    assert json.loads(out.stdout)["events_checked"] == EVENTS + 1
