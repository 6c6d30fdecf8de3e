"""Load on ``zonecase serve`` (PostgreSQL) beside a bare FastAPI endpoint in the same run, on loopback, bounded in
time (issue 12, finding 13). Prints the ratios last:

- mixed throughput (16 clients, 70 % reads / 30 % commands) vs the bare endpoint's (target ≥ 0.35×);
- public reads alone (``/notices``, ``/calls``, ``/board``, ``/checkpoints/latest``) vs bare (target ≥ 0.6×);
- a single command's p50 (one client, one at a time) vs the floor of ``bench/floor_app.py`` (target ≤ 1.5×);
- the serving process's RSS after 100 k events vs after 10 k (target ≤ 1.1×).

Each client is an ``httpx.AsyncClient`` keeping its cookies, so its reads wait for its own writes (the
``zonecase_position`` cookie). The bench creates a database of its own on the server of
``ZONECASE_BENCH_DATABASE_URL`` (``zonecase_bench_load_<random>``) and drops it at the end.

    .venv/bin/python -m bench.load [--seconds 10] [--clients 16] [--events 100000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from tempfile import mkdtemp
from typing import Any
from urllib.parse import urlsplit
from urllib.parse import urlunsplit

import httpcore
import httpx
import psycopg
from psycopg import sql

from api.auth import mint_token
from application.clock import SettableClock
from application.sample import BUREAU
from application.sample import EXPERTS
from application.sample import at
from application.sample import full_scores
from application.settings import Settings
from bench.command_path import REFILED
from bench.command_path import assessing_zones
from bench.common import BASE_URL
from zonecase.wiring import build

SECRET = "bench-secret-0123456789abcdef0123456789"
READS = 0.7
TIMEOUT = {"timeout": {"connect": 30.0, "read": 30.0, "write": 30.0, "pool": 30.0}}  # as the httpx clients'


@contextmanager
def own_database(prefix: str) -> Iterator[str]:
    """A URL on a new database of the bench server, dropped afterwards (never the tests' database)."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    parts = urlsplit(BASE_URL)
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield urlunsplit(parts._replace(path=f"/{name}", query=""))
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mb(pid: int) -> float:
    """The process's resident set (VmRSS), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def _stat(pid: int) -> list[str] | None:
    """The fields of ``/proc/PID/stat`` after the command's name (field 3 first), or None once it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def _cpu(fields: list[str]) -> float:
    """User and system CPU time (fields 14 and 15 of ``/proc/PID/stat``), in seconds."""
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far (all its threads), in seconds; 0 once it is gone."""
    fields = _stat(pid)
    return 0.0 if fields is None else _cpu(fields)


def postgres_cpu() -> dict[tuple[int, int], float]:
    """CPU seconds so far of each PostgreSQL process on this machine (the bench's server is on loopback), keyed by
    pid and start time (a pid reused meanwhile is another process); empty when the server runs elsewhere."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() != "postgres":
                continue
        except OSError:
            continue
        fields = _stat(int(entry.name))
        if fields is not None:
            found[(int(entry.name), int(fields[19]))] = _cpu(fields)
    return found


@dataclass
class Usage:
    """The CPU the parties of a run used, in cores (CPU seconds per second): the server's process (all its threads,
    kernel time included), PostgreSQL's processes (None: not on this machine) and this load generator."""

    server: float = 0.0
    postgres: float | None = 0.0
    client: float = 0.0

    @property
    def total(self) -> float:
        return self.server + (self.postgres or 0.0) + self.client


@dataclass(frozen=True)
class Snapshot:
    """The clock and the CPU seconds so far of the server, each PostgreSQL process and this process."""

    wall: float
    server: float
    postgres: dict[tuple[int, int], float]
    client: float

    @classmethod
    def take(cls, server_pid: int) -> Snapshot:
        return cls(time.monotonic(), cpu_seconds(server_pid), postgres_cpu(), time.process_time())

    def usage_since(self, earlier: Snapshot) -> Usage:
        """The CPU used between ``earlier`` and this one, per second. A PostgreSQL process that started meanwhile
        counts from zero; one that ended meanwhile is left out (what it used in between is lost: an undercount)."""
        elapsed = self.wall - earlier.wall
        pg = sum(t - earlier.postgres.get(k, 0.0) for k, t in self.postgres.items()) if self.postgres else None
        return Usage(
            (self.server - earlier.server) / elapsed,
            None if pg is None else pg / elapsed,
            (self.client - earlier.client) / elapsed,
        )


def wait_up(url: str, server: subprocess.Popen[bytes], path: str) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert server.poll() is None, "the server exited"
        try:
            if httpx.get(url + path, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not start")


def wait_views(url: str, timeout: float = 600) -> None:
    """Until the serving process's views have every event (``/ready``: no lag)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = httpx.get(url + "/ready", timeout=10).json()
        if all(v["lag"] == 0 for v in status["views"].values()):
            return
        time.sleep(0.5)
    raise TimeoutError("the views did not catch up")


def pad(app: Any, zones: list[Any], clock: SettableClock, target: int) -> None:
    """Appends re-filed score sheets until the log holds ``target`` events (saved 500 at a time)."""
    loaded = {z: app.get_zone(z) for z in zones}
    head = app.recorder.max_notification_id() or 0
    i = 0
    while head < target:
        batch = []
        for _ in range(min(500, target - head)):
            zone = loaded[zones[i % len(zones)]]
            zone.file_scores(
                actor=EXPERTS[i % 3],
                at=clock.now(),
                scores=full_scores(),
                comment="",
                system=app.system,
                reason=REFILED,
            )
            i += 1
            if zone not in batch:
                batch.append(zone)
        app.save(*batch)
        head = app.recorder.max_notification_id() or 0


@dataclass
class Tally:
    """What a run measured: latencies, errors by status, and the CPU each party used meanwhile."""

    reads: list[float] = field(default_factory=list)
    commands: list[float] = field(default_factory=list)
    errors: dict[int, int] = field(default_factory=dict)
    usage: Usage = field(default_factory=Usage)

    def count(self) -> int:
        return len(self.reads) + len(self.commands)


async def run_clients(
    base: str, clients: int, seconds: float, pick: Any, server_pid: int, warmup: float = 1.0, light: bool = False
) -> tuple[float, Tally]:
    """``clients`` concurrent clients, each sending ``pick(client, i)`` → (method, path, json, headers, is_command)
    one after another for ``seconds`` (after ``warmup``); returns requests/s and the latencies, and the CPU the
    server (``server_pid``), PostgreSQL and this process used in those seconds. Each client is an ``httpx``
    client, or with ``light`` a lighter one on ``httpcore`` (``--client light``)."""
    tally = Tally()
    start = time.monotonic() + warmup
    stop = start + seconds

    async def meter() -> None:
        await asyncio.sleep(max(0.0, start - time.monotonic()))
        first = Snapshot.take(server_pid)
        await asyncio.sleep(max(0.0, stop - time.monotonic()))
        tally.usage = Snapshot.take(server_pid).usage_since(first)

    def counted(now: float, took: float, status: int, command: bool) -> None:
        if now < start:
            return
        if status >= 400:
            tally.errors[status] = tally.errors.get(status, 0) + 1
        (tally.commands if command else tally.reads).append(took)

    async def client(n: int) -> None:  # keeps its cookies: its reads wait for its own writes
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            i = 0
            while (now := time.monotonic()) < stop:
                method, path, body, headers, command = pick(n, i)
                i += 1
                began = time.perf_counter()
                r = await http.request(method, path, json=body, headers=headers)
                counted(now, time.perf_counter() - began, r.status_code, command)

    async def light_client(n: int) -> None:
        """httpcore, the HTTP/1.1 engine under httpx, without httpx's cookie jar and models: it sends back the
        position a command answered as ``Zonecase-After``, the header form of read-your-writes."""
        host = [(b"Host", urlsplit(base).netloc.encode())]  # httpcore would add it too; said once, here
        position = 0
        async with httpcore.AsyncConnectionPool(max_connections=1) as pool:
            i = 0
            while (now := time.monotonic()) < stop:
                method, path, body, headers, command = pick(n, i)
                i += 1
                sent = host + [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
                content = None if body is None else json.dumps(body).encode()
                if content is not None:
                    sent.append((b"Content-Type", b"application/json"))  # httpcore adds Content-Length
                if position:
                    sent.append((b"Zonecase-After", b"%d" % position))
                began = time.perf_counter()
                r = await pool.request(method.encode(), base + path, headers=sent, content=content, extensions=TIMEOUT)
                counted(now, time.perf_counter() - began, r.status, command)
                for name, value in r.headers:
                    if name.lower() == b"zonecase-position":
                        position = max(position, int(value))

    each = light_client if light else client
    await asyncio.gather(meter(), *(each(n) for n in range(clients)))
    return tally.count() / seconds, tally


@dataclass(frozen=True)
class Reach:
    """What a run's CPU per request allows on a machine, for a target rate: the most it could serve with every core
    busy on it and the work spread perfectly over processes, and the server's CPU per request the target leaves
    once the load generator and PostgreSQL take their measured share per request (which no serving change removes)."""

    ceiling: float
    server_budget_ms: float
    server_spent_ms: float

    @property
    def short(self) -> bool:
        return self.server_spent_ms > self.server_budget_ms


def reach(cores: int, rps: float, usage: Usage, target: float) -> Reach:
    others = (usage.client + (usage.postgres or 0.0)) / rps  # CPU seconds per request besides the server's
    return Reach(cores / (usage.total / rps), (cores / target - others) * 1000, usage.server / rps * 1000)


def p50(samples: list[float]) -> float:
    return statistics.median(samples) * 1000 if samples else float("nan")


def single(targets: list[tuple[str, list[Any]]], tokens: dict[str, str], count: int) -> list[list[float]]:
    """One client, commands one at a time, to each ``(base URL, zones)`` in turn — ten at a time to one, then ten
    to the next — so that whatever else the machine does meanwhile weighs on each alike: the latencies of each
    (the first round over its zones not counted)."""
    times: list[list[float]] = [[] for _ in targets]
    clients = [httpx.Client(base_url=base, timeout=30) for base, _ in targets]
    try:
        for http, (_, zones) in zip(clients, targets, strict=True):
            for i in range(len(zones)):
                _file(http, zones[i], tokens, i)
        for start in range(0, count, 10):
            for k, (http, (_, zones)) in enumerate(zip(clients, targets, strict=True)):
                for i in range(start, min(start + 10, count)):
                    began = time.perf_counter()
                    _file(http, zones[i % len(zones)], tokens, i)
                    times[k].append(time.perf_counter() - began)
    finally:
        for http in clients:
            http.close()
    return times


def _file(http: httpx.Client, zone_id: Any, tokens: dict[str, str], i: int) -> None:
    expert = EXPERTS[i % 3]
    r = http.put(
        f"/zones/{zone_id}/assessment/scores",
        json={"scores": full_scores(), "reason": REFILED},
        headers={"Authorization": f"Bearer {tokens[expert.sub]}"},
    )
    assert r.status_code == 200, r.text


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--zones", type=int, default=48)
    parser.add_argument(
        "--client",
        choices=["httpx", "light"],
        default="httpx",
        help="the load generator's client: httpx (each keeps its cookies), or httpcore under it (lighter)",
    )
    args = parser.parse_args()
    light = args.client == "light"
    small = args.events // 10
    with own_database("zonecase_bench_load") as url:
        data = Path(mkdtemp())
        settings = Settings(database_url=url, data_dir=data, jwt_secret=SECRET, allow_time_travel=True)
        clock = SettableClock(at("2021-08-01"))
        seeder = build(settings, clock=clock, check_documents=False)
        zones = assessing_zones(seeder.app, args.zones)
        served_zones, floor_zones = zones[: args.zones * 3 // 4], zones[args.zones * 3 // 4 :]
        pad(seeder.app, zones, clock, small)
        env = {k: v for k, v in os.environ.items() if not k.startswith("ZONECASE_")}
        env.update(
            ZONECASE_DATABASE_URL=url,
            ZONECASE_JWT_SECRET=SECRET,
            ZONECASE_ALLOW_TIME_TRAVEL="1",
            ZONECASE_DATA_DIR=str(data),
            ZONECASE_RATE_LIMITS="off",  # one address sends everything here
            ZONECASE_SCHEDULER_INTERVAL="0",
        )
        port, bare_port, floor_port = free_port(), free_port(), free_port()
        base, bare = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{bare_port}"
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        server = subprocess.Popen([sys.executable, "-m", "zonecase", "serve", "--port", str(port)], env=env, **quiet)
        bare_server = subprocess.Popen(  # the same server and protocol as zonecase serve: uvicorn, h11
            [sys.executable, "-m", "uvicorn", "bench.bare_app:app", "--http", "h11", "--port", str(bare_port)],
            env=env,
            **quiet,
        )
        tokens = {e.sub: mint_token(SECRET, sub=e.sub, role="expert", org=e.org) for e in EXPERTS}
        bureau = {"Authorization": f"Bearer {mint_token(SECRET, sub=BUREAU.sub, role='bureau', org=BUREAU.org)}"}
        try:
            wait_up(base, server, "/health")
            wait_up(bare, bare_server, "/bare")
            httpx.put(base + "/admin/clock", json={"now": clock.now().isoformat()}, headers=bureau).raise_for_status()
            wait_views(base)

            def audit_work() -> None:  # what the checkpointer is asked for: a tree head and proofs
                httpx.post(base + "/checkpoints", headers=bureau, timeout=120).raise_for_status()
                for zid in served_zones[:5]:
                    httpx.get(base + "/audit/proofs/inclusion", params={"zone_id": str(zid), "seq": 3}, timeout=60)
                size = httpx.get(base + "/checkpoints/latest").json()["tree_size"]
                httpx.get(base + "/audit/proofs/consistency", params={"first": size // 3, "second": size}, timeout=60)

            audit_work()
            rss_small = rss_mb(server.pid)

            # one command at a time, zonecase and the floor in turn; then the floor's ceiling of the mixed load
            floor_base = f"http://127.0.0.1:{floor_port}"
            floor = subprocess.Popen(
                [sys.executable, "-m", "uvicorn", "bench.floor_app:create", "--factory", "--port", str(floor_port)],
                env={**env, "BENCH_NOW": clock.now().isoformat()},
                **quiet,
            )
            rng = random.Random(12)

            def floor_pick(n: int, i: int) -> tuple[Any, ...]:  # the mix below, at the least each request can cost
                if rng.random() >= READS:
                    auth = {"Authorization": f"Bearer {tokens[EXPERTS[i % 3].sub]}"}
                    body = {"scores": full_scores(), "reason": REFILED}
                    return "PUT", f"/zones/{floor_zones[n % len(floor_zones)]}/assessment/scores", body, auth, True
                return "GET", "/floor/read", None, None, False

            try:
                wait_up(floor_base, floor, "/docs")
                zonecase_single, floor_single = single(
                    [(base, served_zones[:8]), (floor_base, floor_zones)], tokens, 200
                )
                floor_mixed_rps, floor_mixed = asyncio.run(
                    run_clients(floor_base, args.clients, args.seconds, floor_pick, floor.pid, light=light)
                )
            finally:
                floor.terminate()
                floor.wait(10)

            # 16 clients: bare, mixed, public reads

            def bare_pick(n: int, i: int) -> tuple[Any, ...]:
                return "GET", "/bare", None, None, False

            public = ["/notices", "/calls", "/board", "/checkpoints/latest"]

            def public_pick(n: int, i: int) -> tuple[Any, ...]:
                return "GET", public[(n + i) % len(public)], None, None, False

            def mixed_pick(n: int, i: int) -> tuple[Any, ...]:
                zid = served_zones[n % len(served_zones)]  # each client its own zone: no conflicts between them
                if rng.random() >= READS:
                    expert = EXPERTS[i % 3]
                    body = {"scores": full_scores(), "reason": REFILED}
                    auth = {"Authorization": f"Bearer {tokens[expert.sub]}"}
                    return "PUT", f"/zones/{zid}/assessment/scores", body, auth, True
                if i % 2:
                    return "GET", f"/zones/{zid}", None, bureau, False  # its own writes: waits for its position
                return "GET", public[i % len(public)], None, None, False

            bare_rps, bare_tally = asyncio.run(
                run_clients(bare, args.clients, args.seconds, bare_pick, bare_server.pid, light=light)
            )
            mixed_rps, mixed = asyncio.run(
                run_clients(base, args.clients, args.seconds, mixed_pick, server.pid, light=light)
            )
            public_rps, public_tally = asyncio.run(
                run_clients(base, args.clients, args.seconds, public_pick, server.pid, light=light)
            )

            # the log grows to --events; the same audit work; the serving process's memory again
            pad(seeder.app, zones, clock, args.events)
            wait_views(base)
            audit_work()
            rss_large = rss_mb(server.pid)
        finally:
            for process in (server, bare_server):
                process.terminate()
                process.wait(10)
            seeder.close()

    print(f"bare FastAPI endpoint: {bare_rps:.0f} requests/s ({args.clients} clients)")
    print(
        f"zonecase mixed 70/30: {mixed_rps:.0f} requests/s, reads p50 {p50(mixed.reads):.1f} ms, "
        f"commands p50 {p50(mixed.commands):.1f} ms, errors {mixed.errors or 'none'}"
    )
    print(f"zonecase public reads: {public_rps:.0f} requests/s, p50 {p50(public_tally.reads):.1f} ms")
    print(f"single command p50: zonecase {p50(zonecase_single):.2f} ms, floor {p50(floor_single):.2f} ms")
    print(
        f"the floor's mixed 70/30 (bench/floor_app.py: its command, the bare read): {floor_mixed_rps:.0f} requests/s "
        f"= {floor_mixed_rps / bare_rps:.2f}× the bare endpoint — what the least command and read reach on this stack"
    )
    cores = os.cpu_count() or 1
    print(
        f"CPU while each ran, in cores of this machine's {cores} (load generator, PostgreSQL and servers share them):"
    )
    print(
        f"  {'run':<28}{'requests/s':>11}{'server':>8}{'PostgreSQL':>12}{'load gen.':>11}{'all':>7}{'per request':>13}"
    )
    runs = [
        ("bare endpoint", bare_rps, bare_tally),
        ("floor mixed 70/30", floor_mixed_rps, floor_mixed),
        ("zonecase mixed 70/30", mixed_rps, mixed),
        ("zonecase public reads", public_rps, public_tally),
    ]
    for label, rps, tally in runs:
        u = tally.usage
        pg = "n/a" if u.postgres is None else f"{u.postgres:.2f}"
        print(
            f"  {label:<28}{rps:>11.0f}{u.server:>8.2f}{pg:>12}{u.client:>11.2f}{u.total:>7.2f}"
            f"{u.total / rps * 1000:>10.2f} ms"
        )
    target = 0.35 * bare_rps
    print(
        f"the mixed target, 0.35× the bare endpoint = {target:.0f} requests/s; what each mix's CPU per request allows "
        f"on this machine's {cores} cores, every core busy on it and its work spread perfectly over processes:"
    )
    for label, rps, tally in runs[1:3]:
        r = reach(cores, rps, tally.usage, target)
        verdict = f"({1 - r.server_budget_ms / r.server_spent_ms:.0%} less needed)" if r.short else "(it fits)"
        print(
            f"  {label}: at most {r.ceiling:.0f} requests/s ({r.ceiling / bare_rps:.2f}×); at {target:.0f} its server "
            f"may spend {r.server_budget_ms:.2f} ms per request beside the load generator's and PostgreSQL's share, "
            f"it spends {r.server_spent_ms:.2f} ms {verdict}"
        )
    print(f"serving-process RSS: {rss_small:.0f} MB at {small} events, {rss_large:.0f} MB at {args.events}")
    print("ratios:")
    print(f"  mixed / bare            {mixed_rps / bare_rps:.2f}  (target ≥ 0.35)")
    print(f"  public reads / bare     {public_rps / bare_rps:.2f}  (target ≥ 0.6)")
    print(f"  single command / floor  {p50(zonecase_single) / p50(floor_single):.2f}  (target ≤ 1.5)")
    rss_label = f"RSS {args.events // 1000} k / {small // 1000} k"
    print(f"  {rss_label:<24}{rss_large / rss_small:.2f}  (target ≤ 1.1)")
    print(f"  (mixed / the floor's mixed  {mixed_rps / floor_mixed_rps:.2f}: how near zonecase comes to the floor)")


if __name__ == "__main__":
    main()
