"""The command line as an operator uses it: tokens, the service on the embedded store, the checks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from ..conftest import StoreFactory
from .conftest import served_process


def run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "zonecase", *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=60
    )


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    e = {k: v for k, v in os.environ.items() if not k.startswith("ZONECASE_")}
    e["ZONECASE_DATA_DIR"] = str(tmp_path / "data")
    return e


def test_token_carries_the_contract_claims(env: dict[str, str], tmp_path: Path) -> None:
    env["ZONECASE_JWT_SECRET"] = "s3cret-for-tests-only-32-bytes-long!"
    out = run(["token", "--role", "applicant", "--sub", "u1", "--org", "songshan-lake", "--name", "Li"], env, tmp_path)
    assert out.returncode == 0, out.stderr
    claims = jwt.decode(out.stdout.strip(), env["ZONECASE_JWT_SECRET"], algorithms=["HS256"])
    assert (claims["sub"], claims["role"], claims["org"], claims["name"]) == ("u1", "applicant", "songshan-lake", "Li")
    assert claims["exp"] > time.time()


def test_token_refuses_an_applicant_without_org_and_unknown_roles(env: dict[str, str], tmp_path: Path) -> None:
    env["ZONECASE_JWT_SECRET"] = "x" * 32
    assert run(["token", "--role", "applicant", "--sub", "u1"], env, tmp_path).returncode == 2
    bad = run(["token", "--role", "mayor", "--sub", "u1"], env, tmp_path)
    assert bad.returncode == 2 and "role must be one of" in bad.stderr + bad.stdout


def test_development_secret_is_generated_once_with_a_warning(env: dict[str, str], tmp_path: Path) -> None:
    first = run(["token", "--role", "bureau", "--sub", "b"], env, tmp_path)
    second = run(["token", "--role", "bureau", "--sub", "b"], env, tmp_path)
    assert "WARNING" in first.stderr
    secret = (tmp_path / "data" / "dev-jwt-secret").read_text().strip()
    for out in (first, second):
        assert jwt.decode(out.stdout.strip(), secret, algorithms=["HS256"])["role"] == "bureau"


def test_production_without_a_secret_refuses_to_start(env: dict[str, str], tmp_path: Path) -> None:
    env["ZONECASE_ENV"] = "production"
    out = run(["serve", "--port", "1"], env, tmp_path)
    assert out.returncode == 2
    assert "ZONECASE_JWT_SECRET" in out.stdout + out.stderr
    env["ZONECASE_JWT_SECRET"] = "s" * 32  # a token secret, but no signing key: still no start
    out = run(["serve", "--port", "1"], env, tmp_path)
    assert out.returncode == 2
    assert "ZONECASE_SIGNING_KEY" in out.stdout + out.stderr
    assert not (tmp_path / "data" / "dev-signing-key.pem").exists()  # never generated silently


def test_indicators_reports_the_discrepancies(env: dict[str, str], tmp_path: Path) -> None:
    out = run(["indicators"], {**env, "COLUMNS": "200"}, tmp_path)
    assert out.returncode == 0
    assert "sum to 26, the document declares 25" in out.stdout
    assert "sum to 32, the document declares 35" in out.stdout


def test_serve_runs_on_the_embedded_sqlite_store_with_no_server(env: dict[str, str], tmp_path: Path) -> None:
    with served_process(env, tmp_path) as base:
        health = httpx.get(f"{base}/health", timeout=5)
        assert health.status_code == 200 and health.json()["status"] == "ok"
        ready = httpx.get(f"{base}/ready", timeout=5)
        assert ready.status_code == 200 and ready.json()["store"] == "ok"
        assert (tmp_path / "data" / "zonecase.sqlite").exists()


def test_store_verify_on_an_empty_store(env: dict[str, str], tmp_path: Path) -> None:
    out = run(["store", "verify"], env, tmp_path)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["ok"] is True


def test_rebuild_from_the_command_line_gives_the_same_rows(
    env: dict[str, str], tmp_path: Path, persistent_store: StoreFactory
) -> None:
    from projections.runner import open_views
    from tests.conftest import make_container
    from tests.integration.test_application import walk_to_grant

    url = persistent_store.new_url()
    c = make_container(url, tmp_path)
    runner = c.start_views()
    walk_to_grant(c)
    runner.wait_for(c.app.last_position(), timeout=5)
    before = {name: p.view.dump() for name, p in runner.views.items()}
    c.close()

    env["ZONECASE_DATABASE_URL"] = url
    out = run(["rebuild", "--workers", "2"], {**env, "COLUMNS": "120"}, tmp_path)  # two processes on PostgreSQL
    assert out.returncode == 0, out.stderr
    # from the zone's 13 events and the call's 2 (published on start, the case the zone opened)
    assert "rebuilt zones, history, assessments, deadlines, notices from 16 events" in out.stdout
    c = make_container(url, tmp_path)
    try:
        after = {name: p.view.dump() for name, p in open_views(c.app, c.settings.views_env()).items()}
    finally:
        c.close()
    assert after == before
    assert run(["rebuild", "nonsense"], env, tmp_path).returncode == 2


def test_the_readme_walkthrough_runs(env: dict[str, str], tmp_path: Path) -> None:
    """scripts/walkthrough.sh (the README's curl walk-through) against a served process."""
    import shutil

    if not (shutil.which("curl") and shutil.which("jq")):
        pytest.skip("the walk-through needs curl and jq")
    env["ZONECASE_ALLOW_TIME_TRAVEL"] = "1"
    with served_process(env, tmp_path) as base:
        script = Path(__file__).resolve().parents[2] / "scripts" / "walkthrough.sh"
        out = subprocess.run(
            ["bash", str(script)],
            env={**env, "BASE": base, "ZC": f"{sys.executable} -m zonecase"},
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert out.returncode == 0, out.stdout + out.stderr
        assert '{"status":"granted","valid_until":"2024-10-10","version":12}' in out.stdout
        period = '"creation_period":{"end_year":2023,"start_year":2021,"ends_on":"2023-12-31","starts_on":"2021-07-15"}'
        assert period in out.stdout  # the approval to start opened the first batch's creation period
        assert "assessment_requested\nassessment_accepted\n" in out.stdout
        assert '"2021-10-08"' in out.stdout
        assert '{"id":"2021-first","members":["songshan-lake","nancheng"]' in out.stdout
        assert '{"ok":true,"events_checked":14' in out.stdout  # the zone's 12, the call's publication and the case


def _granted_zones(url: str, tmp_path: Path, count: int) -> list[Any]:
    from tests.conftest import make_container
    from tests.unit import case

    c = make_container(url, tmp_path)
    zones = [case.granted() for _ in range(count)]
    c.app.save(*zones)
    c.close()
    return zones


def _deadline_events(url: str, tmp_path: Path) -> list[str]:
    from tests.conftest import make_container

    c = make_container(url, tmp_path)
    try:
        rows = c.app.recorder.select_notifications(start=1, limit=10000)
        return [
            n.topic.rsplit(".", 1)[-1]
            for n in rows
            if "Overdue" in n.topic or "Opened" in n.topic or "Expired" in n.topic
        ]
    finally:
        c.close()


def test_the_scheduler_runs_alone_and_catches_up(env: dict[str, str], tmp_path: Path) -> None:
    """`zonecase scheduler`, started long after the term ended, fires everything due on its first sweep."""
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    _granted_zones(url, tmp_path, 2)
    env["ZONECASE_DATABASE_URL"] = url
    log = tmp_path / "scheduler.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "zonecase", "scheduler", "--interval", "1"],
            env=env,
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while len(_deadline_events(url, tmp_path)) < 10:  # 2 zones × (3 reports, window, expiry)
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.3)
        time.sleep(1.5)  # another tick: nothing more
        assert sorted(_deadline_events(url, tmp_path)) == sorted(
            ["AnnualReportOverdue"] * 6 + ["ReviewWindowOpened"] * 2 + ["TitleExpired"] * 2
        )
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_serve_runs_the_scheduler_on_its_timer(env: dict[str, str], tmp_path: Path) -> None:
    from api.auth import mint_token

    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    env.update(
        ZONECASE_DATABASE_URL=url,
        ZONECASE_SCHEDULER_INTERVAL="0.5",
        ZONECASE_ALLOW_TIME_TRAVEL="1",
        ZONECASE_JWT_SECRET="s" * 32,
    )
    bureau = {"Authorization": "Bearer " + mint_token("s" * 32, sub="b", role="bureau")}
    with served_process(env, tmp_path) as base:
        r = httpx.put(f"{base}/admin/clock", json={"now": "2022-02-01T09:00:00+08:00"}, headers=bureau)
        assert r.status_code == 200
        _granted_zones(url, tmp_path, 1)  # granted in October 2021, written by another process
        deadline = time.monotonic() + 20
        while True:  # the served process sees it (polling), and its scheduler fires the overdue report
            rows = httpx.get(f"{base}/deadlines", headers=bureau).json()
            if rows and rows[0]["recorded"]:
                break
            assert time.monotonic() < deadline, "the served scheduler did not fire the overdue report"
            time.sleep(0.3)
        assert (rows[0]["kind"], rows[0]["due_on"], rows[0]["overdue"]) == ("annual_report_overdue", "2022-01-31", True)
        assert _deadline_events(url, tmp_path) == ["AnnualReportOverdue"]


def test_demo_fills_an_empty_store_with_zones_at_different_stages_and_only_once(
    env: dict[str, str], tmp_path: Path, persistent_store: StoreFactory
) -> None:
    env["ZONECASE_DATABASE_URL"] = persistent_store.new_url()
    first = run(["demo"], env, tmp_path)
    assert first.returncode == 0, first.stderr
    for status in ("granted", "not_passed", "in_notice", "assessing"):
        assert status in first.stdout
    again = run(["demo"], env, tmp_path)
    assert again.returncode == 2 and "already holds events" in again.stdout + again.stderr
    verified = run(["store", "verify"], env, tmp_path)
    assert verified.returncode == 0, verified.stdout
    # the zones' events, and the calls': each published, and a case opened by each zone
    assert json.loads(verified.stdout)["events_checked"] == 24 + 11 + 11 + 6 + 2 + 4

    from application.settings import Settings
    from zonecase.wiring import build

    c = build(Settings.from_env(env), check_documents=False)
    try:
        zones = {c.app.get_zone(i).name: c.app.get_zone(i) for i in c.app.zone_ids()}
        applied = {z.name: next(iter(c.app.events.get(z.id))).data for z in zones.values()}  # type: ignore[attr-defined]
        calls = {call.call_id: call for call in c.app.calls()}
    finally:
        c.close()
    # one open case per organisation and call: Nancheng's second follows its first, which did not pass;
    # Songshan Lake's second is in the second call, which the bureau published
    first = zones["南城软件和信息技术服务业集聚区"]
    assert first.status == "not_passed"
    assert applied["南城数字经济产业园集聚区"]["previous_case"] == str(first.id)
    assert [n for n, d in applied.items() if "previous_case" in d] == ["南城数字经济产业园集聚区"]
    assert zones["松山湖国际创新创业社区集聚区"].batch == "2024-second"
    assert [h["actor"]["role"] for h in calls["2021-first"].history] == ["system"]
    assert [h["actor"]["role"] for h in calls["2024-second"].history] == ["bureau"]
    songshan = zones["松山湖软件和信息技术服务业集聚区"]
    assert (songshan.status, len(songshan.terms), sorted(songshan.annual_reports)) == (
        "granted",
        2,
        ["2021", "2022", "2023"],
    )
    assert zones["南城数字经济产业园集聚区"].status == "in_notice"
    assert [o.status for o in zones["南城数字经济产业园集聚区"].objections.values()] == ["open"]
