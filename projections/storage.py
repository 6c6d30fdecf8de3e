"""The views' storage on SQLite or PostgreSQL: tables, a tracking table per view, one transaction for both."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from collections.abc import Sequence
from contextlib import AbstractContextManager
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from typing import Protocol

import orjson
from eventsourcing.persistence import IntegrityError
from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresDatastore
from eventsourcing.postgres import PostgresTrackingRecorder
from eventsourcing.sqlite import SQLiteDatastore
from eventsourcing.sqlite import SQLiteRecorder
from eventsourcing.sqlite import SQLiteTrackingRecorder
from psycopg.sql import SQL
from psycopg.sql import Identifier

from application.outage import fail_fast

log = logging.getLogger("zonecase.projections")


@dataclass(frozen=True)
class ViewSpec:
    """A view's tables: name → column definitions (portable SQL), plus indexes."""

    name: str
    tables: dict[str, str]
    indexes: tuple[str, ...] = field(default=())

    @property
    def fingerprint(self) -> str:
        """Changes whenever the tables change: a view built with other tables is rebuilt."""
        import hashlib

        return hashlib.sha256(json.dumps([self.tables, self.indexes], sort_keys=True).encode()).hexdigest()[:16]


_ORJSON_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def dumps(value: Any) -> str:
    """JSON for a view column (compact, UTF-8; what JSON cannot hold is written as its ``str``)."""
    try:
        return orjson.dumps(value, default=str, option=_ORJSON_OPTIONS).decode("utf-8")
    except (TypeError, orjson.JSONEncodeError):  # e.g. an integer beyond 64 bits
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


