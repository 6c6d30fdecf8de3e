"""The service's machinery: loading a zone, acting on it and saving it exactly once per request."""

from __future__ import annotations

import copy
import json
import threading
import time
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from datetime import datetime
from typing import Any
from typing import TypedDict
from typing import TypeVar
from typing import cast
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.application import Application
from eventsourcing.application import LRUCache
from eventsourcing.application import Repository
from eventsourcing.domain import Aggregate
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.domain import MutableOrImmutableAggregate
from eventsourcing.persistence import ApplicationRecorder
from eventsourcing.persistence import IntegrityError
from eventsourcing.persistence import Notification
from eventsourcing.persistence import Recording

from application.clock import Clock
from application.clock import SystemClock
from application.outage import on_lost
from application.outage import patient
from application.representation import shown_zone
from application.store import IdempotencyRecord
from application.store import MemoryRecorder
from application.store import SideTables
from application.workdays import ChineseWorkingDays
from application.workdays import OverridableCalendar
from application.workdays import WorkingDayCalendar
from application.workdays import nth_working_day
from domain.calendar_year import CalendarYear
from domain.calendar_year import calendar_year_id
from domain.conditions import Batch
from domain.errors import InvalidValueError
from domain.errors import VersionConflictError
from domain.errors import ZoneNotFoundError
from domain.indicators import IndicatorSystem
from domain.policy import Policy
from domain.values import Actor
from domain.zone import Zone


class PreconditionFailedError(VersionConflictError):
    """The caller's ``If-Match`` version is not the zone's version; nothing was recorded."""

    code = "precondition_failed"


@dataclass(frozen=True)
class Idempotency:
    """A command sent with an ``Idempotency-Key``: its answer is stored with its events, atomically."""

    principal: str
    key: str
    request_hash: str
    status: int
    role: str

    def record(self, body: dict[str, Any]) -> IdempotencyRecord:
        """What the store keeps for a replay."""
        return IdempotencyRecord(
            self.principal, self.key, self.request_hash, self.status, json.dumps(body, ensure_ascii=False)
        )


class Options(TypedDict, total=False):
    """How a command on an existing zone is run: the version the caller saw, and its idempotency key."""

    expected_version: int | None
    idempotency: Idempotency | None


Act = Callable[[Zone, datetime], None]


def expect_version(what: str, version: int, expected: int | None) -> None:
    """Refuses (412) when the caller saw another version of the ``what`` than the one stored."""
    if expected is not None and version != expected:
        raise PreconditionFailedError(
            f"The {what} is at version {version}, not {expected}: someone else changed it. Reload it and try again.",
            current_version=version,
        )


T = TypeVar("T")


def replayed(aggregate: Any, events: Iterable[Any]) -> Any:
    """The library's ``project_aggregate`` without its per-event ``isinstance`` check against a runtime protocol,
    which costs more than applying the event: every stored event here is a ``Chained.Event``."""
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate


def kept_unchanged(cache: Any) -> Callable[[Any, Iterable[Any]], Any]:
    """``replayed`` for the repository's ``cache``, copy-on-write. The repository brings an aggregate it keeps up to
    date in place, under a lock of its own, and copies it for its caller after releasing that lock: a copy taken
    while another thread was bringing the same aggregate up to date could hold half of an event. Here a kept
    aggregate is never changed: the new events are applied to a copy, which replaces it in ``cache`` (unless the
    cache let it go meanwhile or keeps a copy as fresh already)."""

    def project(aggregate: Any, events: Iterable[Any]) -> Any:
        if aggregate is None:  # a first load: the repository keeps what this returns, unchanged from then on
            return replayed(None, events)
        fresh = None
        for event in events:
            fresh = event.mutate(copy.deepcopy(aggregate) if fresh is None else fresh)
        if fresh is None:
            return aggregate
        try:
            kept = cache.get(fresh.id)
        except KeyError:  # evicted meanwhile (the cache is bounded): nothing to replace
            return fresh
        if kept.version < fresh.version:  # another thread may have kept a fresher copy meanwhile
            cache.put(fresh.id, fresh)
        return fresh

    return project


def retried_once(attempt: Callable[[], T], twice: str) -> T:
    """``attempt()`` (load, act, save); a concurrent write is retried once on fresh state, then reported."""
    try:
        return attempt()
    except IntegrityError:
        pass
    try:
        return attempt()
    except IntegrityError:
        raise VersionConflictError(f"{twice}; nothing was recorded. Try again.") from None


