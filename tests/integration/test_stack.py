"""The production stack without a Docker engine: docker-compose.yml checked against the Compose specification's
JSON schema, nginx's configuration checked by `nginx -t`, and the topology itself — one PostgreSQL, a one-shot
migrate, two API processes, a scheduler and its standby — started as the same processes on this machine."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import date
from datetime import timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
import yaml

from audit.checkpoints import SigningKey

from ..conftest import StoreFactory
from ..e2e.conftest import SECRET
from ..e2e.conftest import Api
from ..e2e.conftest import clean_env
from ..e2e.conftest import served_process
from ..e2e.test_lifecycle import to_notice
from ..helpers import BUREAU
from ..helpers import GOOD_PLAN
from ..helpers import GOOD_STATISTICS
from ..helpers import INSPECTOR
from ..helpers import NANCHENG
from ..helpers import OTHER_TOWN
from ..helpers import SONGSHAN

ROOT = Path(__file__).resolve().parents[2]
KINDS = ("application_form", "application_report", "self_assessment", "coordination_plan", "creation_plan")


def ref(api: Api, actor: Any, name: str) -> dict[str, str]:
    d = api.upload(actor, name)
    return {"sha256": d["sha256"], "name": d["name"]}


def compose() -> dict[str, Any]:
    return dict(yaml.safe_load((ROOT / "docker-compose.yml").read_text()))


def test_the_compose_file_follows_the_compose_specification() -> None:
    schema = json.loads(
        resources.files("check_jsonschema").joinpath("builtin_schemas/vendor/compose-spec.json").read_text()
    )
    jsonschema.validate(compose(), schema)
    services = compose()["services"]
    assert set(services) == {"db", "migrate", "api1", "api2", "scheduler", "scheduler-standby", "nginx", "prometheus"}
    for name in ("api1", "api2", "scheduler", "scheduler-standby"):  # none creates tables; no API sweeps
        env = services[name]["environment"]
        assert env["ZONECASE_CREATE_TABLES"] == "off" and env["ZONECASE_SCHEDULER_INTERVAL"] == "0"
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["migrate"]["environment"]["ZONECASE_CREATE_TABLES"] == "on"
    assert services["migrate"]["command"] == ["zonecase", "migrate"]
    assert "healthcheck" in services["db"] and "/ready" in str(services["api1"]["healthcheck"])
    mounted = {v.split(":")[0] for s in services.values() for v in s.get("volumes", []) if v.startswith("./")}
    assert all((ROOT / path).exists() for path in mounted if not path.startswith("./secrets/")), mounted
    with pytest.raises(jsonschema.ValidationError):  # the check can fail
        jsonschema.validate({"services": {"api1": {"image": 5}}}, schema)


def test_the_alerts_read_metrics_the_service_exports() -> None:
    rules = yaml.safe_load((ROOT / "deploy" / "alerts.yml").read_text())["groups"][0]["rules"]
    assert {r["alert"] for r in rules} >= {
        "ZonecaseViewStopped",
        "ZonecaseViewLagging",
        "ZonecaseNoSweep",
        "ZonecaseDeadlineRecordedLate",
        "ZonecaseCheckpointOld",
    }
    exported = "".join((ROOT / f).read_text() for f in ("api/metrics.py", "scheduler/metrics.py"))
    for rule in rules:
        for name in re.findall(r"zonecase_[a-z_]+", rule["expr"]):
            assert f'"{name}"' in exported or f'"{name.removesuffix("_total")}"' in exported, (rule["alert"], name)
    scrape = yaml.safe_load((ROOT / "deploy" / "prometheus.yml").read_text())
    assert scrape["rule_files"] == ["/etc/prometheus/alerts.yml"]
    assert scrape["scrape_configs"][0]["static_configs"][0]["targets"] == ["api1:8000", "api2:8000"]


def test_nginx_accepts_the_configuration(tmp_path: Path) -> None:
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if nginx is None:
        if os.environ.get("ZONECASE_REQUIRE_NGINX") == "1":
            pytest.fail("nginx is required (apt-get install nginx)")
        pytest.skip("needs nginx (Debian package) for `nginx -t`")
    # the upstreams are compose service names; here they must resolve, so they become loopback addresses
    text = (ROOT / "deploy" / "nginx.conf").read_text().replace("api1:8000", "127.0.0.1:8001")
    conf = tmp_path / "nginx.conf"
    conf.write_text(text.replace("api2:8000", "127.0.0.1:8002"))
    (tmp_path / "logs").mkdir()
    run = [nginx, "-t", "-p", str(tmp_path), "-c", str(conf), "-g", f"pid {tmp_path}/nginx.pid;"]
    out = subprocess.run(run, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    broken = tmp_path / "broken.conf"
    broken.write_text(conf.read_text().replace("client_max_body_size 21m;", "client_max_body_size;"))
    assert subprocess.run([*run[:5], str(broken), *run[6:]], capture_output=True).returncode != 0


@pytest.mark.postgres
def test_two_apis_and_a_scheduler_with_its_standby_on_one_postgresql(tmp_path: Path) -> None:
    factory = StoreFactory("postgres", tmp_path)
    url = factory.new_url()
    key = tmp_path / "signing-key.pem"
    SigningKey.generate().save(key)
    env = clean_env(
        ZONECASE_DATABASE_URL=url,
        ZONECASE_DATA_DIR=str(tmp_path / "data"),  # shared by every process, as the compose volume is
        ZONECASE_JWT_SECRET=SECRET,
        ZONECASE_SIGNING_KEY=str(key),
        ZONECASE_ALLOW_TIME_TRAVEL="1",
        ZONECASE_SCHEDULER_INTERVAL="0",
        ZONECASE_CREATE_TABLES="off",
        ZONECASE_RATE_LIMITS="off",
    )
    try:
        migrated = subprocess.run(
            [sys.executable, "-m", "zonecase", "migrate"],
            env={**env, "ZONECASE_CREATE_TABLES": "on"},
            cwd=tmp_path,
            capture_output=True,
            text=True,
        )
        assert migrated.returncode == 0, migrated.stdout + migrated.stderr
        with ExitStack() as stack:
            apis = [stack.enter_context(api_at(served_process(env, tmp_path))) for _ in range(2)]
            run_the_stack(apis, env, tmp_path)
    finally:
        factory.cleanup()


def api_at(process: Any) -> Any:
    from contextlib import contextmanager

    @contextmanager
    def opened() -> Iterator[Api]:
        with process as base, httpx.Client(base_url=base, timeout=30) as client:
            yield Api(client)  # type: ignore[arg-type]

    return opened()


def run_the_stack(apis: list[Api], env: dict[str, str], tmp_path: Path) -> None:
    # The schedulers run on the real clock: the cases are walked in the last weeks, so that their notices have
    # ended by today (and nothing else falls due meanwhile: the call's creation period runs for years).
    first, second = apis
    today = date.today()
    monday = today - timedelta(days=today.weekday() + 21)  # a Monday three weeks ago: the notices' first day

    def on(day: date) -> None:  # each API process has its own (settable) clock
        for api in apis:
            api.set_clock(day.isoformat())

    on(monday - timedelta(days=14))
    call = {
        "id": "stack-call",
        "name": "集聚区创建申报（测试）",
        "opens_on": (monday - timedelta(days=30)).isoformat(),
        "closes_on": (today + timedelta(days=30)).isoformat(),
        "creation_period": {"start_year": today.year, "end_year": today.year + 3},
        "members": [],
        "members_only": False,
        "exempt_materials": [],
        "other_materials_required": [],
    }
    assert first.post("/calls", BUREAU, json=call).status_code == 201

    def to_ended_notice(api: Api, applicant: Any, name: str) -> str:
        on(monday - timedelta(days=14))
        materials = [{"kind": k, **ref(api, applicant, f"{name}-{k}.pdf")} for k in KINDS]
        body = {
            "name": name,
            "area_type": "town",
            "sites": [{"name": "core"}],
            "batch": "stack-call",
            "materials": materials,
            "self_assessment": {"statistics": GOOD_STATISTICS},
            "plan": GOOD_PLAN,
        }
        r = api.post("/zones", applicant, json=body)
        assert r.status_code == 201, r.text
        zid = str(r.json()["id"])
        on(monday)
        to_notice(api, zid, day=monday.isoformat(), applicant=applicant)
        on(today)
        return zid

    # commands through both APIs; each sees the other's
    a = to_ended_notice(first, SONGSHAN, "松山湖")
    assert second.get(f"/zones/{a}", INSPECTOR).json()["status"] == "in_notice"

    schedulers: list[subprocess.Popen[bytes]] = []
    try:
        schedulers.append(start_scheduler(env, tmp_path, "first"))
        eventually(lambda: ended(second, a) == 1, "the first scheduler records the notice's end")
        schedulers.append(start_scheduler(env, tmp_path, "standby"))
        b = to_ended_notice(second, NANCHENG, "南城")
        eventually(lambda: ended(first, b) == 1, "the leader records the second notice's end")
        time.sleep(3)  # both schedulers tick several times meanwhile: still once each
        assert (ended(first, a), ended(first, b)) == (1, 1)

        schedulers[0].send_signal(signal.SIGKILL)  # the leader dies without releasing anything
        schedulers[0].wait(timeout=10)
        c = to_ended_notice(first, OTHER_TOWN, "长安")
        eventually(lambda: ended(second, c) == 1, "the standby takes over and records the third notice's end")
        assert (ended(second, a), ended(second, b), ended(second, c)) == (1, 1, 1)
    finally:
        for s in schedulers:
            if s.poll() is None:
                s.terminate()
                s.wait(timeout=10)
    # the views of the two APIs agree
    eventually(lambda: listing(first) == listing(second), "both APIs' views show the same zones")
    assert len(listing(first)) == 3


def start_scheduler(env: dict[str, str], tmp_path: Path, name: str) -> subprocess.Popen[bytes]:
    with (tmp_path / f"scheduler-{name}.log").open("w") as log:  # the child keeps its own descriptor
        return subprocess.Popen(
            [sys.executable, "-m", "zonecase", "scheduler", "--interval", "0.5"],
            env=env,
            cwd=tmp_path,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def ended(api: Api, zone_id: str) -> int:
    history = api.get(f"/zones/{zone_id}/history", INSPECTOR).json()
    return sum(1 for e in history if e["type"] == "NoticeEnded")


def listing(api: Api) -> list[tuple[str, str, int]]:
    return sorted((z["id"], z["status"], z["version"]) for z in api.get("/zones", INSPECTOR).json())


def eventually(check: Callable[[], bool], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"not within {timeout:g} s: {what}"
        time.sleep(0.2)