class Tx:
    """A cursor inside a view transaction; SQL is written with ``%s`` parameters and ``{table}`` names."""

    def __init__(self, cursor: Any, recorder: ViewRecorder, *, copy: bool = True) -> None:
        self.cursor = cursor
        self.recorder = recorder
        self.copy = copy and hasattr(cursor, "copy")  # PostgreSQL's COPY (not in a pipeline)
        self.position = 0  # the log position of the event being handled
        self.shared: dict[Any, Any] = {}  # what the views of one batch compute once for all of them

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        """Runs one statement."""
        self.cursor.execute(self.recorder.sql(sql), self.storable(params))

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Runs one statement for many rows."""
        if rows:
            self.cursor.executemany(self.recorder.sql(sql), [self.storable(r) for r in rows])

    def storable(self, values: Sequence[Any]) -> tuple[Any, ...]:
        """``values`` as the database can hold them: one event never stops a view. Text with a NUL (which
        PostgreSQL's text cannot hold) or a lone surrogate (which no UTF-8 can) — written past the rules at the
        door, or recorded before them — has each such character replaced by U+FFFD in the view, logged; the
        event keeps what was sent."""
        out = tuple(values)
        if not any(isinstance(v, str) and _unstorable(v) for v in out):
            return out
        log.warning(
            "view %s: text at log position %s holds a character the view cannot store; stored with U+FFFD",
            self.recorder.spec.name,
            self.position,
        )
        return tuple(UNSTORABLE.sub("\ufffd", v) if isinstance(v, str) else v for v in out)

    def insert_many(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """Appends rows to a table: ``COPY`` on PostgreSQL (many times faster than INSERTs), else INSERTs.
        Only for rows that cannot be there yet (the tracking row refuses a batch processed before)."""
        if not rows:
            return
        if self.copy:
            target = self.recorder.sql("{" + table + "}")
            with self.cursor.copy(f"COPY {target} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(self.storable(row))
            return
        marks = ", ".join(["%s"] * len(columns))
        self.executemany(f"INSERT INTO {{{table}}} ({', '.join(columns)}) VALUES ({marks})", rows)

    def replace_rows(
        self, table: str, key: str, keys: Sequence[Any], columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        """Replaces every row whose ``key`` column is one of ``keys`` by ``rows``: on PostgreSQL one
        ``DELETE … = ANY`` and one ``COPY`` (pipelined INSERTs in a small batch); elsewhere a statement
        per row."""
        if not keys:
            return
        if isinstance(self.recorder, PostgresView):
            self.execute(f"DELETE FROM {{{table}}} WHERE {key} = ANY(%s)", (list(keys),))
        else:
            self.executemany(f"DELETE FROM {{{table}}} WHERE {key} = %s", [(k,) for k in keys])
        self.insert_many(table, columns, rows)

    def one(self, sql: str, params: Sequence[Any] = ()) -> dict[str, Any] | None:
        """The first row, as a dict."""
        self.execute(sql, params)
        row = self.cursor.fetchone()
        return None if row is None else dict(row)

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Every row, as dicts."""
        self.execute(sql, params)
        return [dict(r) for r in self.cursor.fetchall()]


UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _unstorable(text: str) -> bool:
    return "\x00" in text if text.isascii() else UNSTORABLE.search(text) is not None


def where(*conditions: tuple[str, Any]) -> tuple[str, list[Any]]:
    """A ``WHERE`` clause of the conditions given a value (``("status = %s", value)``), with its parameters;
    a condition whose value is empty or None is left out."""
    given = [(sql, value) for sql, value in conditions if value]
    clause = (" WHERE " + " AND ".join(sql for sql, _ in given)) if given else ""
    return clause, [value for _, value in given]


class ViewRecorder(Protocol):
    """A tracking recorder that also holds a view's tables."""

    spec: ViewSpec

    def sql(self, statement: str) -> str:
        """The statement in this database's dialect, with table names resolved."""
        ...

    def write(self, tracking: Tracking | None) -> AbstractContextManager[Tx]:
        """A transaction that records ``tracking`` with the rows (exactly once)."""
        ...

    def read(self) -> AbstractContextManager[Tx]:
        """A read-only transaction."""
        ...

    def max_tracking_id(self, application_name: str) -> int | None:
        """The last position of the application's log this view has processed."""
        ...

    def drop(self) -> None:
        """Drops the view's tables and its tracking (for a rebuild)."""
        ...

    def dump(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every row of every table of the view, sorted (to compare two builds)."""
        ...

    def create_table(self) -> None:
        """Creates the tables when missing."""
        ...


class _ViewTables:
    """What both dialects' views do alike: read, dump, forget their tracking table after a drop."""

    spec: ViewSpec
    datastore: Any
    env: dict[str, str]  # how the views' database was opened (another process opens it the same way)

    @contextmanager
    def read(self) -> Iterator[Tx]:
        """A read-only transaction."""
        with self.datastore.transaction(commit=False) as c:
            yield Tx(c, self)  # type: ignore[arg-type]

    def dump(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every row of every table of the view, sorted (to compare two builds)."""
        with self.read() as tx:
            return {
                t: sorted((tuple(r.values()) for r in tx.all(f"SELECT * FROM {{{t}}}")), key=repr)
                for t in self.spec.tables
            }

    def _forget_tracking_table(self) -> None:
        # the library remembers that its tracking table existed; after a drop it must create it anew
        self.tracking_table_exists = False
        self.tracking_migration_previous: int | None = None
        self.tracking_migration_current: int | None = None


class SQLiteView(_ViewTables, SQLiteTrackingRecorder):
    """A view in SQLite, with a tracking table named after it (the library's is shared, ``tracking``)."""

    def __init__(self, datastore: SQLiteDatastore, spec: ViewSpec) -> None:
        self.spec = spec
        self.tracking_table = f"{spec.name}_tracking"
        super().__init__(datastore)
        self.insert_tracking_statement = (
            f"INSERT INTO {self.tracking_table} VALUES (:application_name, :notification_id) "
            "ON CONFLICT (application_name) DO UPDATE SET notification_id = :notification_id "
            f"WHERE {self.tracking_table}.notification_id < :notification_id RETURNING notification_id"
        )
        self.select_max_tracking_id_statement = (
            f"SELECT MAX(notification_id) FROM {self.tracking_table} WHERE application_name=?"
        )

    def construct_create_table_statements(self) -> list[str]:
        statements = SQLiteRecorder.construct_create_table_statements(self)
        statements.append(
            f"CREATE TABLE IF NOT EXISTS {self.spec.name}_tracking (application_name TEXT, "
            "notification_id INTEGER, PRIMARY KEY (application_name)) WITHOUT ROWID"
        )
        for table, columns in self.spec.tables.items():
            statements.append(f"CREATE TABLE IF NOT EXISTS {table} ({columns})")
        statements.extend(self.sql(index) for index in self.spec.indexes)
        return statements

    def sql(self, statement: str) -> str:
        return statement.format(**{t: t for t in self.spec.tables}).replace("%s", "?")

    @contextmanager
    def write(self, tracking: Tracking | None) -> Iterator[Tx]:
        with self.datastore.transaction(commit=True) as c:
            yield Tx(c, self)
            if tracking is not None:
                self._insert_tracking(c, tracking)

    def drop(self) -> None:
        with self.datastore.transaction(commit=True) as c:
            for table in [*self.spec.tables, self.tracking_table]:
                c.execute(f"DROP TABLE IF EXISTS {table}")
        self.create_table_statements = self.construct_create_table_statements()
        self._forget_tracking_table()


class PostgresView(_ViewTables, PostgresTrackingRecorder):
    """A view in PostgreSQL, in the store's schema, with a tracking table named after it."""

    def __init__(self, datastore: PostgresDatastore, spec: ViewSpec) -> None:
        self.spec = spec
        super().__init__(datastore, tracking_table_name=f"{spec.name}_tracking")
        fail_fast(datastore)  # a request's read answers 503 at once when PostgreSQL is down
        for table, columns in spec.tables.items():
            self.sql_create_statements.append(
                SQL(f"CREATE TABLE IF NOT EXISTS {{}}.{{}} ({columns})").format(
                    Identifier(self.datastore.schema), Identifier(table)
                )
            )
        for index in spec.indexes:
            self.sql_create_statements.append(SQL(self.sql(index)))  # type: ignore[arg-type]

    def sql(self, statement: str) -> str:
        schema = self.datastore.schema
        return statement.format(**{t: f'"{schema}"."{t}"' for t in self.spec.tables})

    @contextmanager
    def write(self, tracking: Tracking | None) -> Iterator[Tx]:
        with self.datastore.transaction(commit=True) as curs:
            # A view can be rebuilt from the log and its tracking commits with its rows, so a crash may
            # lose the last commits of a view, never make it inconsistent: no need to wait for the disk.
            curs.execute("SET LOCAL synchronous_commit TO OFF" + self._compression(curs))
            yield Tx(curs, self)
            if tracking is not None:
                self._insert_tracking(curs, tracking)

    _lz4: bool | None = None

    def _compression(self, curs: Any) -> str:
        # Large documents are compressed with LZ4 where the server has it: several times faster than
        # PostgreSQL's default (pglz), which matters when a rebuild writes thousands of zone documents.
        if self._lz4 is None:
            curs.execute(
                "SELECT 'lz4' = ANY(enumvals) AS lz4 FROM pg_settings WHERE name = 'default_toast_compression'"
            )
            row = curs.fetchone()
            self._lz4 = bool(row and row["lz4"])
        return "; SET LOCAL default_toast_compression TO lz4" if self._lz4 else ""

    def drop(self) -> None:
        with self.datastore.transaction(commit=True) as curs:
            for table in [*self.spec.tables, self.tracking_table_name]:
                curs.execute(
                    SQL("DROP TABLE IF EXISTS {}.{}").format(Identifier(self.datastore.schema), Identifier(table))
                )
        self._forget_tracking_table()


def track_all_postgres(cursor: Any, views: Sequence[PostgresView], tracking: Tracking) -> None:
    """Every view's tracking row, sent together and checked together (one round trip, not one per view).

    The same statement as the library's: it updates only to a higher position, so a position recorded
    before returns no row and the whole transaction is refused (exactly once)."""
    params = {"application_name": tracking.application_name, "notification_id": tracking.notification_id}
    cursors = []
    for view in views:
        c = cursor.connection.cursor()
        c.execute(view.insert_tracking_statement, params)
        cursors.append((view, c))
    for view, c in cursors:
        if c.fetchone() is None:
            raise IntegrityError(
                f"Failed to record tracking for {tracking.application_name} {tracking.notification_id} "
                f"in {view.tracking_table_name}"
            )


def ensure_current_schema(recorder: Any) -> None:
    """Creates the view's tables; if they were made from another definition, drops them first (the
    view is then rebuilt from the log by the runner, as its tracking starts again from zero)."""
    spec = recorder.spec
    with recorder.datastore.transaction(commit=True) as c:
        c.execute(f"CREATE TABLE IF NOT EXISTS {_meta_table(recorder)} (view TEXT PRIMARY KEY, fingerprint TEXT)")
        c.execute(f"SELECT fingerprint FROM {_meta_table(recorder)} WHERE view = " + _param(recorder), (spec.name,))
        row = c.fetchone()
    stored = None if row is None else (row["fingerprint"] if isinstance(row, dict) else row[0])
    if stored != spec.fingerprint:  # also tables made before fingerprints were kept
        if stored == REBUILDING:
            log.warning("view %s was left half rebuilt: dropping it to rebuild from the log", spec.name)
        elif stored is not None:
            log.warning("view %s was built from other tables: dropping it to rebuild from the log", spec.name)
        recorder.drop()
    recorder.create_table()
    if stored != spec.fingerprint:  # written only when it changes: opening views writes nothing
        set_fingerprint(recorder, spec.fingerprint)


REBUILDING = "rebuilding"  # the fingerprint of a view while a rebuild in several processes fills it


def set_fingerprint(recorder: Any, fingerprint: str) -> None:
    with recorder.datastore.transaction(commit=True) as c:
        p = _param(recorder)
        c.execute(f"CREATE TABLE IF NOT EXISTS {_meta_table(recorder)} (view TEXT PRIMARY KEY, fingerprint TEXT)")
        c.execute(  # an upsert: two processes may open the same views at once
            f"INSERT INTO {_meta_table(recorder)} (view, fingerprint) VALUES ({p}, {p}) "
            "ON CONFLICT (view) DO UPDATE SET fingerprint = excluded.fingerprint",
            (recorder.spec.name, fingerprint),
        )


def _meta_table(recorder: Any) -> str:
    schema = getattr(recorder.datastore, "schema", None)
    return f'"{schema}".view_meta' if isinstance(recorder, PostgresView) and schema else "view_meta"


def _param(recorder: Any) -> str:
    return "%s" if isinstance(recorder, PostgresView) else "?"
