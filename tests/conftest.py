"""Fixtures: the same tests on the in-memory store, SQLite and PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from application.clock import SettableClock
from application.settings import Settings
from domain.conditions import load_batches
from domain.indicators import load_indicator_system
from zonecase.wiring import Container
from zonecase.wiring import build

from .helpers import at

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/zonecase_test"


def postgres_base_url() -> str:
    """The PostgreSQL test database; CI sets ZONECASE_REQUIRE_POSTGRES=1 so that it must answer."""
    return os.environ.get("ZONECASE_TEST_DATABASE_URL", DEFAULT_PG)


def _postgres_or_skip() -> str:
    import psycopg

    url = postgres_base_url()
    try:
        with psycopg.connect(url, connect_timeout=3):
            pass
    except psycopg.Error as e:
        message = f"PostgreSQL test database {url} is not reachable: {e}"
        if os.environ.get("ZONECASE_REQUIRE_POSTGRES") == "1":
            pytest.fail(message)
        pytest.skip(message + " (set ZONECASE_REQUIRE_POSTGRES=1 to make this a failure)")
    return url


def drop_schema(base_url: str, schema: str) -> None:
    """Removes a test's private schema."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(base_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


class StoreFactory:
    """Makes database URLs for one kind of store; each URL a fresh, empty store."""

    def __init__(self, kind: str, tmp_path: Path) -> None:
        self.kind = kind
        self.tmp_path = tmp_path
        self.schemas: list[str] = []
        self.base = _postgres_or_skip() if kind == "postgres" else ""

    def new_url(self) -> str:
        if self.kind == "memory":
            return "memory://"
        if self.kind == "sqlite":
            return f"sqlite:///{self.tmp_path / f'store-{uuid.uuid4().hex[:8]}.sqlite'}"
        schema = f"t_{uuid.uuid4().hex[:12]}"
        self.schemas.append(schema)
        return f"{self.base}?schema={schema}"

    def cleanup(self) -> None:
        for schema in self.schemas:
            drop_schema(self.base, schema)


STORE_KINDS = [
    "memory",
    "sqlite",
    pytest.param("postgres", marks=pytest.mark.postgres),
]
PERSISTENT_KINDS = [
    "sqlite",
    pytest.param("postgres", marks=pytest.mark.postgres),
]


@pytest.fixture(params=STORE_KINDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
    """Every kind of store (in-memory, SQLite, PostgreSQL)."""
    factory = StoreFactory(request.param, tmp_path)
    yield factory
    factory.cleanup()


@pytest.fixture(params=PERSISTENT_KINDS)
def persistent_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
    """The stores that keep bytes on disk (SQLite, PostgreSQL)."""
    factory = StoreFactory(request.param, tmp_path)
    yield factory
    factory.cleanup()


def make_container(url: str, tmp_path: Path, start: str = "2021-07-15") -> Container:
    """A container on ``url`` with a settable clock starting at ``start`` (Asia/Shanghai, 10:00), started as
    the service starts: the calls of the calls file imported (on a store that has them, nothing happens)."""
    settings = Settings(database_url=url, data_dir=tmp_path / "data")
    c = build(settings, clock=SettableClock(at(start)), check_documents=False)
    c.app.import_calls()
    return c


@pytest.fixture
def container(store: StoreFactory, tmp_path: Path) -> Iterator[Container]:
    """A running application on each kind of store."""
    c = make_container(store.new_url(), tmp_path)
    yield c
    c.close()


@pytest.fixture(scope="session")
def system():  # type: ignore[no-untyped-def]
    """The 2021 indicator system."""
    return load_indicator_system()


@pytest.fixture(scope="session")
def batches():  # type: ignore[no-untyped-def]
    """The shipped calls for applications (the 2021 first batch)."""
    return load_batches()
