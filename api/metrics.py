"""``GET /metrics`` in the Prometheus text format (prometheus-client), for the bureau and inspectors only.

Two sources. What a process counts as it runs — request latencies, commands by outcome, the scheduler's sweeps —
lives in prometheus-client metrics: on a registry of the application's own, or, when ``PROMETHEUS_MULTIPROC_DIR``
is set, in that directory's files, which every process of the host writes and any serving process's ``/metrics``
adds up (prometheus-client's multiprocess mode). What the store knows — events by type, the log's head, each view's
position, lag and state, the latest signed checkpoint, the documents' bytes — is read at scrape time
(``StoreCollector``): every process answers the same, and a restart loses nothing.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any

from fastapi import APIRouter
from fastapi import Request
from fastapi import Response
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client import CollectorRegistry
from prometheus_client import Counter
from prometheus_client import Histogram
from prometheus_client import generate_latest
from prometheus_client.core import CounterMetricFamily
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.core import Metric
from prometheus_client.multiprocess import MultiProcessCollector

from api.deps import Roles
from application.store import events_by_topic
from scheduler.metrics import SchedulerMetrics

MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


class Metrics:
    """One process's metrics: the requests it answered and the commands it ran (and its scheduler's, if any)."""

    def __init__(self, multiproc_dir: str | None = None) -> None:
        self.registry = CollectorRegistry()
        self.multiprocess = bool(multiproc_dir)
        own = None if self.multiprocess else self.registry  # multiprocess: values go to the shared files
        if self.multiprocess:
            MultiProcessCollector(self.registry, path=multiproc_dir)  # type: ignore[no-untyped-call]
        self.requests = Histogram(
            "zonecase_http_request_duration_seconds",
            "Request latency by route template, method and status",
            ["method", "route", "status"],
            registry=own,
            buckets=LATENCY_BUCKETS,
        )
        self.commands = Counter(
            "zonecase_commands",
            "Commands by type and outcome: ok, or the refusal's problem code",
            ["command", "outcome"],
            registry=own,
        )
        self._own = own

    @cached_property
    def scheduler(self) -> SchedulerMetrics:
        """The scheduler's metrics, made when this process runs a scheduler (a process that does not shows none)."""
        return SchedulerMetrics(self._own)

    @classmethod
    def from_env(cls) -> Metrics:
        """Multiprocess mode when ``PROMETHEUS_MULTIPROC_DIR`` names a directory (prometheus-client's own switch)."""
        return cls(os.environ.get(MULTIPROC_DIR) or None)

    def close(self) -> None:
        """The process ends: in multiprocess mode its live gauges (the scheduler's leader flag) leave the files."""
        if self.multiprocess:
            from prometheus_client import multiprocess

            multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]

    def watch(self, app: Any) -> None:
        """Adds the figures read from ``app``'s store at every scrape."""
        self.registry.register(StoreCollector(app))


def _seconds_since(now: datetime, then: datetime) -> float:
    return max(0.0, (now - then).total_seconds())


class StoreCollector:
    """The figures read from the store and the views at scrape time."""

    def __init__(self, app: Any) -> None:
        self.app = app  # the FastAPI application: its services are built at start-up

    def describe(self) -> list[Metric]:
        return []  # computed at scrape time: nothing to check at registration

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("zonecase_store_up", "1 when the event store answered this scrape")
        c = getattr(self.app.state, "container", None)
        if c is None:
            up.add_metric([], 0)
            yield up
            return
        try:
            families = list(self._from_store(c))
        except Exception:  # the store is down: say so, and still answer the process's own figures
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families
        yield from self._documents()

    def _from_store(self, c: Any) -> Iterator[Metric]:
        recorder, now = c.app.recorder, c.clock.now()
        head = recorder.max_notification_id() or 0
        yield GaugeMetricFamily("zonecase_log_head", "Log position of the last recorded event", value=head)
        events = CounterMetricFamily(
            "zonecase_events_recorded", "Events in the log by type (counted in the store)", labels=["type"]
        )
        for topic, n in sorted(events_by_topic(recorder).items()):
            events.add_metric([topic.rpartition(":")[2]], n)
        yield events
        yield from self._views(c, head, now)
        latest = c.app.side_tables.latest_checkpoint()
        age = GaugeMetricFamily("zonecase_checkpoint_age_seconds", "Age of the latest signed tree head")
        size = GaugeMetricFamily("zonecase_checkpoint_tree_size", "Events covered by the latest signed tree head")
        if latest is not None:
            age.add_metric([], _seconds_since(now, datetime.fromisoformat(latest.issued_at)))
            size.add_metric([], latest.tree_size)
        yield age
        yield size

    def _views(self, c: Any, head: int, now: datetime) -> Iterator[Metric]:
        position = GaugeMetricFamily("zonecase_view_position", "Last log position the view processed", labels=["view"])
        lag = GaugeMetricFamily("zonecase_view_lag_events", "Events the view has not processed yet", labels=["view"])
        lag_s = GaugeMetricFamily(
            "zonecase_view_lag_seconds",
            "Age of the oldest event the view has not processed (0: current)",
            labels=["view"],
        )
        running = GaugeMetricFamily(
            "zonecase_view_running", "1 while the view runs, 0 once it stopped", labels=["view"]
        )
        stopped = GaugeMetricFamily(
            "zonecase_view_stopped_position",
            "Where a stopped view stopped: the failing event's log position and type",
            labels=["view", "event_type"],
        )
        views = c.runner.status()["views"] if c.runner is not None else {}
        for name, v in views.items():
            position.add_metric([name], v["position"])
            lag.add_metric([name], v["lag"])
            seconds = 0.0
            if v["lag"] > 0:
                pending = c.app.recorder.select_notifications(start=v["position"] + 1, limit=1)
                if pending:
                    recorded_at = c.app.mapper.transcoder.decode(pending[0].state)["timestamp"]
                    seconds = _seconds_since(now, recorded_at)
            lag_s.add_metric([name], seconds)
            running.add_metric([name], 0 if v["failed"] else 1)
            if v["failed"]:
                stopped.add_metric([name, v["failed"]["event_type"]], v["failed"]["position"])
        yield from (position, lag, lag_s, running, stopped)

    def _documents(self) -> Iterator[Metric]:
        root: Path = self.app.state.documents.root
        files, size = 0, 0
        for folder in root.iterdir() if root.is_dir() else ():
            if folder.is_dir():
                for f in os.scandir(folder):
                    if f.is_file() and not f.name.startswith("."):
                        files, size = files + 1, size + f.stat().st_size
        yield GaugeMetricFamily("zonecase_documents_bytes", "Bytes in the document store", value=size)
        yield GaugeMetricFamily("zonecase_documents", "Files in the document store", value=files)


router = APIRouter(tags=["operations"])


@router.get("/metrics", include_in_schema=False, dependencies=[Roles("bureau", "inspector")])
def metrics(request: Request) -> Response:
    """The Prometheus text format; a bureau or inspector token (the figures are not public)."""
    registry: CollectorRegistry = request.app.state.metrics.registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
