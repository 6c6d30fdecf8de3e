"""Rebuild every view from N events (100 k and 1 M) against the raw mapped read of the same log in the
same run (PostgreSQL). Targets: rebuild ≥ 0.5× raw; peak memory at 1 M ≤ 1.25× at 100 k. Prints the
ratios last.

    .venv/bin/python -m bench.rebuild [--sizes 100000 1000000]

Each measurement runs in a process of its own, so that its peak resident memory is its own.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from tempfile import mkdtemp
from uuid import uuid4

from application.sample import ANNUAL_STATISTICS
from application.sample import ASSESSMENT_STATISTICS
from application.sample import BUREAU
from application.sample import EXPERTS
from application.sample import FULL_MATERIALS
from application.sample import GOOD_PLAN
from application.sample import GOOD_STATISTICS
from application.sample import LEADING
from application.sample import PUBLIC
from application.sample import at
from application.sample import doc
from application.sample import full_scores
from application.settings import Settings
from bench.common import open_call
from bench.common import private_schema
from bench.common import town
from domain.conditions import Batch
from domain.values import Actor
from domain.zone import Zone
from projections.rebuild import default_workers
from zonecase.wiring import build


def zone_stream(app, start, batch: Batch, applicant: Actor) -> Zone:  # type: ignore[no-untyped-def]
    """One zone's whole life: 22 events, from application to a passed review and its renewal by announcement
    (written raw, without the case record on its call: each zone is a town's own, so no town holds two open
    cases in the call)."""
    t = start
    step = timedelta(days=2)
    z = Zone.file_application(
        zone_id=uuid4(),
        actor=applicant,
        at=t,
        name="集聚区",
        area_type="town",
        sites=[{"name": "core"}],
        batch=batch,
        materials=FULL_MATERIALS,
        self_assessment={"statistics": GOOD_STATISTICS},
        plan=GOOD_PLAN,
        system=app.system,
    )
    z.formal_review(
        actor=BUREAU,
        at=(t := t + step),
        outcome="accepted",
        reasons="",
        batch=batch,
        system=app.system,
        policy=app.policy,
    )
    z.request_assessment(
        actor=applicant,
        at=(t := t + step),
        summary="targets reached",
        statistics=ASSESSMENT_STATISTICS,
        documents=[doc("assessment-application.pdf")],
        system=app.system,
    )
    z.decide_assessment_request(actor=BUREAU, at=(t := t + step), outcome="accepted")
    z.appoint_panel(
        actor=BUREAU,
        at=(t := t + step),
        experts=[{"sub": e.sub, "name": e.name} for e in EXPERTS],
        methods=["site_visit"],
        policy=app.policy,
    )
    for e in EXPERTS:
        z.file_scores(actor=e, at=(t := t + step), scores=full_scores(), comment="", system=app.system)
    z.conclude_assessment(
        actor=BUREAU,
        at=(t := t + step),
        passed=True,
        report=doc("r.pdf"),
        reasons="ok",
        system=app.system,
        policy=app.policy,
    )
    day = (t + step).astimezone().date()
    z.publish_notice(
        actor=BUREAU,
        at=(t := t + step),
        text="公示",
        starts_on=day,
        ends_on=day + timedelta(days=6),
        working_days=5,
        calendar="bench",
    )
    z.raise_objection(
        actor=PUBLIC,
        at=(t := t + step),
        objection_id=str(uuid4()),
        objector_name="Li",
        contact="li@example.org",
        text="?",
    )
    t = t + timedelta(days=10)
    oid = next(iter(z.objections))
    z.resolve_objection(actor=BUREAU, at=t, objection_id=oid, outcome="dismissed", consequence=None, reasons="no")
    z.recommend(actor=BUREAU, at=t, document=doc("recommendation.pdf"), reasons="no objection stands")
    z.grant(actor=LEADING, at=t, announcement_no="No. 1", policy=app.policy)
    granted = t.year
    for year in (granted, granted + 1, granted + 2):
        t = at(f"{year + 1}-01-15")
        z.file_annual_report(
            actor=applicant,
            at=t,
            year=year,
            statistics=ANNUAL_STATISTICS,
            summary="…",
            documents=None,
            policy=app.policy,
        )
        z.evaluate_annual_report(actor=BUREAU, at=t, year=year, rating="good", comments="ok", system=app.system)
    t = at(z.current_term.review_window_opens_on.isoformat())  # type: ignore[union-attr]
    z.request_review(actor=applicant, at=t)
    z.decide_review(actor=BUREAU, at=(t := t + step), passed=True, reasons="ok", policy=app.policy)
    z.recommend(actor=BUREAU, at=(t := t + step), document=doc("renewal.pdf"), reasons="review passed")
    z.grant(actor=LEADING, at=t + step, announcement_no="No. 2", policy=app.policy)
    return z


def populate(url: str, events: int) -> None:
    c = build(Settings(database_url=url, data_dir=Path(mkdtemp())), check_documents=False)
    batch = c.app.call(open_call(c.app)).batch()
    written, pending = 0, []
    while written < events:
        z = zone_stream(c.app, at("2021-07-15"), batch, town(written))
        pending.append(z)
        written += len(z.pending_events)
        if len(pending) == 100:
            c.app.save(*pending)
            pending = []
    if pending:
        c.app.save(*pending)
    c.close()


def measure(url: str, what: str, workers: int) -> dict[str, float]:
    """Runs in a process of its own: events per second and peak resident memory."""
    from projections.rebuild import rebuild
    from projections.runner import open_views

    settings = Settings(database_url=url, data_dir=Path(mkdtemp()))
    c = build(settings, check_documents=False)
    started = time.perf_counter()
    if what == "raw":
        count, position = 0, 0
        while True:
            page = c.app.recorder.select_notifications(start=position + 1, limit=2000)
            if not page:
                break
            for n in page:
                c.app.mapper.to_domain_event(n)
            count += len(page)
            position = page[-1].id
    else:
        views = open_views(c.app, settings.views_env())
        count = rebuild(c.app, views, batch_size=2000, workers=workers)
    elapsed = time.perf_counter() - started
    c.close()
    # the rebuild's processes: this one and the largest of the others (each peaks on its own)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss + resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {"events": count, "seconds": elapsed, "per_second": count / elapsed, "peak_rss_mb": peak / 1024}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument(
        "--workers", type=int, default=default_workers(), help="rebuilding processes (default: as `zonecase rebuild`)"
    )
    parser.add_argument("--measure", nargs=2, metavar=("URL", "WHAT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(*args.measure, args.workers)))
        return
    print(f"{os.cpu_count()} cores; the rebuild runs in {args.workers} process(es)", flush=True)
    results: dict[int, dict[str, dict[str, float]]] = {}
    for size in args.sizes:
        with private_schema(f"bench_rebuild_{size}") as url:
            started = time.perf_counter()
            populate(url, size)
            print(f"{size} events written in {time.perf_counter() - started:.0f} s", flush=True)
            results[size] = {}
            for what in ("raw", "rebuild"):
                out = subprocess.run(
                    [sys.executable, "-m", "bench.rebuild", "--measure", url, what, "--workers", str(args.workers)],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                results[size][what] = json.loads(out.stdout.strip().splitlines()[-1])
                r = results[size][what]
                print(
                    f"{size:>9} {what:<8} {r['events']:.0f} events in {r['seconds']:.1f} s = "
                    f"{r['per_second']:.0f}/s, peak RSS {r['peak_rss_mb']:.0f} MB",
                    flush=True,
                )
    for size, r in results.items():
        print(
            f"ratio at {size}: rebuild / raw mapped read = {r['rebuild']['per_second'] / r['raw']['per_second']:.2f}"
            " (target ≥ 0.5)"
        )
    if len(results) > 1:
        small, large = min(results), max(results)
        ratio = results[large]["rebuild"]["peak_rss_mb"] / results[small]["rebuild"]["peak_rss_mb"]
        print(f"ratio peak memory of the rebuild, {large} / {small}: {ratio:.2f} (target ≤ 1.25)")


if __name__ == "__main__":
    main()
