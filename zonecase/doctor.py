"""``zonecase doctor``: whether this process could serve — configuration, store, tables, views, signing key, the
clock against the database's, space for documents — one line each; any failure makes the command exit 1."""

from __future__ import annotations

import shutil
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from application.settings import Settings

MAX_CLOCK_OFFSET = 2.0  # seconds: deadlines, notices and checkpoints are dated by this process's clock
MIN_FREE_BYTES = 100 << 20  # five of the largest documents (20 MiB)
SQLITE_TABLES = ("stored_events", "idempotency", "documents", "document_orgs", "checkpoints")
POSTGRES_TABLES = ("{e}", "{e}_idempotency", "{e}_documents", "{e}_document_orgs", "{e}_checkpoints")


@dataclass(frozen=True)
class Check:
    """One line of the report."""

    name: str
    ok: bool
    detail: str


class _Failed(Exception):
    pass


def diagnose(settings: Settings) -> list[Check]:
    """Every check, in order; a check that depends on a failed one says so instead of running."""
    checks: list[Check] = []
    env = settings.persistence_env()
    kind = env["PERSISTENCE_MODULE"].rpartition(".")[2]
    checks.append(_configuration(settings, kind))
    tables, db_now = _store(checks, settings, env)
    missing: list[str] = []
    if tables is None:
        checks.append(Check("tables", False, "not checked: the store is unreachable"))
    else:
        wanted = SQLITE_TABLES if kind == "sqlite" else [t.format(e="zonecase_events") for t in POSTGRES_TABLES]
        missing = [t for t in wanted if t not in tables]
        detail = f"missing {', '.join(missing)} (zonecase serve creates them)" if missing else ", ".join(wanted)
        checks.append(Check("tables", not missing, detail))
    app: Any = None
    if tables is not None and not missing:
        from zonecase.wiring import build

        container = build(settings)
        app = container.app
        try:
            checks.append(_views(settings, app))
            checks.append(_key(settings, app))
        finally:
            container.close()
    else:
        checks.append(Check("views", False, "not checked: the store's tables are not there"))
        checks.append(_key(settings, None))
    checks.append(_clock(db_now, kind == "postgres"))
    checks.append(_documents(settings.data_dir / "documents"))
    return checks


def _configuration(settings: Settings, kind: str) -> Check:
    problems = []
    if settings.env == "production" and not settings.jwt_secret:
        problems.append("ZONECASE_JWT_SECRET is not set")
    if settings.env == "production" and not settings.signing_key_file:
        problems.append("ZONECASE_SIGNING_KEY is not set")
    detail = f"{settings.env}, {kind} store, data directory {settings.data_dir}"
    return Check("configuration", not problems, "; ".join(problems) or detail)


def _store(checks: list[Check], settings: Settings, env: dict[str, str]) -> tuple[set[str] | None, float | None]:
    """The store answers: its tables (None when it does not) and, on PostgreSQL, the database's clock."""
    try:
        if env["PERSISTENCE_MODULE"] == "eventsourcing.postgres":
            tables, db_now, where = _postgres(env)
        elif env["PERSISTENCE_MODULE"] == "eventsourcing.sqlite":
            tables, db_now, where = _sqlite(Path(env["SQLITE_DBNAME"])), None, env["SQLITE_DBNAME"]
        else:
            raise _Failed("an in-memory store keeps nothing: set ZONECASE_DATABASE_URL")
    except Exception as e:
        why = str(e) if isinstance(e, _Failed) else f"{type(e).__name__}: {' '.join(str(e).split())[:300]}"
        checks.append(Check("store", False, f"unreachable: {why}"))
        return None, None
    checks.append(Check("store", True, f"answers ({where})"))
    return tables, db_now


def _sqlite(path: Path) -> set[str]:
    if not path.is_file():
        raise _Failed(f"no database file at {path}")
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:  # read only: the doctor creates nothing
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def _postgres(env: dict[str, str]) -> tuple[set[str], float, str]:
    from application.store import connect_postgres

    schema = env.get("POSTGRES_SCHEMA") or "public"
    with connect_postgres(env) as conn:
        before = time.time()
        db_now = float(conn.execute("SELECT extract(epoch FROM clock_timestamp())").fetchone()[0])
        offset = db_now - (before + time.time()) / 2
        rows = conn.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (schema,))
        tables = {r[0] for r in rows.fetchall()}
    return tables, offset, f"{env['POSTGRES_HOST']}:{env['POSTGRES_PORT']}/{env['POSTGRES_DBNAME']} schema {schema}"


def _views(settings: Settings, app: Any) -> Check:
    from projections.runner import construct_views

    head = app.recorder.max_notification_id() or 0
    views: dict[str, Any] = {}
    try:
        views = construct_views(app, settings.views_env())
        positions = {n: p.view.max_tracking_id(p.application_name) or 0 for n, p in views.items()}
    except Exception as e:
        return Check("views", False, f"unreadable ({type(e).__name__}): run zonecase rebuild")
    finally:
        for datastore in {id(p.view.datastore): p.view.datastore for p in views.values()}.values():
            datastore.close()
    ahead = [n for n, p in positions.items() if p > head]
    if ahead:
        return Check("views", False, f"{', '.join(ahead)} ahead of the log ({head}): views of another log; rebuild")
    behind = {n: head - p for n, p in positions.items() if p < head}
    if behind:
        lag = ", ".join(f"{n} {d}" for n, d in behind.items())
        return Check("views", True, f"log head {head}; behind by {lag} events (a running service catches up)")
    return Check("views", True, f"{len(positions)} views at the log head ({head})")


def _key(settings: Settings, app: Any) -> Check:
    from audit.checkpoints import SigningKey

    path = Path(settings.signing_key_file) if settings.signing_key_file else settings.data_dir / "dev-signing-key.pem"
    if not settings.signing_key_file and not path.is_file():
        if settings.env == "production":
            return Check("signing key", False, "ZONECASE_SIGNING_KEY is not set")
        return Check("signing key", True, f"none yet: the development key {path} is made at the first start")
    try:
        key = SigningKey.load(path)
    except (OSError, ValueError, TypeError) as e:
        return Check("signing key", False, f"cannot read {path}: {type(e).__name__}: {e}")
    latest = app.side_tables.latest_checkpoint() if app is not None else None
    if latest is not None and latest.key_id != key.key_id:
        return Check(
            "signing key",
            False,
            f"{path} is key {key.key_id[:16]}…, the latest checkpoint was signed by {latest.key_id[:16]}…",
        )
    return Check("signing key", True, f"{path}, key id {key.key_id[:16]}…")


def _clock(offset: float | None, database: bool) -> Check:
    if offset is None:
        if database:
            return Check("clock", False, "not checked: the database is unreachable")
        return Check("clock", True, "the store is a file on this machine: one clock")
    ok = abs(offset) <= MAX_CLOCK_OFFSET
    return Check("clock", ok, f"{offset:+.3f} s from the database's (at most ±{MAX_CLOCK_OFFSET:g} s)")


def _documents(root: Path) -> Check:
    from api.documents import DocumentStore

    problem = DocumentStore(root).check()  # a small file written, synced and removed
    if problem is not None:
        return Check("documents", False, f"{root} cannot take a file ({problem})")
    free = shutil.disk_usage(root).free
    ok = free >= MIN_FREE_BYTES
    return Check("documents", ok, f"{root}: {free / (1 << 30):.1f} GiB free (at least {MIN_FREE_BYTES >> 20} MiB)")
