"""Keeps the views current: reads the log in batches, writes rows and tracking in one transaction,
and wakes the requests waiting to read their own writes.

The library's ``ProjectionRunner`` is not used: it needs a subscription (SQLite has none), commits
once per event and its ``wait()`` polls every 100 ms. This runner is prompted after each local save,
listens on PostgreSQL's NOTIFY channel, polls on a timer as well (a lost LISTEN connection must not
stall it), and notifies waiters the moment a batch commits.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from queue import Empty
from typing import Any

from eventsourcing.persistence import Notification, Tracking
from eventsourcing.postgres import PostgresDatastore, PostgresFactory
from eventsourcing.sqlite import SQLiteDatastore, SQLiteFactory
from eventsourcing.utils import Environment

from application.service import ZoneApplication
from projections import VIEWS
from projections.base import (
    PostgresView,
    SQLiteView,
    ViewProjection,
    ZoneFolder,
    process_together,
    track_all_postgres,
)

log = logging.getLogger("zonecase.projections")


class ViewsUnavailableError(Exception):
    """The views did not catch up in time, or a view has stopped on an event."""

    code = "views_unavailable"


@dataclass
class ViewFailure:
    """Where a view stopped: the event it could not process, and why."""

    view: str
    position: int
    zone_id: str
    event_type: str
    error: str

    def as_dict(self) -> dict[str, Any]:
        """As shown by ``/ready``."""
        return {
            "view": self.view,
            "position": self.position,
            "zone_id": self.zone_id,
            "event_type": self.event_type,
            "error": self.error,
        }


def open_views(
    app: ZoneApplication, env: dict[str, str], names: Sequence[str] | None = None
) -> dict[str, ViewProjection]:
    """Constructs the named views (default: all) on the views database described by ``env``, creating
    their tables (or dropping and recreating them when their definition changed)."""
    views = _construct_views(app, env, names)
    for projection in views.values():
        _ensure_current_schema(projection.view)
    return views


def _construct_views(
    app: ZoneApplication, env: dict[str, str], names: Sequence[str] | None = None
) -> dict[str, ViewProjection]:
    factory: Any
    if env["PERSISTENCE_MODULE"] == "eventsourcing.postgres":
        factory = PostgresFactory(Environment("views", env))
        datastore: Any = factory.datastore
        view_class: Any = PostgresView
    else:
        if env.get("SQLITE_DBNAME") == ":memory:":
            env = {**env, "SQLITE_DBNAME": f"file:views-{id(app)}?mode=memory&cache=shared"}
        factory = SQLiteFactory(Environment("views", env))
        datastore = factory.datastore
        view_class = SQLiteView
    assert isinstance(datastore, (PostgresDatastore, SQLiteDatastore))
    out: dict[str, ViewProjection] = {}
    context = {"policy": app.policy, "folder": ZoneFolder(app.events)}
    for name in names or list(VIEWS):
        projection_class = VIEWS[name]
        recorder = view_class(datastore, projection_class.spec)
        recorder.env = env  # so that another process can open the same views
        out[name] = projection_class(recorder, mapper=app.mapper, context=context)
    return out


def _ensure_current_schema(recorder: Any) -> None:
    """Creates the view's tables; if they were made from another definition, drops them first (the
    view is then rebuilt from the log by the runner, as its tracking starts again from zero)."""
    spec = recorder.spec
    with recorder.datastore.transaction(commit=True) as c:
        c.execute(f"CREATE TABLE IF NOT EXISTS {_meta_table(recorder)} (view TEXT PRIMARY KEY, fingerprint TEXT)")
        c.execute(f"SELECT fingerprint FROM {_meta_table(recorder)} WHERE view = " + _param(recorder), (spec.name,))
        row = c.fetchone()
    stored = None if row is None else (row["fingerprint"] if isinstance(row, dict) else row[0])
    if stored != spec.fingerprint:  # also tables made before fingerprints were kept
        if stored == REBUILDING:
            log.warning("view %s was left half rebuilt: dropping it to rebuild from the log", spec.name)
        elif stored is not None:
            log.warning("view %s was built from other tables: dropping it to rebuild from the log", spec.name)
        recorder.drop()
    recorder.create_table()
    if stored != spec.fingerprint:  # written only when it changes: opening views writes nothing
        _set_fingerprint(recorder, spec.fingerprint)


REBUILDING = "rebuilding"  # the fingerprint of a view while a rebuild in several processes fills it


def _set_fingerprint(recorder: Any, fingerprint: str) -> None:
    with recorder.datastore.transaction(commit=True) as c:
        p = _param(recorder)
        c.execute(f"CREATE TABLE IF NOT EXISTS {_meta_table(recorder)} (view TEXT PRIMARY KEY, fingerprint TEXT)")
        c.execute(  # an upsert: two processes may open the same views at once
            f"INSERT INTO {_meta_table(recorder)} (view, fingerprint) VALUES ({p}, {p}) "
            "ON CONFLICT (view) DO UPDATE SET fingerprint = excluded.fingerprint",
            (recorder.spec.name, fingerprint),
        )


def _meta_table(recorder: Any) -> str:
    schema = getattr(recorder.datastore, "schema", None)
    return f'"{schema}".view_meta' if isinstance(recorder, PostgresView) and schema else "view_meta"


def _param(recorder: Any) -> str:
    return "%s" if isinstance(recorder, PostgresView) else "?"


class ViewRunner:
    """One thread that brings every view up to the end of the log, batch by batch."""

    def __init__(
        self,
        app: ZoneApplication,
        views: dict[str, ViewProjection],
        *,
        batch_size: int = 500,
        poll_interval: float = 1.0,
        listen: bool = True,
    ) -> None:
        self.app = app
        self.views = views
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.positions: dict[str, int] = {}
        self.failures: dict[str, ViewFailure] = {}
        self._prompt = threading.Event()
        self._stop = threading.Event()
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None
        self._listener: threading.Thread | None = None
        self._listen = listen and app.env.get("PERSISTENCE_MODULE") == "eventsourcing.postgres"
        self.listening = False

    # --- lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        """Starts processing in the background (and listening, on PostgreSQL)."""
        for name, projection in self.views.items():
            self.positions[name] = projection.view.max_tracking_id(projection.application_name) or 0
        self.app.save_listeners.append(self._on_saved)
        self._thread = threading.Thread(target=self._loop, name="zonecase-views", daemon=True)
        self._thread.start()
        if self._listen:
            self._listener = threading.Thread(target=self._listen_loop, name="zonecase-views-listen", daemon=True)
            self._listener.start()

    def stop(self) -> None:
        """Stops the threads."""
        self._stop.set()
        self._prompt.set()
        if self._on_saved in self.app.save_listeners:
            self.app.save_listeners.remove(self._on_saved)
        for thread in (self._thread, self._listener):
            if thread is not None:
                thread.join(timeout=10)

    def _on_saved(self, position: int) -> None:
        self._prompt.set()

    def _advance(self, name: str, position: int) -> None:
        # positions only move forward
        if position > self.positions.get(name, 0):
            self.positions[name] = position

    # --- waiting for the views ----------------------------------------------------------------

    def wait_for(self, position: int | None, timeout: float = 5.0) -> None:
        """Returns once every view has processed ``position``; raises ViewsUnavailableError otherwise."""
        if position is None:
            return
        self._prompt.set()
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                if self.failures:
                    failure = next(iter(self.failures.values()))
                    raise ViewsUnavailableError(
                        f"The {failure.view} view stopped on event {failure.position} ({failure.event_type}); "
                        "the change was recorded, but it cannot be shown until the view is repaired."
                    )
                if all(p >= position for p in self.positions.values()):
                    return
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise ViewsUnavailableError(
                        f"The views did not catch up with the change (position {position}) within {timeout:g} s; "
                        "it was recorded. Read it again shortly."
                    )
                self._changed.wait(remaining)

    def status(self) -> dict[str, Any]:
        """Per view: position, lag behind the log, and where it stopped if it did."""
        head = self.app.recorder.max_notification_id() or 0
        return {
            "head": head,
            "listening": self.listening,
            "views": {
                name: {
                    "position": self.positions.get(name, 0),
                    "lag": head - self.positions.get(name, 0),
                    "failed": self.failures[name].as_dict() if name in self.failures else None,
                }
                for name in self.views
            },
        }

    # --- processing ---------------------------------------------------------------------------

    def run_once(self) -> int:
        """Processes one batch for every view that is behind; returns how many events were read."""
        healthy = {n: p for n, p in self.positions.items() if n not in self.failures}
        if not healthy:
            return 0
        start = min(healthy.values()) + 1
        notifications = self.app.recorder.select_notifications(start=start, limit=self.batch_size)
        if not notifications:
            return 0
        events = [(n, self.app.mapper.to_domain_event(n)) for n in notifications]
        level = [name for name, p in healthy.items() if p == start - 1]
        if len(level) > 1 and self._together(level, events):
            healthy = {n: p for n, p in healthy.items() if n not in level}
        for name in healthy:
            pending = [(n, e) for n, e in events if n.id > self.positions[name]]
            if pending:
                self._process(name, pending)
        with self._changed:
            self._changed.notify_all()
        return len(notifications)

    def _together(self, names: list[str], events: list[tuple[Notification, Any]]) -> bool:
        """The views at the same position, in one transaction; False (nothing written) if any fails."""
        projections = [self.views[n] for n in names]
        try:
            process_together(
                projections,
                [e for _, e in events],
                Tracking(ViewProjection.application_name, events[-1][0].id),
                [n.id for n, _ in events],
            )
        except Exception:
            for projection in projections:
                projection.reset()
            for name in names:
                self._caught_up_elsewhere(name)
            return False  # each view then goes alone, so that the failing one is found and named
        for name in names:
            self._advance(name, events[-1][0].id)
        return True

    def _caught_up_elsewhere(self, name: str) -> int:
        """The view's tracked position (another process keeping the same views may have moved it on)."""
        projection = self.views[name]
        tracked = projection.view.max_tracking_id(projection.application_name) or 0
        if tracked > self.positions[name]:
            self.positions[name] = tracked
        return self.positions[name]

    def _process(self, name: str, pending: list[tuple[Notification, Any]]) -> None:
        projection = self.views[name]
        app_name = projection.application_name
        try:
            projection.process_batch(
                [e for _, e in pending],
                Tracking(app_name, pending[-1][0].id),
                [n.id for n, _ in pending],
            )
            self._advance(name, pending[-1][0].id)
            return
        except Exception:
            projection.reset()
        position = self._caught_up_elsewhere(name)
        # Find the event that fails: one at a time, each committed with its own tracking.
        for notification, event in pending:
            if notification.id <= position:
                continue
            try:
                projection.process_batch([event], Tracking(app_name, notification.id), [notification.id])
            except Exception as e:
                projection.reset()
                if self._caught_up_elsewhere(name) >= notification.id:
                    continue  # another process recorded it meanwhile: exactly once, not a failure
                failure = ViewFailure(
                    name,
                    notification.id,
                    str(notification.originator_id),
                    type(event).__name__,
                    f"{type(e).__name__}: {e}",
                )
                self.failures[name] = failure
                log.error(
                    "view %s stopped on event %s (zone %s, %s): %s",
                    name,
                    failure.position,
                    failure.zone_id,
                    failure.event_type,
                    failure.error,
                )
                return
            self._advance(name, notification.id)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                read = self.run_once()
            except Exception:  # the store is unreachable: try again on the next tick
                log.exception("reading the event log failed")
                read = 0
            if read < self.batch_size:
                self._prompt.wait(self.poll_interval)
                self._prompt.clear()

    def _listen_loop(self) -> None:
        """LISTEN on the event table's channel; reconnects when the connection is lost."""
        from application.store import connect_postgres

        recorder: Any = self.app.recorder
        while not self._stop.is_set():
            try:
                with connect_postgres(self.app.env) as conn:
                    conn.execute(f'LISTEN "{recorder.channel_name}"')
                    self.listening = True
                    while not self._stop.is_set():
                        for _ in conn.notifies(timeout=1.0, stop_after=1):
                            self._prompt.set()
            except Exception:
                log.warning("lost the LISTEN connection; polling every %.1f s until it is back", self.poll_interval)
            finally:
                self.listening = False
            self._stop.wait(1.0)


