"""One flipped byte in a stored event, on SQLite and PostgreSQL: verification names that event."""

from __future__ import annotations

from pathlib import Path

import pytest

from audit.integrity import verify_store
from audit.integrity import verify_zone

from ..conftest import StoreFactory
from ..conftest import make_container
from .tamper import edit_stored_state
from .tamper import flip_byte_at
from .test_application import walk_to_grant

EDITS = {
    # "park" becomes "qark": still valid JSON, a different value
    "a value": flip_byte_at(lambda s: s.index(b'"area_type":"park"') + len(b'"area_type":"')),
    # a digit of the recorded score total
    "a number": flip_byte_at(lambda s: s.index(b'"total":') + len(b'"total":')),
    # a byte in the middle, whatever it is (the JSON may no longer parse)
    "the middle byte": flip_byte_at(lambda s: len(s) // 2),
    # the event's own recorded hash
    "the recorded hash": flip_byte_at(lambda s: s.index(b'"hash":"') + len(b'"hash":"') + 5),
}
VERSION_OF = {"a value": 1, "a number": 9, "the middle byte": 7, "the recorded hash": 5}
CALL = 2  # before the zone's events: the first batch's publication and the case the zone opened in it


@pytest.mark.parametrize("edit", sorted(EDITS))
def test_a_flipped_byte_is_found_and_named(persistent_store: StoreFactory, tmp_path: Path, edit: str) -> None:
    url = persistent_store.new_url()
    c = make_container(url, tmp_path)
    try:
        z = walk_to_grant(c)
        assert verify_store(c.app).ok
        version = VERSION_OF[edit]
        edit_stored_state(url, z.id, version, EDITS[edit])
        result = verify_store(c.app)
        assert not result.ok
        assert result.events_checked == CALL + 14
        first = result.first_bad
        assert first is not None
        assert (first["zone_id"], first["seq"]) == (str(z.id), version)
        assert first["position"] == CALL + version  # the only zone: its n-th event, the log's (CALL + n)-th
        assert verify_zone(c.app, z.id).problems[0].originator_version == version
    finally:
        c.close()


def test_a_deleted_event_is_found(persistent_store: StoreFactory, tmp_path: Path) -> None:
    url = persistent_store.new_url()
    c = make_container(url, tmp_path)
    try:
        walk_to_grant(c)
        from application.settings import Settings

        env = Settings(database_url=url).persistence_env()
        if env["PERSISTENCE_MODULE"] == "eventsourcing.sqlite":
            import sqlite3

            con = sqlite3.connect(env["SQLITE_DBNAME"])
            con.execute("DELETE FROM stored_events WHERE originator_version = 4")
            con.commit()
            con.close()
        else:
            import psycopg

            with psycopg.connect(url.split("?")[0], autocommit=True) as conn:
                conn.execute(f'DELETE FROM "{env["POSTGRES_SCHEMA"]}".zonecase_events WHERE originator_version = 4')
        result = verify_store(c.app)
        assert not result.ok
        assert result.first_bad["seq"] == 5  # type: ignore[index]
        assert "missing" in result.first_bad["problem"]  # type: ignore[index]
    finally:
        c.close()
