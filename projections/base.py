"""What every view shares: a tracking recorder per view (the library's, with a tracking table of the
view's own), one transaction for rows and tracking, and a Projection that handles events in batches."""

from __future__ import annotations

import dataclasses
import json
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, cast
from uuid import UUID

from eventsourcing.domain import Snapshot
from eventsourcing.persistence import Mapper, StoredEvent, Tracking
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from eventsourcing.projection import Projection
from eventsourcing.sqlite import SQLiteDatastore, SQLiteRecorder, SQLiteTrackingRecorder
from psycopg.sql import SQL, Identifier

from domain.zone import Zone


@dataclass(frozen=True)
class ViewSpec:
    """A view's tables: name → column definitions (portable SQL), plus indexes."""

    name: str
    tables: dict[str, str]
    indexes: tuple[str, ...] = field(default=())


def dumps(value: Any) -> str:
    """JSON for a view column."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


class Tx:
    """A cursor inside a view transaction; SQL is written with ``%s`` parameters and ``{table}`` names."""

    def __init__(self, cursor: Any, recorder: ViewRecorder) -> None:
        self.cursor = cursor
        self.recorder = recorder

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        """Runs one statement."""
        self.cursor.execute(self.recorder.sql(sql), tuple(params))

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Runs one statement for many rows."""
        if rows:
            self.cursor.executemany(self.recorder.sql(sql), [tuple(r) for r in rows])

    def one(self, sql: str, params: Sequence[Any] = ()) -> dict[str, Any] | None:
        """The first row, as a dict."""
        self.execute(sql, params)
        row = self.cursor.fetchone()
        return None if row is None else dict(row)

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Every row, as dicts."""
        self.execute(sql, params)
        return [dict(r) for r in self.cursor.fetchall()]


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


class SQLiteView(SQLiteTrackingRecorder):
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

    @contextmanager
    def read(self) -> Iterator[Tx]:
        with self.datastore.transaction(commit=False) as c:
            yield Tx(c, self)

    def drop(self) -> None:
        with self.datastore.transaction(commit=True) as c:
            for table in [*self.spec.tables, self.tracking_table]:
                c.execute(f"DROP TABLE IF EXISTS {table}")
        self.create_table_statements = self.construct_create_table_statements()
        self._forget_tracking_table()

    def _forget_tracking_table(self) -> None:
        # the library remembers that its tracking table existed; after a drop it must create it anew
        self.tracking_table_exists = False
        self.tracking_migration_previous = None
        self.tracking_migration_current = None

    def dump(self) -> dict[str, list[tuple[Any, ...]]]:
        with self.read() as tx:
            return {
                t: sorted((tuple(r.values()) for r in tx.all(f"SELECT * FROM {{{t}}}")), key=repr)
                for t in self.spec.tables
            }


class PostgresView(PostgresTrackingRecorder):
    """A view in PostgreSQL, in the store's schema, with a tracking table named after it."""

    def __init__(self, datastore: PostgresDatastore, spec: ViewSpec) -> None:
        self.spec = spec
        super().__init__(datastore, tracking_table_name=f"{spec.name}_tracking")
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
            yield Tx(curs, self)
            if tracking is not None:
                self._insert_tracking(curs, tracking)

    @contextmanager
    def read(self) -> Iterator[Tx]:
        with self.datastore.transaction(commit=False) as curs:
            yield Tx(curs, self)

    def drop(self) -> None:
        with self.datastore.transaction(commit=True) as curs:
            for table in [*self.spec.tables, self.tracking_table_name]:
                curs.execute(
                    SQL("DROP TABLE IF EXISTS {}.{}").format(Identifier(self.datastore.schema), Identifier(table))
                )
        self.tracking_table_exists = False
        self.tracking_migration_previous = None
        self.tracking_migration_current = None

    def dump(self) -> dict[str, list[tuple[Any, ...]]]:
        with self.read() as tx:
            return {
                t: sorted((tuple(r.values()) for r in tx.all(f"SELECT * FROM {{{t}}}")), key=repr)
                for t in self.spec.tables
            }


