"""Queries across zones: public notices, deadlines, the audit log and its verification."""

from __future__ import annotations

import json
from collections.abc import Callable
from collections.abc import Iterator
from datetime import date
from datetime import datetime
from datetime import timedelta
from typing import Annotated
from typing import Any

from fastapi import APIRouter
from fastapi import Query
from fastapi import Request
from fastapi.responses import JSONResponse
from fastapi.responses import Response
from fastapi.responses import StreamingResponse
from pydantic import TypeAdapter
from starlette.concurrency import run_in_threadpool

from api import schemas
from api.deps import Roles
from api.deps import Services
from api.deps import ServicesDep
from api.deps import caught_up
from api.deps import instant_param
from api.deps import read
from api.deps import view_positions
from api.limits import PublicRate
from api.public_cache import PublicCache
from audit.inspection import inspect
from audit.integrity import verify_store
from domain.values import local_date
from projections.deadlines import list_deadlines
from projections.history import publications
from projections.notices import list_notices

router = APIRouter()


NOTICES = TypeAdapter(list[schemas.NoticePublic])


@router.get("/notices", tags=["public"], response_model=list[schemas.NoticePublic], dependencies=[PublicRate])
async def notices(
    request: Request,
    c: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
) -> Response:
    """Public notices (公示) in force and past, exactly as published: zone, text and its SHA-256, period;
    and the circulars (通报, ``kind: circular``) of revocations on §6.6's grounds: number, text and its
    SHA-256, the day of the revocation (``starts_on``), the ground and the scope. The latest first. Each names
    the event that recorded it (``seq``: for ``/audit/proofs/inclusion``) and the first signed tree head that
    covers it. No token needed; no objector data. The ``ETag`` changes when the answer may (304 for
    ``If-None-Match``)."""

    def render() -> tuple[bytes, str]:
        items = NOTICES.validate_python(notice_board(c, limit=limit, offset=offset))
        return NOTICES.dump_json(items), "application/json"

    return await public_answer(request, c, render)


def board_basis(c: Services) -> tuple[object, ...]:
    """What the notices and the board depend on: the two views' positions, the day, the latest signed tree head."""
    positions = view_positions(c, "notices", "history")
    latest = c.checkpoints.latest() if c.checkpoints is not None else c.app.side_tables.latest_checkpoint()
    return (*positions, local_date(c.clock.now()).isoformat(), latest.tree_size if latest else 0)


async def public_answer(
    request: Request, c: Services, render: Callable[[], tuple[bytes, str]], headers: dict[str, str] | None = None
) -> Response:
    """The notices (or the board) from the cache, keyed by ``board_basis`` once the client's position is read —
    on the event loop when nothing is to be waited for or read from the store."""
    await caught_up(c, "notices", "history")  # read-your-writes: the views reach the client's position first
    cache: PublicCache = request.app.state.public_cache
    known = c.checkpoints is not None and c.checkpoints.knows_latest()
    basis = board_basis(c) if known else await run_in_threadpool(board_basis, c)  # the store, off the event loop
    return await cache.respond(request, basis, render, headers)


def notice_board(c: Services, *, limit: int, offset: int) -> list[dict[str, Any]]:
    """The notices and circulars as the public sees them (``GET /notices`` and the board ``/board``)."""
    today = local_date(c.clock.now())
    with read(c, "notices") as tx:
        rows = list_notices(tx, limit=limit, offset=offset)
    acts = _published_acts(c, {r["zone_id"] for r in rows})
    out = []
    for r in rows:
        if r["kind"] == "circular":
            act = next(iter(acts[(r["zone_id"], "Revoked")][-1:]), None)
            item = {**{k: v for k, v in r.items() if k != "circular_number"}, "number": r["circular_number"]}
            out.append({**item, "in_force": False, **_covered(c, act)})
        else:
            published = acts[(r["zone_id"], "Publicized")]
            act = published[r["number"] - 1] if len(published) >= r["number"] else None
            notice = {k: v for k, v in r.items() if k not in ("circular_number", "ground", "scope")}
            in_force = r["outcome"] == "in_force" and (
                date.fromisoformat(r["starts_on"]) <= today <= date.fromisoformat(r["ends_on"])
            )
            out.append({**notice, "in_force": in_force, **_covered(c, act)})
    return out


def _published_acts(c: Services, zones: set[str]) -> dict[tuple[str, str], list[dict[str, int]]]:
    with read(c, "history") as tx:
        return {(z, kind): publications(tx, z, kind) for z in zones for kind in ("Publicized", "Revoked")}


def _covered(c: Services, act: dict[str, int] | None) -> dict[str, Any]:
    """The event's ``seq`` and the first signed tree head that includes it."""
    if act is None:
        return {"seq": None, "tree_head": None}
    found = c.app.side_tables.get_checkpoints(since=act["size"], limit=1)
    return {"seq": act["seq"], "tree_head": found[0].as_dict() if found else None}


