"""The load bench's own parts (bench/load.py): its two clients send what the bench says they send — the light one
sends back the position a command answered, as a real client reading its own writes would — and the CPU it
reports is measured, not assumed."""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi import Request
from fastapi.responses import JSONResponse

from bench.load import cpu_seconds
from bench.load import run_clients


def _echo_app(seen: list[tuple[str, str | None, Any]]) -> FastAPI:
    """Answers a command (PUT) with the next log position, and records what each read was sent."""
    app = FastAPI()
    position = {"at": 0}

    @app.put("/command")
    async def command(request: Request) -> JSONResponse:
        position["at"] += 1
        seen.append(("PUT", None, await request.json()))
        return JSONResponse({}, headers={"Zonecase-Position": str(position["at"])})

    @app.get("/read")
    async def read(request: Request) -> JSONResponse:
        seen.append(("GET", request.headers.get("zonecase-after"), request.headers.get("x-who")))
        return JSONResponse({"ok": True})

    return app


@pytest.fixture
def echo() -> Iterator[tuple[str, list[tuple[str, str | None, Any]]]]:
    seen: list[tuple[str, str | None, Any]] = []
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(_echo_app(seen), port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the echo server did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}", seen
    server.should_exit = True
    thread.join(10)


def pick(n: int, i: int) -> tuple[Any, ...]:  # one client: a command, then a read, in turn
    if i % 2 == 0:
        return "PUT", "/command", {"n": i}, {"X-Who": "expert"}, True
    return "GET", "/read", None, {"X-Who": "reader"}, False


@pytest.mark.parametrize("light", [False, True], ids=["httpx", "light"])
def test_each_client_counts_what_it_sent_and_reads_after_its_own_write(echo: Any, light: bool) -> None:
    base, seen = echo
    rps, tally = asyncio.run(run_clients(base, 1, 0.5, pick, os.getpid(), warmup=0.1, light=light))
    assert rps > 0 and tally.reads and tally.commands and not tally.errors
    reads = [s for s in seen if s[0] == "GET"]
    assert reads and all(who == "reader" for _, _, who in reads)  # the request's own headers go out
    assert {body["n"] % 2 for m, _, body in seen if m == "PUT"} == {0}  # the JSON body goes out
    if light:  # every read names the position of the command just before it
        assert [after for _, after, _ in reads] == [str(k) for k in range(1, len(reads) + 1)]
    else:  # httpx keeps cookies, and this server sets none: nothing to send back
        assert all(after is None for _, after, _ in reads)
    assert tally.usage.server > 0 and tally.usage.client > 0  # the server runs in this process here


def test_cpu_seconds_grow_with_work_and_a_gone_process_counts_nothing() -> None:
    before = cpu_seconds(os.getpid())
    end = time.process_time() + 0.2
    while time.process_time() < end:
        pass
    assert cpu_seconds(os.getpid()) - before >= 0.15
    assert cpu_seconds(2**22 + 12345) == 0.0  # above the kernel's pid limit: no such process
