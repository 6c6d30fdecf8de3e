"""Settings from the environment (``ZONECASE_*``); one place, read once, passed on."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from dataclasses import fields
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs
from urllib.parse import unquote
from urllib.parse import urlparse

from domain.indicators import PANEL_METHODS
from domain.policy import Policy

ENVIRONMENTS = ("development", "production")
MIN_SECRET_BYTES = 32  # HS256 wants a key as long as its hash (RFC 7518 §3.2)


class SettingsError(ValueError):
    """A setting is malformed."""


@dataclass(frozen=True)
class Settings:
    """What the service needs to start: store, secrets, data files and the process defaults."""

    database_url: str = ""
    data_dir: Path = Path("data")
    env: str = "development"
    jwt_secret: str = ""
    signing_key_file: str = ""
    allow_time_travel: bool = False
    indicator_file: str = ""
    batches_file: str = ""
    scheduler_interval: float = 60.0
    # Whether this process creates the store's tables when they are missing (PostgreSQL). Two processes creating
    # them at once crash one: in a stack, a one-shot `zonecase migrate` creates them and the others run with off.
    create_tables: bool = True
    policy: Policy = field(default_factory=Policy)
    jwt_issuer: str = ""  # when set, a token must name it (``iss``)
    jwt_audience: str = ""  # when set, a token must name it (``aud``)
    token_max_hours: float = 12.0  # a token whose ``exp`` lies further ahead is refused
    # How many zones a process keeps loaded between commands (eventsourcing's aggregate cache, fast-forwarded from
    # the store on every use, so that other processes' events are never missed); 0 replays every zone every time.
    zone_cache: int = 1000

    def __post_init__(self) -> None:
        if self.env not in ENVIRONMENTS:
            raise SettingsError(f"ZONECASE_ENV must be development or production, not {self.env!r}")
        if self.env == "production" and self.allow_time_travel:
            raise SettingsError(
                "ZONECASE_ALLOW_TIME_TRAVEL is for tests and demos: production refuses to start with it"
            )
        if self.env == "production" and self.jwt_secret and len(self.jwt_secret.encode()) < MIN_SECRET_BYTES:
            raise SettingsError(f"ZONECASE_JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes in production")
        if self.zone_cache < 0:
            raise SettingsError("ZONECASE_ZONE_CACHE must be a number of zones (0 turns the cache off)")
        if not 0 < self.token_max_hours <= 24 * 366:
            raise SettingsError("ZONECASE_TOKEN_MAX_HOURS must be a number of hours above 0 (at most a year)")

    # Abuse controls on the anonymous endpoints (``limits`` notation, ";" between several): per client address on
    # public reads, per address and per zone on public objections. On unless turned off (tests turn them off).
    rate_limits: bool = True
    rate_limit_public: str = "120/minute"
    rate_limit_objections: str = "5/minute;20/day"
    rate_limit_zone_objections: str = "30/minute;300/day"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Reads ``ZONECASE_*`` variables; the process defaults come from ``ZONECASE_POLICY_*``."""
        e = os.environ if environ is None else environ
        policy_kwargs: dict[str, Any] = {}
        for f in fields(Policy):
            raw = e.get(f"ZONECASE_POLICY_{f.name.upper()}")
            if raw is not None:
                try:
                    policy_kwargs[f.name] = int(raw) if f.type in ("int", int) else raw
                except ValueError as err:
                    raise SettingsError(f"ZONECASE_POLICY_{f.name.upper()} must be a whole number") from err
        policy = Policy(**policy_kwargs)
        if policy.panel_method not in PANEL_METHODS:
            raise SettingsError("ZONECASE_POLICY_PANEL_METHOD must be mean or median")
        return cls(
            database_url=e.get("ZONECASE_DATABASE_URL", ""),
            data_dir=Path(e.get("ZONECASE_DATA_DIR", "data")),
            env=e.get("ZONECASE_ENV", "development"),
            jwt_secret=e.get("ZONECASE_JWT_SECRET", ""),
            signing_key_file=e.get("ZONECASE_SIGNING_KEY", ""),
            allow_time_travel=e.get("ZONECASE_ALLOW_TIME_TRAVEL", "") in ("1", "true", "yes"),
            indicator_file=e.get("ZONECASE_INDICATOR_FILE", ""),
            batches_file=e.get("ZONECASE_BATCHES_FILE", ""),
            scheduler_interval=_seconds(e.get("ZONECASE_SCHEDULER_INTERVAL", "60")),
            create_tables=_switch(e.get("ZONECASE_CREATE_TABLES", "on"), "ZONECASE_CREATE_TABLES"),
            policy=policy,
            jwt_issuer=e.get("ZONECASE_JWT_ISSUER", ""),
            jwt_audience=e.get("ZONECASE_JWT_AUDIENCE", ""),
            token_max_hours=_hours(e.get("ZONECASE_TOKEN_MAX_HOURS", "12")),
            zone_cache=_count(e.get("ZONECASE_ZONE_CACHE", "1000"), "ZONECASE_ZONE_CACHE"),
            rate_limits=_switch(e.get("ZONECASE_RATE_LIMITS", "on"), "ZONECASE_RATE_LIMITS"),
            **{
                name: _rates(e[variable], variable)
                for name, variable in RATE_VARIABLES.items()
                if e.get(variable) is not None
            },
        )

    def persistence_env(self) -> dict[str, str]:
        """The eventsourcing environment for the configured store (with zonecase's own recorders)."""
        from application.store import RECORDER_TOPICS

        env = self._store_env()
        env["APPLICATION_RECORDER_TOPIC"] = RECORDER_TOPICS[env["PERSISTENCE_MODULE"]]
        if self.zone_cache:  # a least-recently-used cache of this size (the library's 0 would mean unbounded)
            env["AGGREGATE_CACHE_MAXSIZE"] = str(self.zone_cache)
        return env

    def views_env(self) -> dict[str, str]:
        """Where the read models live: beside an SQLite store in a file of their own; in PostgreSQL's schema."""
        env = self._store_env()
        if env["PERSISTENCE_MODULE"] == "eventsourcing.sqlite":
            name = env["SQLITE_DBNAME"]
            env["SQLITE_DBNAME"] = (
                ":memory:" if name == ":memory:" else str(Path(name).with_suffix("")) + "-views.sqlite"
            )
        elif env["PERSISTENCE_MODULE"] == "eventsourcing.popo":
            env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": ":memory:"}
        return env

    def _store_env(self) -> dict[str, str]:
        url = self.database_url
        if not url:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            return {
                "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                "SQLITE_DBNAME": str(self.data_dir / "zonecase.sqlite"),
            }
        if url == "memory://":
            return {"PERSISTENCE_MODULE": "eventsourcing.popo"}
        parsed = urlparse(url)
        if parsed.scheme == "sqlite":
            path = url[len("sqlite:///") :] if url.startswith("sqlite:///") else ""
            if not path:
                raise SettingsError("ZONECASE_DATABASE_URL sqlite URLs look like sqlite:///path/to/file")
            if path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": path}
        if parsed.scheme in ("postgresql", "postgres"):
            dbname = parsed.path.lstrip("/")
            if not dbname:
                raise SettingsError("ZONECASE_DATABASE_URL needs a database name: postgresql://user@host:5432/dbname")
            out = {
                "PERSISTENCE_MODULE": "eventsourcing.postgres",
                "POSTGRES_DBNAME": dbname,
                "POSTGRES_HOST": parsed.hostname or "127.0.0.1",
                "POSTGRES_PORT": str(parsed.port or 5432),
                "POSTGRES_USER": unquote(parsed.username or "postgres"),
                "POSTGRES_PASSWORD": unquote(parsed.password or ""),
                # how long a request waits for a pooled connection: an outage is answered 503 within about a second
                "POSTGRES_CONNECT_TIMEOUT": "1",
                # a pooled connection is checked before use: after an outage none broken is handed out
                "POSTGRES_PRE_PING": "y",
                "CREATE_TABLE": "y" if self.create_tables else "n",
            }
            schema = parse_qs(parsed.query).get("schema", [""])[0]
            if schema:
                out["POSTGRES_SCHEMA"] = schema
            return out
        raise SettingsError(f"ZONECASE_DATABASE_URL scheme {parsed.scheme!r} is not supported (sqlite or postgresql)")


