"""Faults under load (issue 12), against ``zonecase serve`` on PostgreSQL, loopback only, bounded in time:

1. **kill -9 under load**: 8 clients re-file score sheets (each request with its own Idempotency-Key and a comment
   of its own); the server is killed with SIGKILL mid-burst and started again; every acknowledged command must be in
   the log, and each unanswered one, retried with its key, must be recorded at most once.
2. **PostgreSQL lost and back**: the server reaches PostgreSQL through a TCP relay, which is cut for 3 s (the shared
   server itself is never stopped) while clients read and command: no 500; 503 ``store_unavailable`` meanwhile;
   commands succeed again after the relay is back, with no service restart.

Two ``serve`` processes and two schedulers on one database recording no deadline twice is a test of the suite
(``tests/integration/test_stack.py``), run in CI.

    .venv/bin/python -m bench.faults [--seconds 6] [--clients 8] [--zones 16]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from tempfile import mkdtemp
from typing import Any
from urllib.parse import urlsplit
from urllib.parse import urlunsplit

import httpx

from api.auth import mint_token
from application.clock import SettableClock
from application.sample import BUREAU
from application.sample import EXPERTS
from application.sample import at
from application.sample import full_scores
from application.settings import Settings
from bench.command_path import assessing_zones
from bench.load import SECRET
from bench.load import free_port
from bench.load import own_database
from bench.load import wait_up
from bench.relay import Relay
from zonecase.wiring import build


def serve(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    quiet: dict[str, Any] = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    return subprocess.Popen([sys.executable, "-m", "zonecase", "serve", "--port", str(port)], env=env, **quiet)


def tokens() -> dict[str, dict[str, str]]:
    def bearer(sub: str, role: str, org: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {mint_token(SECRET, sub=sub, role=role, org=org, hours=1)}"}

    out = {e.sub: bearer(e.sub, "expert", e.org) for e in EXPERTS}
    out["bureau"] = bearer(BUREAU.sub, "bureau", BUREAU.org)
    return out


def refiling(zone_id: str, expert: str, auth: dict[str, dict[str, str]]) -> dict[str, Any]:
    comment = f"refiling {uuid.uuid4().hex}"
    return {
        "path": f"/zones/{zone_id}/assessment/scores",
        "json": {"scores": full_scores(), "comment": comment, "reason": "Re-filed under load."},
        "headers": {**auth[expert], "Idempotency-Key": uuid.uuid4().hex},
        "comment": comment,
    }


async def burst(base: str, work: list[list[dict[str, Any]]], stop: asyncio.Event) -> tuple[set[str], list[Any]]:
    """Each client sends its requests in turn until ``stop``; returns the comments acknowledged, and the requests
    that got no answer (to retry)."""
    acked: set[str] = set()
    unanswered: list[Any] = []

    async def client(requests: list[dict[str, Any]]) -> None:
        async with httpx.AsyncClient(base_url=base, timeout=10) as http:
            for req in requests:
                if stop.is_set():
                    return
                try:
                    r = await http.put(req["path"], json=req["json"], headers=req["headers"])
                except httpx.TransportError:
                    unanswered.append(req)
                    await asyncio.sleep(0.2)
                    continue
                if r.status_code == 200:
                    acked.add(req["comment"])
                elif r.status_code >= 500:
                    unanswered.append(req)

    await asyncio.gather(*(client(w) for w in work))
    return acked, unanswered


def comments_recorded(base: str, zone_ids: list[str], auth: dict[str, dict[str, str]]) -> Counter[str]:
    seen: Counter[str] = Counter()
    for zid in zone_ids:
        for e in httpx.get(f"{base}/zones/{zid}/history", headers=auth["bureau"], timeout=30).json():
            if e["type"] == "ScoresFiled":
                seen[e["data"].get("comment", "")] += 1
    return seen


def kill_nine(url: str, env: dict[str, str], zone_ids: list[str], seconds: float, clients: int) -> dict[str, Any]:
    auth, port = tokens(), free_port()
    base = f"http://127.0.0.1:{port}"
    work = [
        [refiling(zone_ids[(c + i) % len(zone_ids)], EXPERTS[i % 3].sub, auth) for i in range(400)]
        for c in range(clients)
    ]
    server = serve(env, port)
    wait_up(base, server, "/health")

    async def run() -> tuple[set[str], list[Any]]:
        stop = asyncio.Event()
        task = asyncio.create_task(burst(base, work, stop))
        await asyncio.sleep(seconds / 2)
        server.send_signal(signal.SIGKILL)  # mid-burst: no shutdown, no flush
        await asyncio.sleep(0.5)
        stop.set()
        return await task

    acked, unanswered = asyncio.run(run())
    server.wait(10)
    server = serve(env, port)
    try:
        wait_up(base, server, "/health")
        for req in unanswered:  # the client's retry, with the same key
            httpx.put(base + req["path"], json=req["json"], headers=req["headers"], timeout=30)
        seen = comments_recorded(base, zone_ids, auth)
    finally:
        server.terminate()
        server.wait(10)
    lost = [c for c in acked if seen[c] == 0]
    twice = [c for c, n in seen.items() if n > 1 and c.startswith("refiling")]
    return {"acknowledged": len(acked), "retried": len(unanswered), "lost": len(lost), "recorded twice": len(twice)}


def store_lost(url: str, env: dict[str, str], zone_ids: list[str]) -> dict[str, Any]:
    parts = urlsplit(url)
    relay = Relay((parts.hostname or "127.0.0.1", parts.port or 5432))
    relay.mend()
    netloc = f"{parts.username}@127.0.0.1:{relay.port}" if parts.username else f"127.0.0.1:{relay.port}"
    auth, port = tokens(), free_port()
    base = f"http://127.0.0.1:{port}"
    server = serve({**env, "ZONECASE_DATABASE_URL": urlunsplit(parts._replace(netloc=netloc))}, port)
    statuses: Counter[int] = Counter()
    slowest = 0.0
    try:
        wait_up(base, server, "/health")
        with httpx.Client(base_url=base, timeout=30) as http:

            def one(i: int) -> int:
                nonlocal slowest
                started = time.monotonic()
                if i % 3:
                    r = http.get(f"/zones/{zone_ids[i % len(zone_ids)]}", headers=auth["bureau"])
                else:
                    req = refiling(zone_ids[i % len(zone_ids)], EXPERTS[i % 3].sub, auth)
                    r = http.put(req["path"], json=req["json"], headers=req["headers"])
                slowest = max(slowest, time.monotonic() - started)
                statuses[r.status_code] += 1
                return r.status_code

            for i in range(30):
                one(i)
            relay.cut()
            cut_at = time.monotonic()
            while time.monotonic() - cut_at < 3:
                one(int(time.monotonic() * 1000))
            relay.mend()
            mended = time.monotonic()
            recovered = None
            while time.monotonic() - mended < 30:
                req = refiling(zone_ids[0], EXPERTS[0].sub, auth)
                if http.put(req["path"], json=req["json"], headers=req["headers"]).status_code == 200:
                    recovered = time.monotonic() - mended
                    break
                time.sleep(0.2)
    finally:
        server.terminate()
        server.wait(10)
        relay.cut()
    return {
        "answers": dict(sorted(statuses.items())),
        "500s": sum(n for s, n in statuses.items() if s >= 500 and s != 503),
        "slowest answer (s)": round(slowest, 2),
        "recovered after (s)": None if recovered is None else round(recovered, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=6)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--zones", type=int, default=16)
    args = parser.parse_args()
    with own_database("zonecase_bench_faults") as url:
        data = Path(mkdtemp())
        settings = Settings(database_url=url, data_dir=data, jwt_secret=SECRET, allow_time_travel=True)
        seeder = build(settings, clock=SettableClock(at("2021-08-01")), check_documents=False)
        zone_ids = [str(z) for z in assessing_zones(seeder.app, args.zones)]
        seeder.close()
        env = {k: v for k, v in os.environ.items() if not k.startswith("ZONECASE_")}
        env.update(
            ZONECASE_DATABASE_URL=url,
            ZONECASE_JWT_SECRET=SECRET,
            ZONECASE_DATA_DIR=str(data),
            ZONECASE_RATE_LIMITS="off",
            ZONECASE_SCHEDULER_INTERVAL="0",
        )
        killed = kill_nine(url, env, zone_ids, args.seconds, args.clients)
        lost = store_lost(url, env, zone_ids)
    print(f"kill -9 under {args.clients} clients: {killed}")
    print(f"PostgreSQL cut for 3 s behind a relay: {lost}")
    ok = killed["lost"] == 0 and killed["recorded twice"] == 0 and lost["500s"] == 0 and lost["recovered after (s)"]
    print("faults: " + ("all held" if ok else "NOT HELD"))


if __name__ == "__main__":
    main()
