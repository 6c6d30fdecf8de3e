"""The edges of a served process (issue 12): configuration it does not understand refused at start, and
request headers bounded — 431, with memory flat after an attack of oversize requests."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from application.settings import Settings
from application.settings import SettingsError

from .conftest import PROCESSES
from .conftest import clean_env
from .conftest import served_process
from .test_cli import run

# --- 2. configuration ------------------------------------------------------------------------------------


@pytest.mark.parametrize("env", ["prod", "Production", "staging", ""])
def test_an_unknown_environment_is_refused(env: str) -> None:
    with pytest.raises(SettingsError, match="development or production"):
        Settings.from_env({"ZONECASE_ENV": env})


def test_production_refuses_time_travel_and_a_short_secret() -> None:
    good = {"ZONECASE_ENV": "production", "ZONECASE_JWT_SECRET": "s" * 32, "ZONECASE_SIGNING_KEY": "/k.pem"}
    assert Settings.from_env(good).env == "production"
    with pytest.raises(SettingsError, match="ZONECASE_ALLOW_TIME_TRAVEL"):
        Settings.from_env({**good, "ZONECASE_ALLOW_TIME_TRAVEL": "1"})
    with pytest.raises(SettingsError, match="32 bytes"):
        Settings.from_env({**good, "ZONECASE_JWT_SECRET": "x"})
    assert Settings.from_env({"ZONECASE_ALLOW_TIME_TRAVEL": "1", "ZONECASE_JWT_SECRET": "x"}).allow_time_travel


def test_serve_in_production_with_time_travel_does_not_start(tmp_path: Path) -> None:
    env = clean_env(
        ZONECASE_DATA_DIR=str(tmp_path / "data"),
        ZONECASE_ENV="production",
        ZONECASE_JWT_SECRET="s" * 40,
        ZONECASE_ALLOW_TIME_TRAVEL="1",
    )
    out = run(["serve", "--port", "1"], env, tmp_path)
    assert out.returncode == 2
    assert "ZONECASE_ALLOW_TIME_TRAVEL" in out.stdout + out.stderr
    out = run(["serve", "--port", "1"], {**env, "ZONECASE_ENV": "prod"}, tmp_path)
    assert out.returncode == 2 and "development or production" in out.stdout + out.stderr


# --- 5. request headers ------------------------------------------------------------------------------------


def raw_request(base: str, header_bytes: int) -> int | None:
    """Sends ``GET /health`` with one header of ``header_bytes``; the status answered (None: cut off)."""
    host, port = base.removeprefix("http://").split(":")
    head = b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * header_bytes + b"\r\n\r\n"
    with socket.create_connection((host, int(port)), timeout=10) as s:
        try:
            s.sendall(head)
            answer = s.recv(4096)
        except (BrokenPipeError, ConnectionResetError):
            return None
    return int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else None


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_oversize_headers_are_431_and_memory_stays_flat(tmp_path: Path) -> None:
    env = clean_env(ZONECASE_DATA_DIR=str(tmp_path / "data"), ZONECASE_SCHEDULER_INTERVAL="0")
    with served_process(env, tmp_path) as base:
        assert raw_request(base, 8 * 1024) == 200
        assert raw_request(base, 20 * 1024) == 431
        pid = PROCESSES[base].pid
        raw_request(base, 1 << 20)  # the first one may grow the buffers once
        before = rss_kib(pid)
        answers = [raw_request(base, 1 << 20) for _ in range(100)]
        after = rss_kib(pid)
        assert set(answers) <= {431, None} and answers.count(431) >= 1, answers
        assert after - before < 8 * 1024, (before, after)
        assert raw_request(base, 100) == 200
