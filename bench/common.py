"""What the benchmarks share: a private PostgreSQL schema, medians, the last line with the ratio, and a call
for applications open to any town (one organisation holds one open case per call: each zone is a town's)."""

from __future__ import annotations

import os
import statistics
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import sql

from application.sample import BUREAU
from domain.values import Actor

BASE_URL = os.environ.get("ZONECASE_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/zonecase_test")
CALL = "bench"


def open_call(app) -> str:  # type: ignore[no-untyped-def]
    """Publishes (as the bureau) a call any town may apply in, with the full §5 materials; returns its id."""
    app.publish_call(BUREAU, call_id=CALL, name="bench call", creation_period={"start_year": 2021, "end_year": 2023})
    return CALL


def town(n: int) -> Actor:
    """The applicant of the ``n``-th bench zone: a town of its own."""
    return Actor(f"u-town-{n}", "applicant", f"town-{n}", f"Town {n} IT office")


@contextmanager
def private_schema(prefix: str) -> Iterator[str]:
    """A PostgreSQL URL on a fresh schema, dropped afterwards."""
    schema = f"{prefix}_{uuid.uuid4().hex[:8]}"
    try:
        yield f"{BASE_URL}?schema={schema}"
    finally:
        with psycopg.connect(BASE_URL, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


def median_ms(samples: list[float]) -> float:
    """The median of durations in seconds, in milliseconds."""
    return statistics.median(samples) * 1000


def p95_ms(samples: list[float]) -> float:
    """The 95th percentile of durations in seconds, in milliseconds."""
    return statistics.quantiles(samples, n=20)[-1] * 1000
