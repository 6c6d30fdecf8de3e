"""Failing fast when PostgreSQL is down: a request answers 503 ``store_unavailable`` within the pool's short wait
instead of riding out the library's ten retries; the background threads (views, scheduler) keep retrying."""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import ExitStack
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from eventsourcing.persistence import InterfaceError
from eventsourcing.persistence import OperationalError

# Set for the duration of an HTTP request (the thread pool copies it into the route's thread); the views' and the
# scheduler's threads do not have it, and keep the library's retries.
FAIL_FAST: ContextVar[bool] = ContextVar("zonecase_fail_fast", default=False)
# After a connection could not be had, requests do not try again for this long (the server is given time to come
# back; a request meanwhile is answered at once).
BREAKER_SECONDS = 1.0
RETRY_AFTER_SECONDS = 2
# A pooled connection idle for longer than this is pinged before it is handed out (``POSTGRES_PRE_PING``): after an
# outage no broken one is used. One in use a moment ago is not pinged again: a round trip saved on every statement.
PING_IDLE_SECONDS = 1.0
# While a process starts (its tables created, the views' positions read), the pool waits this long for a connection
# rather than the request's second: a store slow for a moment at start (a restart, a disk busy syncing) is waited
# for, not a reason to fail the start.
STARTUP_WAIT_SECONDS = 15.0


@contextmanager
def patient(*datastores: Any, seconds: float = STARTUP_WAIT_SECONDS) -> Iterator[None]:
    """For the start of a process: the pools of ``datastores`` wait up to ``seconds`` for a connection, then again
    their own short wait (``POSTGRES_CONNECT_TIMEOUT``, what a request waits). Nothing for a store without a pool."""
    pools: list[tuple[Any, float]] = []
    for datastore in datastores:
        pool: Any = getattr(datastore, "pool", None)
        fast = getattr(pool, "timeout", None)
        if isinstance(fast, int | float) and all(pool is not p for p, _ in pools):
            pools.append((pool, fast))
    for pool, fast in pools:
        pool.timeout = max(float(fast), seconds)
    try:
        yield
    finally:
        for pool, fast in pools:
            pool.timeout = fast


class StoreUnavailableError(Exception):
    """The event store cannot be reached; nothing was recorded by this request."""

    code = "store_unavailable"


def fail_fast(datastore: Any) -> None:
    """Wraps ``datastore.get_connection`` (an eventsourcing PostgreSQL datastore; once) so that, in a request, a
    connection that cannot be had raises ``StoreUnavailableError`` — which the library's retry does not catch."""
    if getattr(datastore, "_zonecase_fail_fast", False):
        return
    original = datastore.get_connection
    lock = threading.Lock()
    down_until = [0.0]
    returned: weakref.WeakKeyDictionary[Any, float] = weakref.WeakKeyDictionary()  # connection → when last given back
    ping_idle(datastore.pool, returned)
    lost: list[Callable[[], None]] = []  # told when the store was lost (see ``on_lost``)
    datastore._zonecase_on_lost = lost

    def store_lost() -> None:
        with lock:
            down_until[0] = time.monotonic() + BREAKER_SECONDS
        returned.clear()  # every pooled connection is pinged before its next use
        for listener in list(lost):
            listener()

    @contextmanager
    def get_connection() -> Iterator[Any]:
        fast = FAIL_FAST.get()
        if fast and time.monotonic() < down_until[0]:
            raise StoreUnavailableError("The event store does not answer; try again shortly.")
        with ExitStack() as stack:
            try:
                conn = stack.enter_context(original())
            except (OperationalError, InterfaceError) as e:
                store_lost()
                if fast:
                    raise StoreUnavailableError(f"The event store does not answer ({e}).") from e
                raise
            try:
                yield conn
                returned[conn] = time.monotonic()  # given back in a moment, working (after an error: pinged next time)
            except Exception as e:
                if not getattr(conn, "broken", False):  # an error of the statement, not of the connection
                    raise
                store_lost()
                if fast:
                    raise StoreUnavailableError(f"The connection to the event store was lost ({e}).") from e
                raise

    datastore.get_connection = get_connection
    datastore._zonecase_fail_fast = True


def on_lost(datastore: Any, listener: Callable[[], None]) -> None:
    """Calls ``listener`` whenever a connection to the store could not be had or broke (a restart, a failover, a
    restore): what a process keeps of the store's contents may no longer be what the store holds."""
    listeners = getattr(datastore, "_zonecase_on_lost", None)
    if listeners is not None:
        listeners.append(listener)


def ping_idle(pool: Any, returned: weakref.WeakKeyDictionary[Any, float]) -> None:
    """Narrows the pool's check before each use (the library's ``POSTGRES_PRE_PING``: psycopg_pool's
    ``check_connection``, one round trip) to connections idle for ``PING_IDLE_SECONDS`` or more."""
    check = getattr(pool, "_check", None)
    if check is None:  # pre-ping is off
        return

    def check_idle(conn: Any) -> None:
        if time.monotonic() - returned.get(conn, 0.0) >= PING_IDLE_SECONDS:
            check(conn)

    pool._check = check_idle