def rebuild(
    app: ZoneApplication,
    views: dict[str, ViewProjection],
    *,
    batch_size: int = 2000,
    progress: Callable[[int], None] | None = None,
    workers: int = 1,
) -> int:
    """Drops the given views and replays the whole log into them, streaming page by page.

    On PostgreSQL, with ``workers`` > 1, the zones are shared out between that many processes (all the
    events of a zone go to the same one), which write their rows side by side; the views' tracking is
    recorded once every process has finished. Until then the views are marked as being rebuilt, so that
    a rebuild cut short is done again from the log when the views are next opened. Elsewhere, one
    process records tracking with every batch."""
    if workers > 1 and _partitionable(app, views):
        return _rebuild_in_parts(app, views, batch_size, progress, workers)
    _recreate(views)
    position, total = 0, 0
    with _QuietGC() as gc_:
        while True:
            notifications = app.recorder.select_notifications(start=position + 1, limit=batch_size)
            if not notifications:
                return total
            events = (app.mapper.to_domain_event(n) for n in notifications)  # mapped as folded, not held
            tracking = Tracking(ViewProjection.application_name, notifications[-1].id)
            process_together(list(views.values()), events, tracking, [n.id for n in notifications])
            position = notifications[-1].id
            total += len(notifications)
            gc_.tick()
            if progress is not None:
                progress(len(notifications))


