"""The load bench's own parts (bench/load.py): its two clients read their own writes the way the service expects
(the cookie, or ``Zonecase-After``: read by the service's own ``ReadAfter``), and the CPU it reports is the named
process's, measured rather than assumed."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi import Request
from fastapi.responses import JSONResponse

from api.positions import READ_AFTER
from api.positions import ReadAfter
from api.positions import position_headers
from bench.load import Usage
from bench.load import cpu_seconds
from bench.load import postgres_cpu
from bench.load import reach
from bench.load import run_clients

from ..conftest import _postgres_or_skip

Seen = list[tuple[str, int, Any]]


def _echo_app(seen: Seen) -> Any:
    """Answers a command (PUT) with the next log position as zonecase does (header and cookie), and records the
    position each read asked to be answered after, as the service's ``ReadAfter`` understood it."""
    app = FastAPI()
    position = {"at": 0}

    @app.put("/command")
    async def command(request: Request) -> JSONResponse:
        position["at"] += 1
        seen.append(("PUT", 0, await request.json()))
        return JSONResponse({}, headers=position_headers(position["at"]))

    @app.get("/read")
    async def read(request: Request) -> JSONResponse:
        seen.append(("GET", READ_AFTER.get(), request.headers.get("x-who")))
        return JSONResponse({"ok": True})

    return ReadAfter(app)


@pytest.fixture
def echo() -> Iterator[tuple[str, Seen]]:
    seen: Seen = []
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(_echo_app(seen), log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the echo server did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}", seen
    server.should_exit = True
    thread.join(10)
    listener.close()


def pick(n: int, i: int) -> tuple[Any, ...]:  # one client: a command, then a read, in turn
    if i % 2 == 0:
        return "PUT", "/command", {"n": i}, {"X-Who": "expert"}, True
    return "GET", "/read", None, {"X-Who": "reader"}, False


@pytest.fixture
def busy() -> Iterator[int]:
    """A process spinning on a core: what the bench's ``server`` column must see when given its pid."""
    process = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        yield process.pid
    finally:
        process.kill()
        process.wait(10)


@pytest.mark.parametrize("light", [False, True], ids=["httpx", "light"])
def test_each_client_reads_after_its_own_write_and_meters_the_named_server(echo: Any, busy: int, light: bool) -> None:
    base, seen = echo
    rps, tally = asyncio.run(run_clients(base, 1, 0.6, pick, busy, warmup=0.1, light=light))
    assert rps > 0 and tally.reads and tally.commands and not tally.errors
    reads = [s for s in seen if s[0] == "GET"]
    assert reads and all(who == "reader" for _, _, who in reads)  # the request's own headers go out
    assert [body["n"] % 2 for m, _, body in seen if m == "PUT"] == [0] * (len(seen) - len(reads))  # bodies go out
    # every read asks for the position of the command just before it (httpx by the cookie, light by the header)
    assert [after for _, after, _ in reads] == list(range(1, len(reads) + 1))
    assert tally.usage.server > 0.3  # the spinning process, not this one
    assert tally.usage.client > 0  # this process: the clients and, here, the echo server


def test_cpu_seconds_grow_with_work_and_a_gone_process_counts_nothing() -> None:
    before = cpu_seconds(os.getpid())
    end = time.process_time() + 0.2
    while time.process_time() < end:
        pass
    assert cpu_seconds(os.getpid()) - before >= 0.15
    assert cpu_seconds(2**22 + 12345) == 0.0  # above the kernel's pid limit: no such process


@pytest.mark.postgres
def test_postgres_cpu_finds_the_backend_serving_a_connection() -> None:
    import psycopg

    with psycopg.connect(_postgres_or_skip()) as conn:
        backend = conn.execute("SELECT pg_backend_pid()").fetchone()[0]  # type: ignore[index]
        assert backend in {pid for pid, _ in postgres_cpu()}


def test_the_reach_of_a_mix_is_what_its_cpu_per_request_allows_on_every_core() -> None:
    # the 2026-12-01 run: zonecase's mix at 431 requests/s (server 0.88, PostgreSQL 0.22, load generator 0.37 of a
    # core), the floor's at 679 (0.63, 0.24, 0.48); the target 0.35 × 2,395 = 838 requests/s on 2 cores
    zonecase = reach(2, 431, Usage(server=0.88, postgres=0.22, client=0.37), 838)
    assert round(zonecase.ceiling) == 586  # 2 cores / 3.41 ms
    assert round(zonecase.server_spent_ms, 2) == 2.04
    assert round(zonecase.server_budget_ms, 2) == 1.02  # 2 / 838 s less 1.37 ms of load generator and PostgreSQL
    assert zonecase.short
    floor = reach(2, 679, Usage(server=0.63, postgres=0.24, client=0.48), 838)
    assert round(floor.ceiling) == 1006 and not floor.short  # 0.93 ms spent of 1.33 allowed
    away = reach(2, 431, Usage(server=0.88, postgres=None, client=0.37), 838)  # PostgreSQL on another machine
    assert away.server_budget_ms > zonecase.server_budget_ms