class KeptUnchangedRepository(Repository[UUID]):
    """The library's repository, except that the aggregates it keeps are never changed in place: every ``get``
    replays through ``kept_unchanged``, whatever projector its caller names (one that changed a kept aggregate in
    place would bring the race back)."""

    def get(
        self,
        aggregate_id: UUID,
        *,
        version: int | None = None,
        projector_func: Any = None,
        fastforward_skipping: bool = False,
        deepcopy_from_cache: bool = True,
    ) -> Any:
        return super().get(
            aggregate_id,
            version=version,
            projector_func=kept_unchanged(self.cache),
            fastforward_skipping=fastforward_skipping,
            deepcopy_from_cache=deepcopy_from_cache,
        )


class Activity:
    """The commands in flight in this process, so that background work (the views) can wait for a quiet moment
    rather than compete with them for the interpreter and the store."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running = 0
        self._last_done = 0.0

    @contextmanager
    def command(self) -> Iterator[None]:
        """Counts a command as in flight while the block runs."""
        with self._lock:
            self._running += 1
        try:
            yield
        finally:
            with self._lock:
                self._running -= 1
                self._last_done = time.monotonic()

    def quiet_for(self) -> float:
        """Seconds since the last command ended, or 0.0 while one is running."""
        with self._lock:
            return 0.0 if self._running else time.monotonic() - self._last_done


class ZoneCore(Application[UUID]):
    """What every command goes through: load, act, save once (with its idempotency record), retry once."""

    def __init__(
        self,
        env: dict[str, str] | None = None,
        *,
        clock: Clock | None = None,
        system: IndicatorSystem,
        batches: dict[str, Batch],
        policy: Policy | None = None,
        calendar: WorkingDayCalendar | None = None,
        document_exists: Callable[[str], bool] | None = None,
    ) -> None:
        super().__init__(env)
        self.clock = clock or SystemClock()
        self.system = system
        self.systems = {system.version: system}
        self.batches = batches
        self.policy = policy or Policy()
        self.calendar = OverridableCalendar(calendar or ChineseWorkingDays(), self.calendar_override)
        self.document_exists = document_exists
        self.save_listeners: list[Callable[[int], None]] = []
        self.activity = Activity()
        on_lost(getattr(self.recorder, "datastore", None), self.forget_loaded)
        self._local = threading.local()

    def construct_recorder(self) -> ApplicationRecorder:
        """The library's recorder for the store, extended with idempotency keys and document metadata."""
        if self.env.get("PERSISTENCE_MODULE") == "eventsourcing.popo":
            return MemoryRecorder()
        with patient(getattr(self.factory, "datastore", None)):  # creating the tables: the start may wait
            return super().construct_recorder()

    def construct_repository(self) -> Repository[UUID]:
        """The library's repository as its environment configures it (cache, fast-forward, copies), but keeping
        its aggregates unchanged (``KeptUnchangedRepository``)."""
        configured = super().construct_repository()
        repository = KeptUnchangedRepository(
            self.events,
            snapshot_store=self.snapshots,
            fastforward=configured.fastforward,
            fastforward_skipping=configured.fastforward_skipping,
            deepcopy_from_cache=configured.deepcopy_from_cache,
        )
        repository.cache = configured.cache
        return repository

    @property
    def side_tables(self) -> SideTables:
        """Idempotency keys and document metadata, kept beside the events."""
        return cast(SideTables, self.recorder)

    def forget_loaded(self) -> None:
        """Drops the zones kept loaded: after the store was lost it may come back older (a failover to a replica
        behind, a restore), and a kept zone newer than the store would be acted on as if its lost events held."""
        cache = self.repository.cache
        if isinstance(cache, LRUCache):  # a fresh one of the same size (a get under way finishes on the old one)
            self.repository.cache = LRUCache(maxsize=cache.maxsize)

    def save(
        self, *objs: MutableOrImmutableAggregate[UUID] | DomainEventProtocol[UUID] | None, **kwargs: Any
    ) -> list[Recording[UUID]]:
        """Saves, remembers the log position for this thread, and tells the listeners (the view runner)."""
        recordings = super().save(*objs, **kwargs)
        if recordings:
            position = max(r.notification.id for r in recordings)
            self._local.position = position
            for listener in list(self.save_listeners):
                listener(position)
        return recordings

    def answer(self, zone: Zone, role: str) -> dict[str, Any]:
        """The zone as a command's caller with ``role`` is shown it, deadlines flagged against the clock."""
        return shown_zone(zone, self.policy, role, self.clock.now())

    def last_position(self) -> int | None:
        """The log position of the last events this thread saved (for read-your-writes)."""
        return getattr(self._local, "position", None)

    def forget_position(self) -> None:
        """Clears this thread's remembered position (a new request begins)."""
        self._local.position = None

    # --- plumbing -----------------------------------------------------------------------------

    def get_zone(self, zone_id: UUID) -> Zone:
        """The zone's current state, rebuilt from its events."""
        try:
            zone: Any = self.repository.get(zone_id)
        except AggregateNotFoundError:
            raise ZoneNotFoundError(f"No zone {zone_id}.") from None
        if not isinstance(zone, Zone):  # a call or a calendar year: chained records beside the zones
            raise ZoneNotFoundError(f"No zone {zone_id}.")
        return zone

    def run(
        self,
        zone_id: UUID,
        act: Act,
        *,
        expected_version: int | None = None,
        idempotency: Idempotency | None = None,
        answer: Callable[[Zone], dict[str, Any]] | None = None,
        side: dict[str, Any] | None = None,
    ) -> Zone:
        """Loads, acts, saves; a concurrent write is retried once on fresh state, then reported.

        With ``idempotency`` the answer (``answer(zone)``, by default the zone as its caller sees it) is
        stored in the same transaction as the events; so are the ``side`` records (an objector's sealed identity)."""

        def attempt() -> Zone:
            zone = self.get_zone(zone_id)
            expect_version("zone", zone.version, expected_version)
            act(zone, self.clock.now())
            self._save_with(zone, idempotency, answer, side=side)
            return zone

        return retried_once(attempt, "The zone was changed by someone else at the same moment, twice")

    def _save_with(
        self,
        zone: Zone,
        idempotency: Idempotency | None,
        answer: Callable[[Zone], dict[str, Any]] | None,
        *others: Aggregate,
        side: dict[str, Any] | None = None,
    ) -> None:
        """Saves ``others`` (the call a new zone opens a case in) and the zone in one transaction."""
        if idempotency is None:
            self.save(*others, zone, **(side or {}))
            return
        body = answer(zone) if answer is not None else self.answer(zone, idempotency.role)
        self.save(*others, zone, idempotency=idempotency.record(body), **(side or {}))

    def notifications_of(self, topic: str) -> Iterator[Notification]:
        """The log's events of one topic (e.g. every zone's ``Applied``), in log order."""
        start = 1
        while True:
            page = self.recorder.select_notifications(start=start, limit=500, topics=[topic])
            yield from page
            if len(page) < 500:
                return
            start = page[-1].id + 1

    def _system_for(self, zone: Zone) -> IndicatorSystem:
        try:
            return self.systems[zone.indicator_system]
        except KeyError:
            raise InvalidValueError(f"Indicator system {zone.indicator_system} is not loaded.") from None

    def _check_documents(self, refs: list[dict[str, Any]] | None, field: str) -> None:
        if self.document_exists is None or not refs:
            return
        unknown = [
            {"loc": [field, i, "sha256"], "msg": "no document with this hash has been uploaded"}
            for i, ref in enumerate(refs)
            if isinstance(ref, dict) and isinstance(ref.get("sha256"), str) and not self.document_exists(ref["sha256"])
        ]
        if unknown:
            raise InvalidValueError(f"{field} references documents that were never uploaded.", unknown)

    # --- the working-day calendar ---------------------------------------------------------------

    def find(self, aggregate_id: UUID, kind: type[T]) -> T | None:
        """The aggregate with this id if it is a ``kind``, or None."""
        try:
            found: Any = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None
        return found if isinstance(found, kind) else None

    def calendar_override(self, year: int) -> CalendarYear | None:
        """The calendar the bureau entered for ``year``, if any."""
        return self.find(calendar_year_id(year), CalendarYear)

    def enter_calendar(self, actor: Actor, *, year: int, **entry: Any) -> CalendarYear:
        """The bureau enters (or corrects, with a reason) a year's ``holidays`` and adjusted ``working_days``,
        naming their ``source``."""
        existing = self.calendar_override(year)
        if existing is None:
            entered = CalendarYear.enter(actor=actor, at=self.clock.now(), year=year, **entry)
        else:
            existing.correct(actor=actor, at=self.clock.now(), **entry)
            entered = existing
        try:
            self.save(entered)
        except IntegrityError:
            raise VersionConflictError("The calendar was changed at the same moment; nothing was recorded.") from None
        return entered

    def notice_period(self, starts_on: date, working_days: int | None = None) -> tuple[date, int]:
        """The notice's last day: the N-th working day counting ``starts_on`` (default N from policy)."""
        n = self.policy.notice_working_days if working_days is None else working_days
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= 60:
            raise InvalidValueError("working_days must be 1 to 60.", [{"loc": ["working_days"], "msg": "1..60"}])
        return nth_working_day(self.calendar.pinned(), starts_on, n), n