@router.get(
    "/deadlines",
    tags=["deadlines"],
    response_model=list[schemas.DeadlineRow],
    dependencies=[Roles("bureau", "inspector")],
)
def deadlines(
    c: ServicesDep,
    before: Annotated[datetime | None, Query(description="only deadlines due before this instant")] = None,
    kind: Annotated[str | None, Query(max_length=50)] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
    as_of: Annotated[datetime | None, Query(description="the deadlines as the record stood at this instant")] = None,
) -> list[dict[str, Any]]:
    """Open deadlines across zones, soonest first, overdue flagged (bureau, inspector); with ``as_of`` as
    the record stood at that instant, rebuilt from the events (reads the whole log: slower)."""
    before = None if before is None else instant_param(before, "before")
    if as_of is not None:
        as_of = instant_param(as_of, "as_of")
        rows: list[dict[str, Any]] = [
            {
                "zone_id": str(z.id),
                "zone_name": z.name,
                "applicant_org": z.applicant_org,
                "kind": d.kind,
                "key": d.key,
                "due_on": d.day.isoformat(),
                "due_at": d.due_at.isoformat(),
                "recorded": d.recorded,
                "overdue": d.due_at <= as_of,
            }
            for z in c.app.zones_as_of(as_of)
            for d in z.deadlines(c.app.policy)
            if (not kind or d.kind == kind) and (before is None or d.due_at < before)
        ]
        rows.sort(key=lambda r: (r["due_at"], r["zone_id"], r["key"]))
        return rows[offset : offset + limit]
    now = c.clock.now()
    bound = before.astimezone(now.tzinfo).isoformat() if before else None
    with read(c, "deadlines") as tx:
        rows = list_deadlines(tx, before=bound, kind=kind, limit=limit, offset=offset)
    return [{**r, "recorded": bool(r["recorded"]), "overdue": datetime.fromisoformat(r["due_at"]) <= now} for r in rows]


def _event_row(app: Any, n: Any) -> dict[str, Any]:
    event = app.mapper.to_domain_event(n)
    return {
        "position": n.id,
        "zone_id": str(n.originator_id),
        "seq": n.originator_version,
        "type": type(event).__name__,
        "at": event.timestamp.isoformat(),
        "actor": event.actor,
        "reason": event.reason,
        "data": event.values,  # recorded decimals read back as numbers
        "hash": event.hash,
        "prev_hash": event.prev_hash,
    }


@router.get(
    "/audit/events",
    tags=["audit"],
    responses={200: {"content": {"application/x-ndjson": {}}}},
    dependencies=[Roles("inspector", "bureau")],
)
def audit_events(
    request: Request,
    c: ServicesDep,
    after: Annotated[int, Query(ge=0, le=2**62)] = 0,
    limit: Annotated[int, Query(ge=1, le=1_000_000)] = 1000,
) -> Any:
    """The global event log in order, from the store itself (inspector, bureau). With
    ``Accept: application/x-ndjson`` it streams one JSON object per line."""
    app = c.app

    def rows() -> Iterator[dict[str, Any]]:
        position, left = after, limit
        while left > 0:
            page = app.recorder.select_notifications(start=position + 1, limit=min(500, left))
            for n in page:
                yield _event_row(app, n)
            if len(page) < min(500, left):
                return
            position, left = page[-1].id, left - len(page)

    if "application/x-ndjson" in request.headers.get("accept", ""):
        return StreamingResponse(
            (json.dumps(r, ensure_ascii=False) + "\n" for r in rows()), media_type="application/x-ndjson"
        )
    return JSONResponse(list(rows()))


@router.get(
    "/audit/verify", tags=["audit"], response_model=schemas.VerifyOut, dependencies=[Roles("inspector", "bureau")]
)
def audit_verify(
    c: ServicesDep,
) -> dict[str, Any]:
    """Recomputes every stored event's hash and link (inspector, bureau): ``{ok, events_checked, first_bad}``."""
    result = verify_store(c.app)
    return {
        "ok": result.ok,
        "events_checked": result.events_checked,
        "first_bad": result.first_bad,
        "problems": [p.as_dict() for p in result.problems[:100]],
    }


@router.get("/audit/inspection", tags=["audit"], dependencies=[Roles("inspector", "bureau")])
def audit_inspection(
    c: ServicesDep,
    start: Annotated[datetime | None, Query(alias="from", description="inspect events from this instant")] = None,
    to: Annotated[datetime | None, Query(description="up to this instant (default: now)")] = None,
    lag_tolerance_hours: Annotated[float, Query(ge=0, le=24 * 365)] = 24,
) -> dict[str, Any]:
    """The inspector's report (inspector, bureau): the whole log checked independently of the aggregate's
    rules — grants without a completed notice or with an objection open or upheld, scores by experts not on
    the panel or conflicted, decisions without reasons, deadlines recorded late (with the lag), late and
    missing annual reports, titles left past expiry, broken hash links — each with its event reference.
    On a clean log it says so, with the counts it checked."""
    for name, value in (("from", start), ("to", to)):
        if value is not None:
            instant_param(value, name)
    end = to or c.clock.now()
    return inspect(c.app, start=start, end=end, lag_tolerance=timedelta(hours=lag_tolerance_hours)).as_dict()