class ViewProjection(Projection[Any]):
    """A read model: handlers per event, run in batches; every event advances tracking, handled or not."""

    spec: ClassVar[ViewSpec]
    application_name: ClassVar[str] = "ZoneCase"

    def __init__(self, view: Any, *, mapper: Mapper[UUID], context: dict[str, Any] | None = None) -> None:
        super().__init__(view)
        self.mapper = mapper
        self.context = context or {}

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        """One event, one transaction (the library's Projection interface)."""
        self.process_batch([domain_event], tracking)

    def process_batch(self, events: Sequence[Any], tracking: Tracking) -> None:
        """Many events in one transaction that also records the last one's position."""
        with self.view.write(tracking) as tx:
            self.begin(tx)
            for event in events:
                self.handle(event, tx)
            self.finish(tx)

    def begin(self, tx: Tx) -> None:
        """Called at the start of each batch."""

    def handle(self, event: Any, tx: Tx) -> None:
        """Applies one event; views override it (events they ignore still advance tracking)."""

    def finish(self, tx: Tx) -> None:
        """Called at the end of each batch, before the commit."""

    def reset(self) -> None:
        """Forgets anything cached in memory (after a failure or a rebuild)."""


class SnapshotProjection(ViewProjection):
    """A view that needs the zone's whole state: it keeps a snapshot per zone in its own table and
    applies each event to it with the aggregate's own ``apply`` (no second copy of the rules)."""

    snapshot_table: ClassVar[str]
    cache_size: ClassVar[int] = 2000

    def __init__(self, view: Any, *, mapper: Mapper[UUID], context: dict[str, Any] | None = None) -> None:
        super().__init__(view, mapper=mapper, context=context)
        self._cache: OrderedDict[str, Zone] = OrderedDict()
        self._dirty: dict[str, Zone] = {}
        self._snapshot_topic = f"{Snapshot.__module__}:{Snapshot.__qualname__}"

    def reset(self) -> None:
        self._cache.clear()
        self._dirty.clear()

    def begin(self, tx: Tx) -> None:
        self._dirty = {}

    def handle(self, event: Any, tx: Tx) -> None:
        if not isinstance(event, Zone.Event):
            return
        key = str(event.originator_id)
        current = self._dirty.get(key) or self._cache.get(key) or self._load(tx, key)
        if current is not None and current.version >= event.originator_version:
            return  # already applied (a replayed batch after a failure)
        self._dirty[key] = cast(Zone, event.mutate(current))

    def finish(self, tx: Tx) -> None:
        for key, zone in self._dirty.items():
            # dated by the zone's last event, not the clock, so that a rebuild writes the same bytes
            taken = dataclasses.replace(Snapshot.take(zone), timestamp=zone.modified_on)
            snapshot = self.mapper.to_stored_event(taken).state.decode("utf-8")
            tx.execute(
                f"INSERT INTO {{{self.snapshot_table}}} (zone_id, version, snapshot) VALUES (%s, %s, %s) "
                "ON CONFLICT (zone_id) DO UPDATE SET version = excluded.version, snapshot = excluded.snapshot",
                (key, zone.version, snapshot),
            )
            self.write_zone(tx, zone)
            self._cache[key] = zone
            self._cache.move_to_end(key)
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        self._dirty = {}

    def write_zone(self, tx: Tx, zone: Zone) -> None:
        """Writes the view's rows for a zone whose state changed in this batch."""

    def _load(self, tx: Tx, key: str) -> Zone | None:
        row = tx.one(f"SELECT version, snapshot FROM {{{self.snapshot_table}}} WHERE zone_id = %s", (key,))
        if row is None:
            return None
        stored = StoredEvent(
            originator_id=UUID(key),
            originator_version=int(row["version"]),
            topic=self._snapshot_topic,
            state=row["snapshot"].encode("utf-8"),
        )
        snapshot = self.mapper.to_domain_event(stored)
        return snapshot.mutate(None)  # type: ignore[attr-defined, no-any-return]