def _recreate(views: dict[str, ViewProjection]) -> None:
    for projection in views.values():
        projection.view.drop()
        projection.view.create_table()
        projection.reset()


def default_workers() -> int:
    """Processes for a rebuild on PostgreSQL: one per core, at most four (each reads the whole log)."""
    return max(1, min(4, os.cpu_count() or 1))


class _QuietGC:
    """The cyclic garbage collector off while a rebuild allocates millions of short-lived objects (it
    would walk the zones held in memory again and again), with a full collection every ``every``
    batches so that memory stays flat."""

    def __init__(self, every: int = 50) -> None:
        self.every = every
        self.batches = 0

    def __enter__(self) -> _QuietGC:
        self.was_enabled = gc.isenabled()
        gc.disable()
        return self

    def tick(self) -> None:
        self.batches += 1
        if self.batches % self.every == 0:
            gc.collect()

    def __exit__(self, *exc: object) -> None:
        if self.was_enabled:
            gc.enable()


def _partitionable(app: ZoneApplication, views: dict[str, ViewProjection]) -> bool:
    return hasattr(app.recorder, "select_partition") and all(isinstance(p.view, PostgresView) for p in views.values())


@dataclass(frozen=True)
class _Part:
    """What a rebuilding process needs to open the store and the views by itself."""

    store_env: dict[str, str]
    views_env: dict[str, str]
    names: tuple[str, ...]
    system: Any
    batches: Any
    policy: Any
    part: int
    parts: int
    stop: int
    batch_size: int


