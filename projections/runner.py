"""Keeps the views current: reads the log in batches, writes rows and tracking in one transaction,
and wakes the requests waiting to read their own writes.

The library's ``ProjectionRunner`` is not used: it needs a subscription (SQLite has none), commits
once per event and its ``wait()`` polls every 100 ms. This runner is prompted after each local save,
listens on PostgreSQL's NOTIFY channel, polls on a timer as well (a lost LISTEN connection must not
stall it), and notifies waiters the moment a batch commits.

Commands come first: once prompted, the runner waits for a moment with no command in flight in this process
(``QUIET_SECONDS``), at most ``MAX_DELAY_SECONDS`` — unless a request is waiting to read its own write, which
it serves at once. Waiting also gathers the events of several commands into one batch.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import asdict
from dataclasses import dataclass
from typing import Any

from eventsourcing.persistence import Notification
from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresDatastore
from eventsourcing.postgres import PostgresFactory
from eventsourcing.sqlite import SQLiteDatastore
from eventsourcing.sqlite import SQLiteFactory
from eventsourcing.utils import Environment

from application.outage import patient
from application.service import ZoneApplication
from projections import VIEWS
from projections.base import ViewProjection
from projections.base import ZoneFolder
from projections.base import process_together
from projections.storage import PostgresView
from projections.storage import SQLiteView
from projections.storage import Tx
from projections.storage import ensure_current_schema

log = logging.getLogger("zonecase.projections")

QUIET_SECONDS = 0.005  # no command for this long: the views run
MAX_DELAY_SECONDS = 0.05  # however busy the commands keep the process, the views run this soon after a prompt
STOP_WITHIN_SECONDS = 0.2  # the listener, waiting for a notification, looks this often whether it should stop


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
        return asdict(self)


def open_views(
    app: ZoneApplication, env: dict[str, str], names: Sequence[str] | None = None
) -> dict[str, ViewProjection]:
    """Constructs the named views (default: all) on the views database described by ``env``, creating
    their tables (or dropping and recreating them when their definition changed)."""
    views = construct_views(app, env, names)
    with patient(*(p.view.datastore for p in views.values())):  # at start: the store may be slow for a moment
        for projection in views.values():
            ensure_current_schema(projection.view)
    return views


def construct_views(
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
        quiet: float = QUIET_SECONDS,
        max_delay: float = MAX_DELAY_SECONDS,
    ) -> None:
        self.app = app
        self.views = views
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.positions: dict[str, int] = {}
        # the position of the latest event the runner has read, per module of its topic (``domain.call``…): what
        # a public answer computed from the store itself (the calls) is keyed by (api.public_cache)
        self.latest_of: dict[str, int] = {}
        self.head_at_start = 0
        self.failures: dict[str, ViewFailure] = {}
        self.quiet = quiet
        self.max_delay = max_delay
        self._prompt = threading.Event()
        self._urgent = threading.Event()  # a request waits for the views
        self._stop = threading.Event()
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None
        self._listener: threading.Thread | None = None
        self._listen = listen and app.env.get("PERSISTENCE_MODULE") == "eventsourcing.postgres"
        self.listening = False

    # --- lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        """Starts processing in the background (and listening, on PostgreSQL)."""
        with patient(getattr(self.app.recorder, "datastore", None), *(p.view.datastore for p in self.views.values())):
            for name, projection in self.views.items():
                self.positions[name] = projection.view.max_tracking_id(projection.application_name) or 0
            # what ``latest_of`` stands for before the runner has read a later event of a kind: the log's head at
            # start (the latest event of each kind is at or before it), so that a key made of it never repeats
            # across restarts
            self.head_at_start = self.app.recorder.max_notification_id() or 0
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
        self._urgent.set()
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

    # --- reading ------------------------------------------------------------------------------

    def read(self, name: str) -> AbstractContextManager[Tx]:
        """The one door into the read side: a read transaction on the view ``name``."""
        reading: AbstractContextManager[Tx] = self.views[name].view.read()
        return reading

    # --- waiting for the views ----------------------------------------------------------------

    def wait_for(self, position: int | None, timeout: float = 5.0, views: Sequence[str] | None = None) -> None:
        """Returns once every view (or each of ``views``) has processed ``position``; raises ViewsUnavailableError
        otherwise."""
        if position is None:
            return
        names = list(self.views) if views is None else list(views)
        if all(self.positions.get(n, 0) >= position for n in names) and not any(n in self.failures for n in names):
            return
        self._urgent.set()
        self._prompt.set()
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                failed = [self.failures[n] for n in names if n in self.failures]
                if failed:
                    failure = failed[0]
                    raise ViewsUnavailableError(
                        f"The {failure.view} view stopped on event {failure.position} ({failure.event_type}); "
                        "the change was recorded, but it cannot be shown until the view is repaired."
                    )
                if all(self.positions.get(n, 0) >= position for n in names):
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
        for n in notifications:
            self.latest_of[n.topic.partition(":")[0]] = n.id
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
            self._urgent.clear()  # before the batch: a reader arriving during it stays urgent for the next one
            try:
                read = self.run_once()
            except Exception:  # the store is unreachable: try again on the next tick
                log.exception("reading the event log failed")
                read = 0
            if read < self.batch_size:
                if self._prompt.wait(self.poll_interval):
                    self._prompt.clear()
                    self._settle()

    def _settle(self) -> None:
        """Waits for a moment with no command in flight (at most ``max_delay``), unless a reader is waiting."""
        activity = self.app.activity
        deadline = time.monotonic() + self.max_delay
        while not self._urgent.is_set():
            quiet = activity.quiet_for()
            left = deadline - time.monotonic()
            if quiet >= self.quiet or left <= 0:
                return
            self._urgent.wait(min(left, self.quiet - quiet if quiet else self.quiet))

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
                        for _ in conn.notifies(timeout=STOP_WITHIN_SECONDS, stop_after=1):
                            self._prompt.set()
            except Exception:
                log.warning("lost the LISTEN connection; polling every %.1f s until it is back", self.poll_interval)
            finally:
                self.listening = False
            self._stop.wait(1.0)
