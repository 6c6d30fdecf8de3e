"""``zonecase doctor``: one line per check, exit 0 on a good store, 1 naming what fails."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from application.settings import Settings
from audit.checkpoints import SigningKey
from projections import VIEWS
from zonecase.wiring import build

from .conftest import free_port

CHECKS = ("configuration", "store", "tables", "views", "signing key", "clock", "documents")


def doctor(env: dict[str, str]) -> tuple[int, dict[str, str]]:
    """The exit code and each check's line (by name)."""
    out = subprocess.run(
        [sys.executable, "-m", "zonecase", "doctor"],
        env={**{k: v for k, v in os.environ.items() if not k.startswith("ZONECASE_")}, "COLUMNS": "300", **env},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).parents[2],
    )
    lines = {}
    for line in out.stdout.splitlines():
        status, rest = line.split(None, 1)
        name = next((n for n in CHECKS if rest.startswith(n)), None)
        assert name is not None, out.stdout + out.stderr
        lines[name] = f"{status.strip()} {rest[len(name) :].strip()}"
    assert tuple(lines) == CHECKS, out.stdout + out.stderr
    return out.returncode, lines


@pytest.fixture
def good(tmp_path: Path) -> dict[str, str]:
    """A store that served once (its tables and views made), with its signing key."""
    key = tmp_path / "key.pem"
    SigningKey.generate().save(key)
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'z.sqlite'}", data_dir=tmp_path / "data")
    c = build(settings)
    c.app.import_calls()
    c.start_views()
    c.close()
    return {
        "ZONECASE_DATABASE_URL": settings.database_url,
        "ZONECASE_DATA_DIR": str(settings.data_dir),
        "ZONECASE_SIGNING_KEY": str(key),
    }


def test_a_good_store_passes_every_check(good: dict[str, str]) -> None:
    code, lines = doctor(good)
    assert code == 0 and all(line.startswith("ok") for line in lines.values()), lines
    assert lines["views"] == f"ok {len(VIEWS)} views at the log head (1)"  # the call's publication


def test_a_missing_signing_key_fails_naming_it(good: dict[str, str], tmp_path: Path) -> None:
    code, lines = doctor({**good, "ZONECASE_SIGNING_KEY": str(tmp_path / "nowhere.pem")})
    assert code == 1 and lines["signing key"].startswith("FAIL") and "nowhere.pem" in lines["signing key"]
    assert lines["store"].startswith("ok")


def test_an_unreachable_store_fails_naming_it(tmp_path: Path) -> None:
    url = f"postgresql://postgres@127.0.0.1:{free_port()}/zonecase"
    code, lines = doctor({"ZONECASE_DATABASE_URL": url, "ZONECASE_DATA_DIR": str(tmp_path / "data")})
    assert code == 1 and lines["store"].startswith("FAIL unreachable"), lines
    assert (
        lines["tables"].startswith("FAIL") and lines["views"].startswith("FAIL") and lines["clock"].startswith("FAIL")
    )


def test_a_store_without_its_tables_fails_naming_them(tmp_path: Path) -> None:
    sqlite3.connect(tmp_path / "empty.sqlite").execute("CREATE TABLE other (x)").connection.close()
    env = {"ZONECASE_DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite'}", "ZONECASE_DATA_DIR": str(tmp_path)}
    code, lines = doctor(env)
    assert code == 1 and lines["tables"].startswith("FAIL missing stored_events"), lines


def test_a_key_that_did_not_sign_the_checkpoints_fails(good: dict[str, str], tmp_path: Path) -> None:
    settings = Settings(database_url=good["ZONECASE_DATABASE_URL"], data_dir=Path(good["ZONECASE_DATA_DIR"]))
    c = build(settings)
    c.start_checkpoints(SigningKey.load(Path(good["ZONECASE_SIGNING_KEY"]))).sign("test")
    c.close()
    assert doctor(good)[0] == 0
    other = tmp_path / "other.pem"
    SigningKey.generate().save(other)
    code, lines = doctor({**good, "ZONECASE_SIGNING_KEY": str(other)})
    assert code == 1 and "the latest checkpoint was signed by" in lines["signing key"]
