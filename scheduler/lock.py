"""One active sweeper across processes: a PostgreSQL advisory lock held on a dedicated connection, or
an exclusive file lock beside an SQLite store. Whoever holds it sweeps; the others stand by and take
over when the holder dies (its connection or file descriptor goes with it)."""

from __future__ import annotations

import fcntl
import logging
import os
from pathlib import Path
from typing import Any
from typing import Protocol

log = logging.getLogger("zonecase.scheduler")

ADVISORY_KEY = 0x7A6F6E65  # "zone"


class LeaderLock(Protocol):
    """Held by at most one process at a time."""

    def acquire(self) -> bool:
        """True if this process holds the lock now (taking it if free)."""
        ...

    def release(self) -> None:
        """Lets another process take over."""
        ...


class PostgresLeaderLock:
    """``pg_try_advisory_lock`` on a connection of its own; checked alive before every sweep."""

    def __init__(self, env: dict[str, str], key: int = ADVISORY_KEY) -> None:
        self.env, self.key = env, key
        self.conn: Any = None

    def _connect(self) -> Any:
        from application.store import connect_postgres

        return connect_postgres(self.env)

    def acquire(self) -> bool:
        if self.conn is not None:
            try:  # still ours only while the connection lives
                self.conn.execute("SELECT 1")
                return True
            except Exception:
                log.warning("lost the scheduler lock's connection; standing by")
                self._drop()
        try:
            conn = self._connect()
            got = conn.execute("SELECT pg_try_advisory_lock(%s)", (self.key,)).fetchone()[0]
        except Exception:
            log.warning("cannot reach PostgreSQL for the scheduler lock")
            return False
        if got:
            self.conn = conn
            log.info("this process is now the deadline sweeper")
            return True
        conn.close()
        return False

    def release(self) -> None:
        if self.conn is not None:
            try:
                self.conn.execute("SELECT pg_advisory_unlock(%s)", (self.key,))
            except Exception:
                pass
            self._drop()

    def _drop(self) -> None:
        try:
            self.conn.close()
        except Exception:
            pass
        self.conn = None


class FileLeaderLock:
    """An exclusive, non-blocking ``flock`` on a file; the kernel releases it when the process dies."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd: int | None = None

    def acquire(self) -> bool:
        if self.fd is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self.fd = fd
        log.info("this process is now the deadline sweeper")
        return True

    def release(self) -> None:
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None


def leader_lock(env: dict[str, str], data_dir: Path) -> LeaderLock:
    """The lock for the configured store."""
    if env["PERSISTENCE_MODULE"] == "eventsourcing.postgres":
        return PostgresLeaderLock(env)
    name = env.get("SQLITE_DBNAME", "")
    path = Path(name + ".scheduler.lock") if name and "memory" not in name else data_dir / "scheduler.lock"
    return FileLeaderLock(path)
