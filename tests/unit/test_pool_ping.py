"""A pooled connection is pinged before use only once it has been idle for ``PING_IDLE_SECONDS``
(application.outage.ping_idle narrows the library's ``POSTGRES_PRE_PING``): one in use a moment ago costs no
round trip; one idle long enough, or given back after an error, is checked first."""

from __future__ import annotations

import time
import weakref
from typing import Any

from application import outage


class Connection:
    """What the pool hands out (weakly referenced by the bookkeeping)."""


class Pool:
    def __init__(self) -> None:
        self.checked: list[Any] = []
        self._check = self.checked.append  # psycopg_pool keeps its check here (ConnectionPool.check_connection)


def test_only_connections_idle_long_enough_are_pinged(monkeypatch: Any) -> None:
    pool, returned = Pool(), weakref.WeakKeyDictionary[Any, float]()
    outage.ping_idle(pool, returned)
    fresh, idle, never = Connection(), Connection(), Connection()
    returned[fresh] = time.monotonic()
    returned[idle] = time.monotonic() - outage.PING_IDLE_SECONDS - 0.1
    for conn in (fresh, idle, never):
        pool._check(conn)
    assert pool.checked == [idle, never]


def test_without_pre_ping_nothing_is_checked() -> None:
    pool = Pool()
    pool._check = None  # type: ignore[assignment]
    outage.ping_idle(pool, weakref.WeakKeyDictionary())
    assert pool._check is None


class Datastore:
    """What ``fail_fast`` wraps: a pool and a way to get a connection (here one that cannot be had)."""

    def __init__(self) -> None:
        self.pool = Pool()

    def get_connection(self) -> Any:
        from contextlib import contextmanager

        from eventsourcing.persistence import OperationalError

        @contextmanager
        def failing() -> Any:
            raise OperationalError("connection refused")
            yield  # pragma: no cover

        return failing()


def test_a_lost_store_tells_its_listeners_and_has_every_connection_pinged_again() -> None:
    """After a connection could not be had (a restart, a failover, a restore), what the process keeps of the store
    is dropped (``ZoneCore.forget_loaded`` listens) and no pooled connection is used unpinged."""
    import pytest
    from eventsourcing.persistence import OperationalError

    datastore = Datastore()
    outage.fail_fast(datastore)
    told: list[str] = []
    outage.on_lost(datastore, lambda: told.append("lost"))
    kept = Connection()
    pool = datastore.pool
    with pytest.raises(OperationalError):
        with datastore.get_connection():
            pass
    assert told == ["lost"]
    pool._check(kept)  # never given back since: pinged
    assert pool.checked == [kept]
