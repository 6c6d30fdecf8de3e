"""An HTTP client per test, on SQLite and PostgreSQL, with a token per actor and a settable clock."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.auth import mint_token
from application.settings import Settings
from domain.values import Actor
from zonecase.wiring import create_app

from ..conftest import StoreFactory
from ..helpers import at

SECRET = "test-secret-for-zonecase-e2e-0123456789"


class Api:
    """Speaks HTTP as a given actor; ``None`` is the public (no token)."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.token_options: dict[str, Any] = {}  # more of mint_token's claims (issuer, audience)

    @property
    def app(self) -> Any:
        """The application behind the HTTP layer (for asserting on what was recorded)."""
        return self.client.app.state.container.app  # type: ignore[attr-defined]

    def position(self) -> int:
        """The last position of the event log."""
        return int(self.app.recorder.max_notification_id() or 0)

    def headers(self, actor: Actor | None, **extra: str) -> dict[str, str]:
        h = dict(extra)
        if actor is not None:
            token = mint_token(
                SECRET, sub=actor.sub, role=actor.role, org=actor.org, name=actor.name, hours=1, **self.token_options
            )
            h["Authorization"] = f"Bearer {token}"
        return h

    def request(self, method: str, path: str, actor: Actor | None, **kwargs: Any) -> Any:
        headers = self.headers(actor, **kwargs.pop("headers", {}))
        return self.client.request(method, path, headers=headers, **kwargs)

    def get(self, path: str, actor: Actor | None, **kwargs: Any) -> Any:
        return self.request("GET", path, actor, **kwargs)

    def post(self, path: str, actor: Actor | None, json: Any = None, **kwargs: Any) -> Any:
        return self.request("POST", path, actor, json=json, **kwargs)

    def put(self, path: str, actor: Actor | None, json: Any = None, **kwargs: Any) -> Any:
        return self.request("PUT", path, actor, json=json, **kwargs)

    def set_clock(self, day: str, hour: int = 10) -> None:
        from ..helpers import BUREAU

        r = self.put("/admin/clock", BUREAU, json={"now": at(day, hour).isoformat()})
        assert r.status_code == 200, r.text

    def sweep(self) -> list[dict[str, Any]]:
        from ..helpers import BUREAU

        r = self.post("/admin/deadlines/sweep", BUREAU)
        assert r.status_code == 200, r.text
        return list(r.json()["fired"])

    def upload(self, actor: Actor, name: str, content: bytes | None = None) -> dict[str, Any]:
        data = content if content is not None else b"%PDF-1.4 " + name.encode()
        r = self.request("POST", "/documents", actor, files={"file": (name, data, "application/pdf")})
        assert r.status_code == 201, r.text
        return dict(r.json())


def first_batch_application(api: Api, **extra: Any) -> dict[str, Any]:
    """The body of Songshan Lake's first-batch application, its creation plan uploaded."""
    from ..helpers import GOOD_STATISTICS
    from ..helpers import SONGSHAN

    plan = api.upload(SONGSHAN, "plan.pdf")
    return {
        "name": "松山湖",
        "area_type": "park",
        "sites": [{"name": "core"}],
        "batch": "2021-first",
        "materials": [{"kind": "creation_plan", "sha256": plan["sha256"], "name": "plan.pdf"}],
        "self_assessment": {"statistics": GOOD_STATISTICS},
        **extra,
    }


def apply_first_batch(api: Api, **extra: Any) -> str:
    """Songshan Lake applies in the first batch with its creation plan uploaded; returns the zone id."""
    from ..helpers import SONGSHAN

    r = api.post("/zones", SONGSHAN, json=first_batch_application(api, **extra))
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def admit(api: Api, zid: str, applicant: Actor | None = None) -> dict[str, Any]:
    """The applicant files its assessment application (评估申请) with an uploaded document and the bureau accepts
    it (受理); returns the zone, ``assessment_accepted``."""
    from ..helpers import ASSESSMENT_STATISTICS
    from ..helpers import BUREAU
    from ..helpers import SONGSHAN

    applicant = applicant or SONGSHAN
    document = api.upload(applicant, f"assessment-application-{zid}.pdf")
    body = {
        "summary": "创建目标已达成，申请评估。",
        "statistics": ASSESSMENT_STATISTICS,
        "documents": [{"sha256": document["sha256"], "name": document["name"]}],
    }
    r = api.post(f"/zones/{zid}/assessment-request", applicant, json=body)
    assert r.status_code == 200 and r.json()["status"] == "assessment_requested", r.text
    r = api.post(f"/zones/{zid}/assessment-request/decision", BUREAU, json={"outcome": "accepted", "reasons": "受理"})
    assert r.status_code == 200 and r.json()["status"] == "assessment_accepted", r.text
    return dict(r.json())


def to_assessing(api: Api, experts: list[dict[str, Any]] | None = None, **extra: Any) -> str:
    """Songshan Lake applies in the first batch, is accepted, its assessment application accepted, and the bureau
    appoints a panel (by default the three sample experts); returns the zone id (the zone is ``assessing``)."""
    from ..helpers import BUREAU
    from ..helpers import EXPERTS
    from ..helpers import GOOD_PLAN

    zid = apply_first_batch(api, **{"plan": GOOD_PLAN, **extra})
    r = api.post(f"/zones/{zid}/formal-review", BUREAU, json={"outcome": "accepted"})
    assert r.status_code == 200, r.text
    admit(api, zid)
    panel = {
        "experts": experts or [{"sub": e.sub, "name": e.name, "org": e.org} for e in EXPERTS],
        "methods": ["document_review", "site_visit"],
    }
    r = api.post(f"/zones/{zid}/assessment/panel", BUREAU, json=panel)
    assert r.status_code == 200, r.text
    return zid


