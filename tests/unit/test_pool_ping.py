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
