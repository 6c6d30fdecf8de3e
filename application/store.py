"""The event store's recorders, extended: idempotency keys written in the same transaction as the
events they produced, and the metadata of uploaded documents."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import asdict
from dataclasses import dataclass
from typing import Any
from typing import Protocol

from eventsourcing.persistence import IntegrityError
from eventsourcing.persistence import Notification
from eventsourcing.persistence import StoredEvent
from eventsourcing.popo import POPOApplicationRecorder
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder
from eventsourcing.sqlite import SQLiteCursor
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.rows import tuple_row
from psycopg.sql import SQL
from psycopg.sql import Identifier

from application.objector_tables import Erasure
from application.objector_tables import MemoryObjectorTables
from application.objector_tables import PostgresObjectorTables
from application.objector_tables import SQLiteObjectorTables
from application.objector_tables import StoredObjector
from application.outage import fail_fast


@dataclass(frozen=True)
class IdempotencyRecord:
    """The first response to a request sent with an ``Idempotency-Key``."""

    principal: str
    key: str
    request_hash: str
    status: int
    body: str


@dataclass(frozen=True)
class DocumentMeta:
    """An uploaded document: its bytes live in the document store, addressed by ``sha256``."""

    sha256: str
    size: int
    media_type: str
    name: str
    uploaded_by: str
    uploaded_at: str


@dataclass(frozen=True)
class Checkpoint:
    """A signed tree head: the log's first ``tree_size`` events have Merkle root ``root_hash``."""

    tree_size: int
    root_hash: str
    issued_at: str
    key_id: str
    signature: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        """As served and exported."""
        return asdict(self)


class SideTables(Protocol):
    """What the API keeps beside the events (same database, never in a view)."""

    def get_idempotency(self, principal: str, key: str) -> IdempotencyRecord | None:
        """The stored first response for this principal's key, if any."""
        ...

    def put_document(self, meta: DocumentMeta, org: str) -> None:
        """Records a document's metadata (once) and that ``org`` may read it."""
        ...

    def get_document(self, sha256: str) -> tuple[DocumentMeta, set[str]] | None:
        """The document's metadata and the organisations that uploaded it."""
        ...

    def put_checkpoint(self, checkpoint: Checkpoint) -> None:
        """Keeps a signed tree head (one per tree size; a second for the same size is ignored)."""
        ...

    def get_checkpoints(self, *, since: int = 0, limit: int = 1000) -> list[Checkpoint]:
        """Signed tree heads by tree size, from ``since`` up."""
        ...

    def latest_checkpoint(self) -> Checkpoint | None:
        """The largest signed tree head."""
        ...

    def get_objectors(self, refs: Sequence[str]) -> dict[str, StoredObjector]:
        """Objectors' sealed identities and keys, or their erasures (``application.objector_tables``)."""
        ...

    def erase_objector(self, erasure: Erasure) -> bool:
        """Deletes an objector's identity and key and records the erasure; False if erased already."""
        ...

    def unerased_objectors(self) -> list[tuple[str, str, str]]:
        """``(ref, zone_id, objection_id)`` of every objector's identity still held."""
        ...


