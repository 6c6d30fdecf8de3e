"""Where objectors' personal data is kept (PIPL): three side tables beside the events, for SQLite, PostgreSQL and
memory — the identities, encrypted (``objectors``); their keys, one per objection (``objector_keys``); and the
erasures, who erased which and why (``objector_erasures``, rows only ever added).

An identity and its key are written in the transaction that records the objection; an erasure deletes both and
adds its row in one transaction. A copy of the ``objectors`` table (a backup, a replica) is unreadable once the
keys are gone."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.sqlite import SQLiteCursor
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL
from psycopg.sql import Identifier


@dataclass(frozen=True)
class SealedObjector:
    """An objector's identity encrypted (AES-256-GCM) under its own key, and the objection it belongs to."""

    ref: str
    zone_id: str
    objection_id: str
    nonce: bytes
    ciphertext: bytes
    recorded_at: str


@dataclass(frozen=True)
class ObjectorRecord:
    """What is written with the objection's events: the sealed identity and its key (kept in another table)."""

    sealed: SealedObjector
    key: bytes


@dataclass(frozen=True)
class Erasure:
    """An erasure: whose data (by reference and objection), when, by whom and why — never the data."""

    ref: str
    zone_id: str
    objection_id: str
    erased_at: str
    erased_by: str
    reason: str


@dataclass(frozen=True)
class StoredObjector:
    """What the store holds for a reference: the sealed identity and its key, or the erasure."""

    sealed: SealedObjector | None
    key: bytes | None
    erasure: Erasure | None


def _stored(
    refs: Sequence[str], sealed: dict[str, SealedObjector], keys: dict[str, bytes], erased: dict[str, Erasure]
) -> dict[str, StoredObjector]:
    return {
        r: StoredObjector(sealed.get(r), keys.get(r), erased.get(r))
        for r in refs
        if r in sealed or r in erased or r in keys
    }


class SQLiteObjectorTables:
    """The objector tables in the SQLite file."""

    datastore: Any

    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),  # type: ignore[misc]
            "CREATE TABLE IF NOT EXISTS objectors (ref TEXT PRIMARY KEY, zone_id TEXT, objection_id TEXT, "
            "nonce BLOB, ciphertext BLOB, recorded_at TEXT)",
            "CREATE TABLE IF NOT EXISTS objector_keys (ref TEXT PRIMARY KEY, key BLOB)",
            "CREATE TABLE IF NOT EXISTS objector_erasures (ref TEXT PRIMARY KEY, zone_id TEXT, objection_id TEXT, "
            "erased_at TEXT, erased_by TEXT, reason TEXT)",
        ]

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        returning: Sequence[int] | None = super()._insert_events(c, stored_events, **kwargs)  # type: ignore[misc]
        record: ObjectorRecord | None = kwargs.get("objector")
        if record is not None:
            s = record.sealed
            c.execute(
                "INSERT INTO objectors VALUES (?, ?, ?, ?, ?, ?)",
                (s.ref, s.zone_id, s.objection_id, s.nonce, s.ciphertext, s.recorded_at),
            )
            c.execute("INSERT INTO objector_keys VALUES (?, ?)", (s.ref, record.key))
        return returning

    def get_objectors(self, refs: Sequence[str]) -> dict[str, StoredObjector]:
        """What the store holds for each of ``refs`` (a reference it never held is left out)."""
        refs = list(dict.fromkeys(refs))
        if not refs:
            return {}
        marks = ", ".join("?" * len(refs))
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT * FROM objectors WHERE ref IN ({marks})", refs)
            sealed = {r[0]: SealedObjector(*tuple(r)) for r in c.fetchall()}
            c.execute(f"SELECT ref, key FROM objector_keys WHERE ref IN ({marks})", refs)
            keys = {r[0]: bytes(r[1]) for r in c.fetchall()}
            c.execute(f"SELECT * FROM objector_erasures WHERE ref IN ({marks})", refs)
            erased = {r[0]: Erasure(*tuple(r)) for r in c.fetchall()}
        return _stored(refs, sealed, keys, erased)

    def erase_objector(self, erasure: Erasure) -> bool:
        """Deletes the identity and its key and records the erasure, at once; False if it was erased already."""
        e = erasure
        with self.datastore.transaction(commit=True) as c:
            c.execute(
                "INSERT INTO objector_erasures VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (ref) DO NOTHING RETURNING ref",
                (e.ref, e.zone_id, e.objection_id, e.erased_at, e.erased_by, e.reason),
            )
            if c.fetchone() is None:
                return False
            c.execute("DELETE FROM objector_keys WHERE ref = ?", (e.ref,))
            c.execute("DELETE FROM objectors WHERE ref = ?", (e.ref,))
        return True

    def unerased_objectors(self) -> list[tuple[str, str, str]]:
        """``(ref, zone_id, objection_id)`` of every identity still held, in the order recorded."""
        with self.datastore.transaction(commit=False) as c:
            c.execute("SELECT ref, zone_id, objection_id FROM objectors ORDER BY recorded_at, ref")
            return [(r[0], r[1], r[2]) for r in c.fetchall()]