def _seconds(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError as err:
        raise SettingsError("ZONECASE_SCHEDULER_INTERVAL must be a number of seconds (0 turns it off)") from err
    if value < 0:
        raise SettingsError("ZONECASE_SCHEDULER_INTERVAL must not be negative")
    return value


def _count(raw: str, name: str) -> int:
    try:
        return int(raw)
    except ValueError as err:
        raise SettingsError(f"{name} must be a whole number") from err


def _hours(raw: str) -> float:
    try:
        return float(raw)
    except ValueError as err:
        raise SettingsError("ZONECASE_TOKEN_MAX_HOURS must be a number of hours") from err


RATE_VARIABLES = {
    "rate_limit_public": "ZONECASE_RATE_LIMIT_PUBLIC",
    "rate_limit_objections": "ZONECASE_RATE_LIMIT_OBJECTIONS",
    "rate_limit_zone_objections": "ZONECASE_RATE_LIMIT_ZONE_OBJECTIONS",
}


def _switch(raw: str, name: str) -> bool:
    value = raw.strip().lower()
    if value not in ("on", "off", "1", "0", "true", "false", "yes", "no"):
        raise SettingsError(f"{name} must be on or off")
    return value in ("on", "1", "true", "yes")


def _rates(raw: str, name: str) -> str:
    from limits import parse_many

    try:
        parse_many(raw)
    except ValueError as err:
        raise SettingsError(f"{name} must be rates like 5/minute;20/day ({err})") from err
    return raw
