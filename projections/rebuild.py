"""Rebuilding views from the whole log: in one process, or on PostgreSQL in several sharing out the zones."""

from __future__ import annotations

import gc
import multiprocessing
import os
from collections.abc import Callable
from dataclasses import dataclass
from queue import Empty
from typing import Any

from eventsourcing.persistence import Tracking

from application.service import ZoneApplication
from projections.base import ViewProjection
from projections.base import process_together
from projections.runner import construct_views
from projections.storage import REBUILDING
from projections.storage import PostgresView
from projections.storage import set_fingerprint
from projections.storage import track_all_postgres


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
        views = construct_views(app, job.views_env, job.names)
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
            set_fingerprint(projection.view, REBUILDING)
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
        set_fingerprint(projection.view, projection.view.spec.fingerprint)
        projection.reset()
    return sum(totals.values())
