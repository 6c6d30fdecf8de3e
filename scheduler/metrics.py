"""The scheduler's metrics: whether this process sweeps, when it last did, what it recorded and how late.

Created per process on a registry (``None`` in prometheus-client's multiprocess mode: the values go to the files
under ``PROMETHEUS_MULTIPROC_DIR``, which every process of one host shares and any serving process's ``/metrics``
reads, so a ``zonecase scheduler`` process is seen through the API's endpoint)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client import Counter
from prometheus_client import Gauge
from prometheus_client import Histogram

LAG_BUCKETS = (1, 10, 60, 300, 900, 3600, 4 * 3600, 86400, 7 * 86400)


class SchedulerMetrics:
    """Leader or standby, the last sweep, deadlines recorded by kind and how long after they fell due."""

    def __init__(self, registry: CollectorRegistry | None) -> None:
        self.leader = Gauge(
            "zonecase_scheduler_leader",
            "1 while this process holds the sweeper lock (the leader), 0 while it stands by",
            registry=registry,
            multiprocess_mode="liveall",
        )
        self.last_sweep = Gauge(
            "zonecase_scheduler_last_sweep_timestamp_seconds",
            "Unix time of the leader's last completed deadline sweep",
            registry=registry,
            multiprocess_mode="max",
        )
        self.recorded = Counter(
            "zonecase_deadlines_recorded", "Deadline events the sweeps recorded, by kind", ["kind"], registry=registry
        )
        self.lag = Histogram(
            "zonecase_deadline_recording_lag_seconds",
            "How long after it fell due a deadline event was recorded",
            ["kind"],
            registry=registry,
            buckets=LAG_BUCKETS,
        )
        self.last_lag = Gauge(
            "zonecase_deadline_last_recording_lag_seconds",
            "The recording lag of the last deadline the sweeps recorded",
            registry=registry,
            multiprocess_mode="max",
        )

    def swept(self, leader: bool, at: datetime, fired: list[dict[str, Any]]) -> None:
        """One tick: whether this process swept, and what it recorded (each with its ``due_at``) when the
        application's clock read ``at`` (the sweep's own time is the wall clock's: alerts compare it with theirs)."""
        self.leader.set(1 if leader else 0)
        if not leader:
            return
        self.last_sweep.set_to_current_time()
        for f in fired:
            lag = max(0.0, (at - datetime.fromisoformat(f["due_at"])).total_seconds())
            self.recorded.labels(f["kind"]).inc()
            self.lag.labels(f["kind"]).observe(lag)
            self.last_lag.set(lag)