def _rebuild_part(job: _Part, ready: Any, report: Callable[[int], None]) -> int:
    """Projects the events of one partition of the zones, up to ``job.stop``, without tracking, once the
    first process has made the tables afresh (``ready``)."""
    app = ZoneApplication(job.store_env, system=job.system, batches=job.batches, policy=job.policy)
    try:
        views = _construct_views(app, job.views_env, job.names)
        if not ready.wait(timeout=300):
            raise TimeoutError("the views' tables were not made afresh in time")
        return _project_part(app, views, job, report)
    finally:
        app.close()


def _project_part(
    app: ZoneApplication, views: dict[str, ViewProjection], job: _Part, report: Callable[[int], None]
) -> int:
    recorder: Any = app.recorder
    after, total = 0, 0
    with _QuietGC() as gc_:
        while after < job.stop:
            upto = min(job.stop, after + job.batch_size * job.parts)
            notifications = recorder.select_partition(after, upto, job.part, job.parts)
            if notifications:
                events = (app.mapper.to_domain_event(n) for n in notifications)  # mapped as folded, not held
                process_together(list(views.values()), events, None, [n.id for n in notifications])
                total += len(notifications)
                report(len(notifications))
                gc_.tick()
            after = upto
    return total


def _part_process(job: _Part, ready: Any, queue: Any) -> None:
    """The entry point of a rebuilding process: reports progress, then its total or its error."""
    try:
        total = _rebuild_part(job, ready, lambda n: queue.put(("progress", job.part, n)))
    except BaseException as e:
        queue.put(("failed", job.part, f"{type(e).__name__}: {e}"))
        raise
    queue.put(("done", job.part, total))