class SQLiteRecorder(SQLiteObjectorTables, SQLiteApplicationRecorder):
    """SQLite: events, idempotency keys and document metadata in one file."""

    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            "CREATE TABLE IF NOT EXISTS idempotency (principal TEXT, key TEXT, request_hash TEXT, "
            "status INTEGER, body TEXT, PRIMARY KEY (principal, key))",
            "CREATE TABLE IF NOT EXISTS documents (sha256 TEXT PRIMARY KEY, size INTEGER, media_type TEXT, "
            "name TEXT, uploaded_by TEXT, uploaded_at TEXT)",
            "CREATE TABLE IF NOT EXISTS document_orgs (sha256 TEXT, org TEXT, PRIMARY KEY (sha256, org))",
            "CREATE TABLE IF NOT EXISTS checkpoints (tree_size INTEGER PRIMARY KEY, root_hash TEXT, issued_at TEXT, "
            "key_id TEXT, signature TEXT, reason TEXT)",
        ]

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        returning = super()._insert_events(c, stored_events, **kwargs)
        record: IdempotencyRecord | None = kwargs.get("idempotency")
        if record is not None:
            c.execute(
                "INSERT INTO idempotency VALUES (?, ?, ?, ?, ?)",
                (record.principal, record.key, record.request_hash, record.status, record.body),
            )
        return returning

    def get_idempotency(self, principal: str, key: str) -> IdempotencyRecord | None:
        with self.datastore.transaction(commit=False) as c:
            c.execute("SELECT * FROM idempotency WHERE principal = ? AND key = ?", (principal, key))
            row = c.fetchone()
        return None if row is None else IdempotencyRecord(*tuple(row))

    def put_document(self, meta: DocumentMeta, org: str) -> None:
        with self.datastore.transaction(commit=True) as c:
            c.execute(
                "INSERT INTO documents VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (sha256) DO NOTHING",
                (meta.sha256, meta.size, meta.media_type, meta.name, meta.uploaded_by, meta.uploaded_at),
            )
            if org:
                c.execute("INSERT INTO document_orgs VALUES (?, ?) ON CONFLICT DO NOTHING", (meta.sha256, org))

    def get_document(self, sha256: str) -> tuple[DocumentMeta, set[str]] | None:
        with self.datastore.transaction(commit=False) as c:
            c.execute("SELECT * FROM documents WHERE sha256 = ?", (sha256,))
            row = c.fetchone()
            if row is None:
                return None
            c.execute("SELECT org FROM document_orgs WHERE sha256 = ?", (sha256,))
            orgs = {r[0] for r in c.fetchall()}
        return DocumentMeta(*tuple(row)), orgs

    def put_checkpoint(self, checkpoint: Checkpoint) -> None:
        c = checkpoint
        with self.datastore.transaction(commit=True) as cur:
            cur.execute(
                "INSERT INTO checkpoints VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (tree_size) DO NOTHING",
                (c.tree_size, c.root_hash, c.issued_at, c.key_id, c.signature, c.reason),
            )

    def get_checkpoints(self, *, since: int = 0, limit: int = 1000) -> list[Checkpoint]:
        with self.datastore.transaction(commit=False) as cur:
            cur.execute("SELECT * FROM checkpoints WHERE tree_size >= ? ORDER BY tree_size LIMIT ?", (since, limit))
            return [Checkpoint(*tuple(r)) for r in cur.fetchall()]

    def latest_checkpoint(self) -> Checkpoint | None:
        with self.datastore.transaction(commit=False) as cur:
            cur.execute("SELECT * FROM checkpoints ORDER BY tree_size DESC LIMIT 1")
            row = cur.fetchone()
        return None if row is None else Checkpoint(*tuple(row))


