"""The scheduler: APScheduler runs one recurring sweep job; only the process holding the leader lock
sweeps. APScheduler keeps no state of its own (memory job store): the event log is the truth, and a
sweep on start catches up on everything that fell due while nothing ran."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC
from datetime import datetime
from typing import Any
from typing import Protocol

from apscheduler.schedulers.background import BackgroundScheduler

from application.objectors import retention_sweep
from application.service import ZoneApplication
from application.settings import Settings
from audit.checkpoints import Checkpointer
from projections.runner import ViewRunner
from scheduler.lock import LeaderLock
from scheduler.lock import leader_lock
from scheduler.metrics import SchedulerMetrics
from scheduler.sweep import sweep

log = logging.getLogger("zonecase.scheduler")


class Process(Protocol):
    """What the scheduler uses of the process it runs in."""

    settings: Settings
    app: ZoneApplication
    runner: ViewRunner | None
    checkpoints: Checkpointer | None


class DeadlineScheduler:
    """Sweeps every ``interval`` seconds while this process is the leader; stands by otherwise."""

    def __init__(
        self,
        container: Process,
        *,
        interval: float = 60.0,
        lock: LeaderLock | None = None,
        metrics: SchedulerMetrics | None = None,
    ) -> None:
        self.container = container
        self.metrics = metrics
        self.interval = interval
        self.lock = lock or leader_lock(container.settings.persistence_env(), container.settings.data_dir)
        self.scheduler = BackgroundScheduler(timezone="Asia/Shanghai")
        self.sweeps = 0
        self.leader = False
        self.fired: list[dict[str, Any]] = []
        self._running = threading.Lock()

    def start(self) -> None:
        """Starts the jobs; each runs once at once (catch-up), then on its interval."""
        self._every(self.tick, "deadline-sweep", seconds=self.interval)
        if self.container.checkpoints is not None:
            self._every(self.sign, "checkpoint", hours=1)
        self._every(self.erase_due, "objector-retention", hours=1)
        self.scheduler.start()

    def _every(self, job: Callable[[], object], name: str, **interval: float) -> None:
        """Adds ``job`` to run now and then every ``interval``, one run at a time; missed runs fold into one."""
        self.scheduler.add_job(
            job,
            "interval",
            **interval,
            next_run_time=datetime.now(UTC),
            id=name,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
        )

    def stop(self) -> None:
        """Stops sweeping and lets another process take over."""
        self.scheduler.shutdown(wait=True)
        self.lock.release()

    def sign(self) -> None:
        """The hourly signed tree head, by the lock holder."""
        if self.container.checkpoints is None or not self.app_has_events() or not self.lock.acquire():
            return
        try:
            checkpoint = self.container.checkpoints.sign("hourly")
            log.info("tree head %s signed (root %s)", checkpoint.tree_size, checkpoint.root_hash)
        except Exception:
            log.exception("signing the hourly tree head failed")

    def erase_due(self) -> list[dict[str, Any]]:
        """The hourly retention sweep (PIPL), by the lock holder: erases the objectors whose retention ran out."""
        if not self.lock.acquire():
            return []
        try:
            erased = retention_sweep(self.container.app)
        except Exception:
            log.exception("the objectors' retention sweep failed; it runs again in an hour")
            return []
        for e in erased:
            log.info("objector of objection %s on zone %s erased (%s)", e["objection_id"], e["zone_id"], e["reason"])
        return erased

    def app_has_events(self) -> bool:
        """Whether there is a log to sign."""
        return bool(self.container.app.recorder.max_notification_id())

    def tick(self) -> list[dict[str, Any]]:
        """One sweep if this process holds the lock."""
        with self._running:
            self.leader = self.lock.acquire()
            if not self.leader:
                if self.metrics is not None:
                    self.metrics.swept(False, self.container.app.clock.now(), [])
                return []
            try:
                fired = sweep(self.container.app, self.container.runner)
            except Exception:
                log.exception("the deadline sweep failed; it runs again at the next tick")
                return []
            if self.metrics is not None:
                self.metrics.swept(True, self.container.app.clock.now(), fired)
            self.sweeps += 1
            self.fired.extend(fired)
            for f in fired:
                log.info("deadline %s of zone %s recorded (due %s)", f["key"], f["zone_id"], f["due_at"])
            return fired