def _rebuild_in_parts(
    app: ZoneApplication,
    views: dict[str, ViewProjection],
    batch_size: int,
    progress: Callable[[int], None] | None,
    workers: int,
) -> int:
    stop = app.recorder.max_notification_id() or 0
    first: Any = next(iter(views.values())).view
    jobs = [
        _Part(
            dict(app.env), first.env, tuple(views), app.system, app.batches, app.policy, part, workers, stop, batch_size
        )
        for part in range(workers)
    ]
    context = multiprocessing.get_context("spawn")  # a fresh interpreter: no inherited connections or threads
    queue, ready = context.Queue(), context.Event()
    processes = [context.Process(target=_part_process, args=(job, ready, queue), daemon=True) for job in jobs[1:]]
    for process in processes:  # they start up while this one makes the tables afresh
        process.start()
    totals: dict[int, int] = {}
    failures: list[str] = []

    def drain(block: bool) -> None:
        while True:
            try:
                kind, part, value = queue.get(timeout=1.0) if block else queue.get_nowait()
            except Empty:
                return
            if kind == "progress" and progress is not None:
                progress(value)
            elif kind == "done":
                totals[part] = value
            elif kind == "failed":
                failures.append(f"part {part}: {value}")
            if block:
                return

    def failed() -> RuntimeError:
        return RuntimeError("the rebuild failed (the views will be rebuilt when next opened): " + "; ".join(failures))

    try:

        def report(n: int) -> None:  # this process does the first part itself
            if progress is not None:
                progress(n)
            drain(block=False)
            if failures:  # no use going on
                raise failed()

        _recreate(views)
        for projection in views.values():
            _set_fingerprint(projection.view, REBUILDING)
        ready.set()
        totals[0] = _project_part(app, views, jobs[0], report)
        while len(totals) < workers and not failures:
            drain(block=True)
            dead = [p for p in processes if p.exitcode not in (None, 0)]
            if dead and len(totals) < workers and not failures:
                drain(block=False)
                if len(totals) < workers and not failures:
                    failures.append(f"a rebuilding process exited with code {dead[0].exitcode}")
        if failures:
            raise failed()
    finally:
        for process in processes:
            if process.is_alive() and (failures or len(totals) < workers):
                process.terminate()
            process.join(timeout=10)
    if stop:
        with first.write(None) as tx:
            track_all_postgres(
                tx.cursor, [p.view for p in views.values()], Tracking(ViewProjection.application_name, stop)
            )
    for projection in views.values():
        _set_fingerprint(projection.view, projection.view.spec.fingerprint)
        projection.reset()
    return sum(totals.values())
