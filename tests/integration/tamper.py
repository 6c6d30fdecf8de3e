"""Edits stored events below the application, straight in the database — as an attacker would."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from uuid import UUID

from application.settings import Settings


def _matches(stored_id: object, zone_id: UUID) -> bool:
    return str(stored_id).replace("-", "") == zone_id.hex


def edit_stored_state(url: str, zone_id: UUID, version: int, edit: Callable[[bytes], bytes]) -> None:
    """Replaces the stored bytes of one event with ``edit(bytes)``."""
    env = Settings(database_url=url).persistence_env()
    if env["PERSISTENCE_MODULE"] == "eventsourcing.sqlite":
        con = sqlite3.connect(env["SQLITE_DBNAME"])
        try:
            rows = con.execute("SELECT rowid, originator_id, originator_version, state FROM stored_events").fetchall()
            rowid, state = next((r[0], r[3]) for r in rows if _matches(r[1], zone_id) and r[2] == version)
            con.execute("UPDATE stored_events SET state = ? WHERE rowid = ?", (edit(bytes(state)), rowid))
            con.commit()
        finally:
            con.close()
        return
    import psycopg
    from psycopg import sql

    table = sql.Identifier(env.get("POSTGRES_SCHEMA", "public"), "zonecase_events")
    with psycopg.connect(url.split("?")[0], autocommit=True) as conn:
        row = conn.execute(
            sql.SQL("SELECT state FROM {} WHERE originator_id = %s AND originator_version = %s").format(table),
            (zone_id, version),
        ).fetchone()
        assert row is not None
        conn.execute(
            sql.SQL("UPDATE {} SET state = %s WHERE originator_id = %s AND originator_version = %s").format(table),
            (edit(bytes(row[0])), zone_id, version),
        )


def flip_byte_at(offset_of: Callable[[bytes], int]) -> Callable[[bytes], bytes]:
    """An edit that flips the lowest bit of one byte."""

    def edit(state: bytes) -> bytes:
        i = offset_of(state)
        return state[:i] + bytes([state[i] ^ 0x01]) + state[i + 1 :]

    return edit
