"""What every view shares: a tracking recorder per view (the library's, with a tracking table of the
view's own), one transaction for rows and tracking, and a Projection that handles events in batches."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, cast
from uuid import UUID

import orjson
from eventsourcing.persistence import IntegrityError, Mapper, Tracking
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from eventsourcing.projection import Projection
from eventsourcing.sqlite import SQLiteDatastore, SQLiteRecorder, SQLiteTrackingRecorder
from psycopg.sql import SQL, Identifier

from domain.deadlines import Deadline
from domain.zone import Zone


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
        self.cursor.execute(self.recorder.sql(sql), tuple(params))

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Runs one statement for many rows."""
        if rows:
            self.cursor.executemany(self.recorder.sql(sql), [tuple(r) for r in rows])

    def insert_many(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """Appends rows to a table: ``COPY`` on PostgreSQL (many times faster than INSERTs), else INSERTs.
        Only for rows that cannot be there yet (the tracking row refuses a batch processed before)."""
        if not rows:
            return
        if self.copy:
            target = self.recorder.sql("{" + table + "}")
            with self.cursor.copy(f"COPY {target} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
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
        self.process_batch([domain_event], tracking, [tracking.notification_id])

    def process_batch(
        self,
        events: Sequence[Any],
        tracking: Tracking,
        positions: Sequence[int],
    ) -> None:
        """Many events (at these log positions) in one transaction that also records the last position."""
        with self.view.write(tracking) as tx:
            self.begin(tx)
            for event, position in zip(events, positions, strict=True):
                tx.position = position
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


class ZoneFolder:
    """Zones as of the events being projected, folded with the aggregate's own ``apply`` (no second copy
    of the rules) and shared by the views that need whole zones. Recent zones stay in memory; any other
    is rebuilt from its own earlier events — the log is append-only, so that answer never changes."""

    def __init__(self, events: Any, size: int = 2000) -> None:
        self.events = events
        self.size = size
        self._zones: dict[int, Zone] = {}  # by the id's integer (a UUID compares in Python, an int in C), oldest first
        self._last_event: Any = None
        self._last_zone: Zone | None = None

    def advance(self, event: Any) -> Zone:
        """The zone just after ``event`` (applying it once, however many views ask)."""
        if event is self._last_event:  # the views of one batch ask in turn about the same event
            return self._last_zone  # type: ignore[return-value]
        key, version = event.originator_id.int, event.originator_version
        zone = self._zones.pop(key, None)  # put back below: the most recent come last
        if zone is None or not version - 1 <= zone.version <= version:
            zone = self._load(event.originator_id, version - 1)
        if zone is None or zone.version == version - 1:
            zone = cast(Zone, event.mutate(zone))
        self._zones[key] = zone
        if len(self._zones) > self.size:
            del self._zones[next(iter(self._zones))]
        self._last_event, self._last_zone = event, zone
        return zone

    def reset(self) -> None:
        """Forgets every zone (after a failed batch or before a rebuild)."""
        self._zones.clear()
        self._last_event = self._last_zone = None

    def _load(self, zone_id: UUID, version: int) -> Zone | None:
        zone: Any = None
        if version >= 1:
            for event in self.events.get(zone_id, lte=version):
                zone = event.mutate(zone)
        return cast("Zone | None", zone)


class ZoneStateProjection(ViewProjection):
    """A view computed from whole zones: after each batch it rewrites the rows of every zone the batch
    touched, many rows per statement."""

    def __init__(self, view: Any, *, mapper: Mapper[UUID], context: dict[str, Any] | None = None) -> None:
        super().__init__(view, mapper=mapper, context=context)
        self.folder: ZoneFolder = self.context["folder"]
        self._dirty: dict[str, Zone] = {}

    def reset(self) -> None:
        self.folder.reset()
        self._dirty = {}

    def begin(self, tx: Tx) -> None:
        self._dirty = {}

    def handle(self, event: Any, tx: Tx) -> None:
        if isinstance(event, Zone.Event):
            self._dirty[str(event.originator_id)] = self.folder.advance(event)

    def finish(self, tx: Tx) -> None:
        if self._dirty:
            self.write_zones(tx, list(self._dirty.values()))
        self._dirty = {}

    def write_zones(self, tx: Tx, zones: list[Zone]) -> None:
        """Writes the view's rows for the zones this batch changed."""

    def deadlines_of(self, tx: Tx, zone: Zone) -> list[Deadline]:
        """``zone.deadlines(policy)``, computed once per batch for all the views that show them."""
        key = ("deadlines", zone.id, zone.version)
        if key not in tx.shared:
            tx.shared[key] = zone.deadlines(self.context["policy"])
        return cast(list[Deadline], tx.shared[key])


def process_together(
    projections: Sequence[ViewProjection],
    events: Iterable[Any],
    tracking: Tracking | None,
    positions: Sequence[int],
) -> None:
    """Several views of one database in one transaction: one commit for all their rows and tracking
    (``tracking`` None: rows only, for a rebuild that records tracking once at its end).

    The views computed from whole zones share one fold: each event is applied once, and each of those
    views then writes the rows of every zone the batch touched (the zone as of the batch's end)."""
    first = projections[0].view
    if any(p.view.datastore is not first.datastore for p in projections):
        raise ValueError("views of different databases cannot share a transaction")
    zone_views = [p for p in projections if isinstance(p, ZoneStateProjection)]
    event_views = [p for p in projections if not isinstance(p, ZoneStateProjection)]
    folders = {id(p.folder): p.folder for p in zone_views}
    if len(folders) > 1:
        raise ValueError("views computed from whole zones must share one fold")
    folder = next(iter(folders.values()), None)
    # A small batch (the usual one, just after a command) goes out in one pipeline: a round trip for all
    # its statements rather than one per statement. A large one (catching up, rebuilding) uses COPY.
    small = isinstance(first, PostgresView) and len(positions) <= SMALL_BATCH
    with first.write(None) as shared, shared.cursor.connection.pipeline() if small else nullcontext():
        txs = [Tx(shared.cursor, p.view, copy=not small) for p in event_views]
        for projection, tx in zip(event_views, txs, strict=True):
            projection.begin(tx)
        touched: dict[int, Zone] = {}
        for event, position in zip(events, positions, strict=True):
            if folder is not None and isinstance(event, Zone.Event):
                touched[event.originator_id.int] = folder.advance(event)
            for projection, tx in zip(event_views, txs, strict=True):
                tx.position = position
                projection.handle(event, tx)
        for projection, tx in zip(event_views, txs, strict=True):
            projection.finish(tx)
        if touched:
            zones = list(touched.values())
            computed: dict[Any, Any] = {}
            for projection in zone_views:
                tx = Tx(shared.cursor, projection.view, copy=not small)
                tx.shared = computed
                projection.write_zones(tx, zones)
        if tracking is None:
            pass
        elif isinstance(first, PostgresView):
            track_all_postgres(shared.cursor, [p.view for p in projections], tracking)
        else:
            for projection in projections:
                projection.view._insert_tracking(shared.cursor, tracking)


SMALL_BATCH = 64  # events; up to this many, a batch's statements are pipelined instead of copied


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
