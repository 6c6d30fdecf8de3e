"""``zonecase restore DIR``: an export (``zonecase export``'s folder, docs/record-format.md) back into an empty store.

The export is verified first (``audit.offline.verify_export``): a tampered one is refused, naming the position,
and nothing is written. The events are then inserted through the store's own recorder exactly as exported — same
log positions, aggregates, versions, topics, states and hashes — the signed checkpoints with them, and the views
rebuilt from the log. The restored store verifies, answers as the exported one did, and its next checkpoint
extends the exported ones (signed with the configured key: the bureau's, for the inspectors' pinned key to check).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from application.store import Checkpoint
from audit.offline import CHECKPOINTS
from audit.offline import EVENTS
from audit.offline import verify_export

BATCH = 1000


class RestoreError(Exception):
    """The export cannot be restored here (tampered, not an export, or the store is not empty); nothing written."""


def _records(folder: Path) -> Iterator[dict[str, Any]]:
    with (folder / EVENTS).open("rb") as f:
        for raw in f:
            yield json.loads(raw)


def stored_event(app: Any, record: dict[str, Any]) -> StoredEvent:
    """An exported event as the store holds it: the body with its timestamp and hash, encoded by the application's
    mapper (the inverse of ``audit.offline.export``)."""
    mapper = app.mapper
    state = mapper.transcoder.encode(
        {**record["body"], "timestamp": datetime.fromisoformat(record["timestamp"]), "hash": record["hash"]}
    )
    if mapper.compressor:
        state = mapper.compressor.compress(state)
    if mapper.cipher:
        state = mapper.cipher.encrypt(state)
    return StoredEvent(
        originator_id=UUID(record["originator_id"]),
        originator_version=record["version"],
        topic=record["topic"],
        state=state,
    )


def _continue_at(recorder: Any, position: int, *, check_only: bool = False) -> None:
    """Makes the store's next log position ``position`` (the export has a gap before it: PostgreSQL's sequence
    skips the numbers of transactions rolled back, and the positions are part of the record)."""
    from eventsourcing.postgres import PostgresApplicationRecorder
    from psycopg.sql import SQL
    from psycopg.sql import Identifier

    if not isinstance(recorder, PostgresApplicationRecorder):
        raise RestoreError(
            f"The export skips log positions before {position}, which this store cannot keep (SQLite numbers its "
            "events without gaps): restore it into PostgreSQL."
        )
    if check_only:
        return
    table = SQL("{}.{}").format(Identifier(recorder.datastore.schema), Identifier(recorder.events_table_name))
    with recorder.datastore.transaction(commit=True) as curs:
        curs.execute(
            SQL("SELECT setval(pg_get_serial_sequence(%s, 'notification_id'), %s)"),
            (table.as_string(curs), position - 1),
        )


def restore(app: Any, folder: Path, progress: Callable[[int], None] | None = None) -> dict[str, int]:
    """Verifies the export in ``folder`` and loads it into ``app``'s store, which must hold no event and no
    checkpoint; returns how many events and checkpoints it restored. The views are not touched (rebuild them)."""
    if not (folder / EVENTS).is_file():
        raise RestoreError(f"{folder} holds no {EVENTS}: give the folder `zonecase export` wrote.")
    report = verify_export(folder)
    if not report.ok:
        first = report.problems[0]
        where = f" at position {first['position']}" if first.get("position") is not None else ""
        raise RestoreError(
            f"The export does not verify{where}: {first['problem']} ({len(report.problems)} problem(s) in all; "
            "`zonecase verify` lists them). Nothing was restored."
        )
    recorder, side = app.recorder, app.side_tables
    if recorder.max_notification_id() or side.latest_checkpoint() is not None:
        raise RestoreError("The store is not empty: restore into a new database (or schema). Nothing was restored.")
    gap = next((r["position"] for n, r in enumerate(_records(folder), start=1) if r["position"] != n), None)
    if gap is not None:
        _continue_at(recorder, gap, check_only=True)  # refused before anything is written where gaps cannot be kept
    restored, expected = 0, 1
    run: list[tuple[int, StoredEvent]] = []
    for record in _records(folder):
        if record["position"] != expected:
            restored += _insert(recorder, run)
            run = []
            _continue_at(recorder, record["position"])
        run.append((record["position"], stored_event(app, record)))
        expected = record["position"] + 1
        if len(run) >= BATCH:
            restored += _insert(recorder, run)
            run = []
        if progress is not None:
            progress(1)
    restored += _insert(recorder, run)
    checkpoints = json.loads((folder / CHECKPOINTS).read_text("utf-8"))
    for c in checkpoints:
        side.put_checkpoint(Checkpoint(**{k: c[k] for k in Checkpoint.__dataclass_fields__}))
    return {"events": restored, "checkpoints": len(checkpoints)}


def _insert(recorder: Any, run: list[tuple[int, StoredEvent]]) -> int:
    """One transaction; the store must give the events the positions they were exported with."""
    if not run:
        return 0
    ids = recorder.insert_events([e for _, e in run])
    wanted = [p for p, _ in run]
    if ids is not None and list(ids) != wanted:
        raise RestoreError(f"The store numbered events {wanted[0]}–{wanted[-1]} as {ids[0]}–{ids[-1]}: not empty?")
    return len(run)