def revocation_body(api: Api, reason: str = "fraud", **extra: Any) -> dict[str, Any]:
    """A revocation on §6.6's grounds with its evidence uploaded by the bureau and its circular."""
    from ..helpers import BUREAU
    from ..helpers import CIRCULAR

    evidence = api.upload(BUREAU, "statistics-audit.pdf")
    return {
        "reason": reason,
        "details": "The statistics bureau found the reported revenue falsified.",
        "evidence": [{"sha256": evidence["sha256"], "name": "statistics-audit.pdf"}],
        "circular": CIRCULAR,
        **extra,
    }


def recommend(api: Api, zone_id: str, reasons: str = "经公示无异议，提请授予。") -> Any:
    """The bureau recommends the grant (or the renewal) to the leading group (提请), its document uploaded first."""
    from ..helpers import BUREAU

    document = api.upload(BUREAU, "recommendation.pdf")
    body = {"document": {"sha256": document["sha256"], "name": "recommendation.pdf"}, "reasons": reasons}
    return api.post(f"/zones/{zone_id}/recommendation", BUREAU, json=body)


def recommended_and_granted(api: Api, zone_id: str, announcement_no: str = "东制造〔2021〕8号", **extra: Any) -> Any:
    """The bureau recommends and the leading group grants by announcement; the grant's response."""
    from ..helpers import LEADING

    r = recommend(api, zone_id)
    assert r.status_code == 200, r.text
    return api.post(f"/zones/{zone_id}/grant", LEADING, json={"announcement_no": announcement_no, **extra})


def granted_term(response: Any, **expected: Any) -> None:
    """The grant (or renewal) succeeded, and the zone's term reads as ``expected`` (number, granted_on …)."""
    assert response.status_code == 200, response.text
    term = response.json()["term"]
    assert {field: term[field] for field in expected} == expected, term


def make_api(url: str, tmp_path: Path, **overrides: Any) -> Iterator[Api]:
    settings = Settings(
        database_url=url,
        data_dir=tmp_path / "data",
        jwt_secret=SECRET,
        allow_time_travel=True,
        scheduler_interval=0,
        **{"rate_limits": False, **overrides},  # the abuse controls have tests of their own
    )  # deadlines are swept when a test says so (the scheduler has tests of its own)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        api = Api(client)
        api.set_clock("2021-07-15")
        yield api


def on_store(kind: str, tmp_path: Path, make: Callable[[str, Path], Iterator[Api]]) -> Iterator[Api]:
    """``make`` on a fresh store of ``kind``, dropped afterwards."""
    factory = StoreFactory(kind, tmp_path)
    try:
        yield from make(factory.new_url(), tmp_path)
    finally:
        factory.cleanup()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def api(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Api]:
    """The API on SQLite and on PostgreSQL."""
    yield from on_store(request.param, tmp_path, make_api)


def free_port() -> int:
    """A TCP port nothing listens on."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


PROCESSES: dict[str, Any] = {}  # base URL → the serving process (for tests that watch it, e.g. its memory)


@contextmanager
def served_process(env: dict[str, str], cwd: Path) -> Iterator[str]:
    """A real ``zonecase serve`` process with ``env``; yields its base URL once it is ready."""
    import subprocess
    import sys
    import time

    import httpx

    port = free_port()
    log = cwd / f"serve-{port}.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "zonecase", "serve", "--port", str(port)],
            env=env,
            cwd=cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    PROCESSES[base] = proc
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/ready", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "zonecase serve was not ready within 30 s:\n" + log.read_text()
            time.sleep(0.1)
        yield base
    finally:
        PROCESSES.pop(base, None)
        proc.terminate()
        proc.wait(timeout=10)


def clean_env(**settings: str) -> dict[str, str]:
    """The environment without any ZONECASE_ variable of the developer's, plus ``settings``."""
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("ZONECASE_")}
    env.update(settings)
    return env


def serve(url: str, tmp_path: Path) -> Iterator[Api]:
    """A real ``zonecase serve`` process on ``url``, spoken to over TCP."""
    import httpx

    env = clean_env(
        ZONECASE_DATABASE_URL=url,
        ZONECASE_DATA_DIR=str(tmp_path / "served"),
        ZONECASE_JWT_SECRET=SECRET,
        ZONECASE_ALLOW_TIME_TRAVEL="1",
        ZONECASE_SCHEDULER_INTERVAL="0",
        ZONECASE_RATE_LIMITS="off",
    )
    with served_process(env, tmp_path) as base, httpx.Client(base_url=base, timeout=30) as client:
        api = Api(client)  # type: ignore[arg-type]
        api.set_clock("2021-07-15")
        yield api


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def served_api(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Api]:
    """A real ``zonecase serve`` process on SQLite and on PostgreSQL."""
    yield from on_store(request.param, tmp_path, serve)


@pytest.fixture
def sqlite_api(tmp_path: Path) -> Iterator[Api]:
    """The API on SQLite only (for the long matrices)."""
    factory = StoreFactory("sqlite", tmp_path)
    yield from make_api(factory.new_url(), tmp_path)


def objections_of(api: Api, zone_id: str, actor: Actor | None) -> list[dict[str, Any]]:
    """The zone's objections as ``actor`` is shown them (the zone itself only counts them)."""
    r = api.get(f"/zones/{zone_id}/objections?limit=200", actor)
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


def refused(api: Api, response: Any, status: int, code: str) -> dict[str, Any]:
    """A problem with ``status`` and ``code`` (application/problem+json), with its detail."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = dict(response.json())
    assert body["code"] == code and body["status"] == status and body["detail"]
    return body