class PostgresRecorder(PostgresObjectorTables, PostgresApplicationRecorder):
    """PostgreSQL: events, idempotency keys and document metadata in one schema."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fail_fast(self.datastore)
        schema = Identifier(self.datastore.schema)
        self.idempotency_table = SQL("{}.{}").format(schema, Identifier(f"{self.events_table_name}_idempotency"))
        self.documents_table = SQL("{}.{}").format(schema, Identifier(f"{self.events_table_name}_documents"))
        self.document_orgs_table = SQL("{}.{}").format(schema, Identifier(f"{self.events_table_name}_document_orgs"))
        self.checkpoints_table = SQL("{}.{}").format(schema, Identifier(f"{self.events_table_name}_checkpoints"))
        self.sql_create_statements += [
            SQL(
                "CREATE TABLE IF NOT EXISTS {} (principal text, key text, request_hash text, status int, "
                "body text, PRIMARY KEY (principal, key))"
            ).format(self.idempotency_table),
            SQL(
                "CREATE TABLE IF NOT EXISTS {} (sha256 text PRIMARY KEY, size bigint, media_type text, "
                "name text, uploaded_by text, uploaded_at text)"
            ).format(self.documents_table),
            SQL("CREATE TABLE IF NOT EXISTS {} (sha256 text, org text, PRIMARY KEY (sha256, org))").format(
                self.document_orgs_table
            ),
            SQL(
                "CREATE TABLE IF NOT EXISTS {} (tree_size bigint PRIMARY KEY, root_hash text, issued_at text, "
                "key_id text, signature text, reason text)"
            ).format(self.checkpoints_table),
        ]

    def _insert_events(self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any) -> None:
        super()._insert_events(curs, stored_events, **kwargs)
        record: IdempotencyRecord | None = kwargs.get("idempotency")
        if record is not None:
            curs.execute(
                SQL("INSERT INTO {} VALUES (%s, %s, %s, %s, %s)").format(self.idempotency_table),
                (record.principal, record.key, record.request_hash, record.status, record.body),
            )

    def select_partition(self, after: int, upto: int, part: int, parts: int) -> list[Notification]:
        """The events at log positions in ``(after, upto]`` of the aggregates in partition ``part`` of
        ``parts`` (by a hash of the aggregate's id: every event of an aggregate is in the same partition),
        in log order. For rebuilding views in several processes at once."""
        bucket = (  # the last byte of a UUID (uniformly random) is cheaper to read than a hash of its text
            "get_byte(uuid_send(originator_id), 15)"
            if self.datastore.originator_id_type == "uuid"
            else "(hashtext(originator_id) & 2147483647)"
        )
        statement = SQL(
            "SELECT notification_id, originator_id, originator_version, topic, state FROM {}.{} "
            f"WHERE notification_id > %s AND notification_id <= %s AND {bucket} %% %s = %s ORDER BY notification_id"
        ).format(Identifier(self.datastore.schema), Identifier(self.events_table_name))
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as curs:
            curs.execute(statement, (after, upto, parts, part), prepare=True)
            return [
                Notification(id=i, originator_id=o, originator_version=v, topic=t, state=bytes(s))
                for i, o, v, t, s in curs.fetchall()
            ]

    def get_idempotency(self, principal: str, key: str) -> IdempotencyRecord | None:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                SQL(
                    "SELECT principal, key, request_hash, status, body FROM {} WHERE principal = %s AND key = %s"
                ).format(self.idempotency_table),
                (principal, key),
            )
            row = curs.fetchone()
        return None if row is None else IdempotencyRecord(**row)

    def put_document(self, meta: DocumentMeta, org: str) -> None:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(
                SQL("INSERT INTO {} VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (sha256) DO NOTHING").format(
                    self.documents_table
                ),
                (meta.sha256, meta.size, meta.media_type, meta.name, meta.uploaded_by, meta.uploaded_at),
            )
            if org:
                curs.execute(
                    SQL("INSERT INTO {} VALUES (%s, %s) ON CONFLICT DO NOTHING").format(self.document_orgs_table),
                    (meta.sha256, org),
                )

    def get_document(self, sha256: str) -> tuple[DocumentMeta, set[str]] | None:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                SQL("SELECT sha256, size, media_type, name, uploaded_by, uploaded_at FROM {} WHERE sha256 = %s").format(
                    self.documents_table
                ),
                (sha256,),
            )
            row = curs.fetchone()
            if row is None:
                return None
            curs.execute(SQL("SELECT org FROM {} WHERE sha256 = %s").format(self.document_orgs_table), (sha256,))
            orgs = {r["org"] for r in curs.fetchall()}
        return DocumentMeta(**row), orgs

    def put_checkpoint(self, checkpoint: Checkpoint) -> None:
        c = checkpoint
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(
                SQL("INSERT INTO {} VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (tree_size) DO NOTHING").format(
                    self.checkpoints_table
                ),
                (c.tree_size, c.root_hash, c.issued_at, c.key_id, c.signature, c.reason),
            )

    def get_checkpoints(self, *, since: int = 0, limit: int = 1000) -> list[Checkpoint]:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                SQL(
                    "SELECT tree_size, root_hash, issued_at, key_id, signature, reason FROM {} "
                    "WHERE tree_size >= %s ORDER BY tree_size LIMIT %s"
                ).format(self.checkpoints_table),
                (since, limit),
            )
            return [Checkpoint(**r) for r in curs.fetchall()]

    def latest_checkpoint(self) -> Checkpoint | None:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                SQL(
                    "SELECT tree_size, root_hash, issued_at, key_id, signature, reason FROM {} "
                    "ORDER BY tree_size DESC LIMIT 1"
                ).format(self.checkpoints_table)
            )
            row = curs.fetchone()
        return None if row is None else Checkpoint(**row)


class MemoryRecorder(MemoryObjectorTables, POPOApplicationRecorder):
    """In memory (tests): the same side tables as dictionaries, under the recorder's lock."""

    def __init__(self) -> None:
        super().__init__()
        self._side_lock = threading.Lock()
        self._idempotency: dict[tuple[str, str], IdempotencyRecord] = {}
        self._documents: dict[str, DocumentMeta] = {}
        self._document_orgs: dict[str, set[str]] = {}
        self._checkpoints: dict[int, Checkpoint] = {}

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        record: IdempotencyRecord | None = kwargs.get("idempotency")
        with self._side_lock:
            if record is not None and (record.principal, record.key) in self._idempotency:
                raise IntegrityError("idempotency key already used")
            ids = super().insert_events(stored_events, **kwargs)
            if record is not None:
                self._idempotency[(record.principal, record.key)] = record
            return ids

    def get_idempotency(self, principal: str, key: str) -> IdempotencyRecord | None:
        return self._idempotency.get((principal, key))

    def put_document(self, meta: DocumentMeta, org: str) -> None:
        with self._side_lock:
            self._documents.setdefault(meta.sha256, meta)
            if org:
                self._document_orgs.setdefault(meta.sha256, set()).add(org)

    def get_document(self, sha256: str) -> tuple[DocumentMeta, set[str]] | None:
        meta = self._documents.get(sha256)
        return None if meta is None else (meta, set(self._document_orgs.get(sha256, set())))

    def put_checkpoint(self, checkpoint: Checkpoint) -> None:
        with self._side_lock:
            self._checkpoints.setdefault(checkpoint.tree_size, checkpoint)

    def get_checkpoints(self, *, since: int = 0, limit: int = 1000) -> list[Checkpoint]:
        return [self._checkpoints[k] for k in sorted(self._checkpoints) if k >= since][:limit]

    def latest_checkpoint(self) -> Checkpoint | None:
        return self._checkpoints[max(self._checkpoints)] if self._checkpoints else None


RECORDER_TOPICS = {
    "eventsourcing.sqlite": "application.store:SQLiteRecorder",
    "eventsourcing.postgres": "application.store:PostgresRecorder",
    "eventsourcing.popo": "application.store:MemoryRecorder",
}


def connect_postgres(env: dict[str, str]) -> Any:
    """A connection of its own (autocommit) to the PostgreSQL database an eventsourcing environment names:
    for what the library's pool is not for (creating the schema, LISTEN, an advisory lock)."""
    import psycopg

    return psycopg.connect(
        dbname=env["POSTGRES_DBNAME"],
        host=env["POSTGRES_HOST"],
        port=env["POSTGRES_PORT"],
        user=env["POSTGRES_USER"],
        password=env.get("POSTGRES_PASSWORD") or None,
        connect_timeout=5,
        autocommit=True,
    )


def ensure_postgres_schema(env: dict[str, str]) -> None:
    """Creates the configured PostgreSQL schema if it is missing (the library expects it to exist)."""
    schema = env.get("POSTGRES_SCHEMA")
    if env.get("PERSISTENCE_MODULE") != "eventsourcing.postgres" or not schema:
        return
    from psycopg import sql

    with connect_postgres(env) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))


def events_by_topic(recorder: Any) -> dict[str, int]:
    """How many events the log holds of each topic (for the metrics: counted in the store, so every process
    reports the same, restarts included)."""
    if isinstance(recorder, PostgresApplicationRecorder):
        statement = SQL("SELECT topic, COUNT(*) FROM {}.{} GROUP BY topic").format(
            Identifier(recorder.datastore.schema), Identifier(recorder.events_table_name)
        )
        with recorder.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as curs:
            curs.execute(statement)
            return {str(t): int(n) for t, n in curs.fetchall()}
    if isinstance(recorder, SQLiteApplicationRecorder):
        with recorder.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT topic, COUNT(*) FROM {recorder.events_table_name} GROUP BY topic")
            return {str(r[0]): int(r[1]) for r in c.fetchall()}
    counts: dict[str, int] = {}
    for n in recorder.select_notifications(start=1, limit=1 << 62):
        counts[n.topic] = counts.get(n.topic, 0) + 1
    return counts