class PostgresObjectorTables:
    """The objector tables in the PostgreSQL schema (named after the events table)."""

    datastore: Any
    events_table_name: str
    sql_create_statements: list[Any]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        schema = Identifier(self.datastore.schema)
        self.objectors_table = SQL("{}.{}").format(schema, Identifier(f"{self.events_table_name}_objectors"))
        self.objector_keys_table = SQL("{}.{}").format(schema, Identifier(f"{self.events_table_name}_objector_keys"))
        self.objector_erasures_table = SQL("{}.{}").format(
            schema, Identifier(f"{self.events_table_name}_objector_erasures")
        )
        self.sql_create_statements += [
            SQL(
                "CREATE TABLE IF NOT EXISTS {} (ref text PRIMARY KEY, zone_id text, objection_id text, nonce bytea, "
                "ciphertext bytea, recorded_at text)"
            ).format(self.objectors_table),
            SQL("CREATE TABLE IF NOT EXISTS {} (ref text PRIMARY KEY, key bytea)").format(self.objector_keys_table),
            SQL(
                "CREATE TABLE IF NOT EXISTS {} (ref text PRIMARY KEY, zone_id text, objection_id text, "
                "erased_at text, erased_by text, reason text)"
            ).format(self.objector_erasures_table),
        ]

    def _insert_events(self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any) -> None:
        super()._insert_events(curs, stored_events, **kwargs)  # type: ignore[misc]
        record: ObjectorRecord | None = kwargs.get("objector")
        if record is not None:
            s = record.sealed
            curs.execute(
                SQL("INSERT INTO {} VALUES (%s, %s, %s, %s, %s, %s)").format(self.objectors_table),
                (s.ref, s.zone_id, s.objection_id, s.nonce, s.ciphertext, s.recorded_at),
            )
            curs.execute(SQL("INSERT INTO {} VALUES (%s, %s)").format(self.objector_keys_table), (s.ref, record.key))

    def get_objectors(self, refs: Sequence[str]) -> dict[str, StoredObjector]:
        """What the store holds for each of ``refs`` (a reference it never held is left out)."""
        refs = list(dict.fromkeys(refs))
        if not refs:
            return {}
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                SQL(
                    "SELECT ref, zone_id, objection_id, nonce, ciphertext, recorded_at FROM {} WHERE ref = ANY(%s)"
                ).format(self.objectors_table),
                (refs,),
            )
            sealed = {
                r["ref"]: SealedObjector(**{**r, "nonce": bytes(r["nonce"]), "ciphertext": bytes(r["ciphertext"])})
                for r in curs.fetchall()
            }
            curs.execute(SQL("SELECT ref, key FROM {} WHERE ref = ANY(%s)").format(self.objector_keys_table), (refs,))
            keys = {r["ref"]: bytes(r["key"]) for r in curs.fetchall()}
            curs.execute(
                SQL(
                    "SELECT ref, zone_id, objection_id, erased_at, erased_by, reason FROM {} WHERE ref = ANY(%s)"
                ).format(self.objector_erasures_table),
                (refs,),
            )
            erased = {r["ref"]: Erasure(**r) for r in curs.fetchall()}
        return _stored(refs, sealed, keys, erased)

    def erase_objector(self, erasure: Erasure) -> bool:
        """Deletes the identity and its key and records the erasure, at once; False if it was erased already."""
        e = erasure
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(
                SQL("INSERT INTO {} VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (ref) DO NOTHING RETURNING ref").format(
                    self.objector_erasures_table
                ),
                (e.ref, e.zone_id, e.objection_id, e.erased_at, e.erased_by, e.reason),
            )
            if curs.fetchone() is None:
                return False
            curs.execute(SQL("DELETE FROM {} WHERE ref = %s").format(self.objector_keys_table), (e.ref,))
            curs.execute(SQL("DELETE FROM {} WHERE ref = %s").format(self.objectors_table), (e.ref,))
        return True

    def unerased_objectors(self) -> list[tuple[str, str, str]]:
        """``(ref, zone_id, objection_id)`` of every identity still held, in the order recorded."""
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                SQL("SELECT ref, zone_id, objection_id FROM {} ORDER BY recorded_at, ref").format(self.objectors_table)
            )
            return [(r["ref"], r["zone_id"], r["objection_id"]) for r in curs.fetchall()]


class MemoryObjectorTables:
    """The objector tables as dictionaries (tests)."""

    def __init__(self) -> None:
        super().__init__()
        self._objector_lock = threading.Lock()
        self._sealed: dict[str, SealedObjector] = {}
        self._keys: dict[str, bytes] = {}
        self._erasures: dict[str, Erasure] = {}

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        ids: Sequence[int] | None = super().insert_events(stored_events, **kwargs)  # type: ignore[misc]
        record: ObjectorRecord | None = kwargs.get("objector")
        if record is not None:
            with self._objector_lock:
                self._sealed[record.sealed.ref] = record.sealed
                self._keys[record.sealed.ref] = record.key
        return ids

    def get_objectors(self, refs: Sequence[str]) -> dict[str, StoredObjector]:
        """What the store holds for each of ``refs`` (a reference it never held is left out)."""
        with self._objector_lock:
            return _stored(list(dict.fromkeys(refs)), dict(self._sealed), dict(self._keys), dict(self._erasures))

    def erase_objector(self, erasure: Erasure) -> bool:
        """Deletes the identity and its key and records the erasure, at once; False if it was erased already."""
        with self._objector_lock:
            if erasure.ref in self._erasures:
                return False
            self._erasures[erasure.ref] = erasure
            self._keys.pop(erasure.ref, None)
            self._sealed.pop(erasure.ref, None)
        return True

    def unerased_objectors(self) -> list[tuple[str, str, str]]:
        """``(ref, zone_id, objection_id)`` of every identity still held, in the order recorded."""
        with self._objector_lock:
            rows = sorted(self._sealed.values(), key=lambda s: (s.recorded_at, s.ref))
        return [(s.ref, s.zone_id, s.objection_id) for s in rows]
