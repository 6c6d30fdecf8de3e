"""Commands over HTTP (each answered once its events are committed; the views catch up behind it), against a raw
``Application.save()`` of the same event in the same run (PostgreSQL). Target: median ≤ 2× raw. Prints the ratio
last.

Also times the floor, ``bench/floor_app.py``: the least a FastAPI endpoint on this stack does for the
command (token check, request model, the command on a zone already in memory, the save), served and
called the same way — what no implementation of the command path can go below on this machine.

    .venv/bin/python -m bench.command_path [--commands 300] [--zones 60]
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from tempfile import mkdtemp

import httpx

from api.auth import mint_token
from application.clock import SettableClock
from application.sample import ASSESSMENT_STATISTICS
from application.sample import BUREAU
from application.sample import EXPERTS
from application.sample import FULL_MATERIALS
from application.sample import at
from application.sample import doc
from application.sample import file_first_batch
from application.sample import full_scores
from application.settings import Settings
from bench.common import median_ms
from bench.common import open_call
from bench.common import p95_ms
from bench.common import private_schema
from bench.common import town
from domain.values import Actor
from zonecase.wiring import build

SECRET = "bench-secret-0123456789abcdef0123456789"

# v2: a re-filed sheet says why (the bench files the same experts' sheets again and again)
REFILED = "Re-filed by the benchmark."


def assessing_zones(app, count: int) -> list:  # type: ignore[no-untyped-def]
    ids = []
    call = open_call(app)
    for i in range(count):
        z = file_first_batch(app, town(i), f"zone {i}", "town", call, FULL_MATERIALS)
        app.formal_review(z.id, BUREAU, outcome="accepted")
        app.request_assessment(
            z.id, town(i), summary="targets reached", statistics=ASSESSMENT_STATISTICS, documents=[doc("a.pdf")]
        )
        app.decide_assessment_request(z.id, BUREAU, outcome="accepted")
        app.appoint_panel(
            z.id, BUREAU, experts=[{"sub": e.sub, "name": e.name} for e in EXPERTS], methods=["site_visit"]
        )
        ids.append(z.id)
    return ids


def _wait_until_up(client: httpx.Client, server: subprocess.Popen[bytes], path: str = "/ready") -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert server.poll() is None, "the server exited"
        try:
            if client.get(path).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise TimeoutError("zonecase serve did not start")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--commands", type=int, default=300)
    parser.add_argument("--zones", type=int, default=60)
    args = parser.parse_args()
    with private_schema("bench_cmd") as url:
        settings = Settings(database_url=url, data_dir=Path(mkdtemp()), jwt_secret=SECRET, allow_time_travel=True)
        clock = SettableClock(at("2021-08-01"))
        raw = build(settings, clock=clock, check_documents=False)  # no views, no listeners: the baseline
        served = build(settings, clock=clock, check_documents=False)
        zones = assessing_zones(raw.app, args.zones)
        half = args.zones // 2

        # raw: the aggregate is in memory already; time only the save of the same kind of event
        raw_times = []
        loaded = {zid: raw.app.get_zone(zid) for zid in zones[:half]}
        for i in range(args.commands):
            zone = loaded[zones[i % half]]
            expert: Actor = EXPERTS[i % 3]
            zone.file_scores(
                actor=expert, at=clock.now(), scores=full_scores(), comment="", system=raw.app.system, reason=REFILED
            )
            started = time.perf_counter()
            raw.app.save(zone)
            raw_times.append(time.perf_counter() - started)

        # over HTTP to a `zonecase serve` process: load, command, save, answer (the views follow behind)
        served.close()
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if not k.startswith("ZONECASE_")}
        env.update(
            ZONECASE_DATABASE_URL=url,
            ZONECASE_JWT_SECRET=SECRET,
            ZONECASE_ALLOW_TIME_TRAVEL="1",
            ZONECASE_DATA_DIR=str(settings.data_dir),
        )
        server = subprocess.Popen(
            [sys.executable, "-m", "zonecase", "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        tokens = {e.sub: mint_token(SECRET, sub=e.sub, role="expert", org=e.org) for e in EXPERTS}
        http_times = []
        bureau = mint_token(SECRET, sub=BUREAU.sub, role="bureau", org=BUREAU.org)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
            _wait_until_up(client, server)
            client.put(
                "/admin/clock", json={"now": clock.now().isoformat()}, headers={"Authorization": f"Bearer {bureau}"}
            ).raise_for_status()
            for _ in range(20):  # warm-up: connections, caches
                client.get("/health")
            for i in range(args.commands):
                zid, expert = zones[half + i % (args.zones - half)], EXPERTS[i % 3]
                started = time.perf_counter()
                r = client.put(
                    f"/zones/{zid}/assessment/scores",
                    json={"scores": full_scores(), "reason": REFILED},
                    headers={"Authorization": f"Bearer {tokens[expert.sub]}"},
                )
                http_times.append(time.perf_counter() - started)
                assert r.status_code == 200, r.text
        server.terminate()
        server.wait(timeout=10)

        # the floor: the least a FastAPI endpoint does for this command (bench/floor_app.py), same client
        floor = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "bench.floor_app:create", "--factory", "--port", str(port)],
            env={**env, "BENCH_NOW": clock.now().isoformat()},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        floor_times = []
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
            _wait_until_up(client, floor, "/docs")
            measured = zones[half:]
            for i in range(len(measured) + args.commands):
                zid, expert = measured[i % len(measured)], EXPERTS[i % 3]
                started = time.perf_counter()
                r = client.put(
                    f"/zones/{zid}/assessment/scores",
                    json={"scores": full_scores(), "reason": REFILED},
                    headers={"Authorization": f"Bearer {tokens[expert.sub]}"},
                )
                if i >= len(measured):  # the first round loads each zone into memory
                    floor_times.append(time.perf_counter() - started)
                assert r.status_code == 200, r.text
        floor.terminate()
        floor.wait(timeout=10)
        raw.close()

    print(
        f"raw Application.save(): median {median_ms(raw_times):.2f} ms, p95 {p95_ms(raw_times):.2f} ms "
        f"({len(raw_times)} saves)"
    )
    print(
        f"HTTP command: median {median_ms(http_times):.2f} ms, p95 {p95_ms(http_times):.2f} ms "
        f"({len(http_times)} commands)"
    )
    print(
        f"floor, a bare FastAPI endpoint saving a zone in memory: median {median_ms(floor_times):.2f} ms "
        f"= {median_ms(floor_times) / median_ms(raw_times):.2f}× raw"
    )
    print(f"ratio (HTTP median / raw median): {median_ms(http_times) / median_ms(raw_times):.2f} (target ≤ 2)")


if __name__ == "__main__":
    main()
