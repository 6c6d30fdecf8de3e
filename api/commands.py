"""The shared path of every command: idempotency, the command itself, read-your-writes, the response."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from contextlib import nullcontext
from datetime import datetime
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from api.deps import Principal
from api.errors import ApiProblem
from application.representation import redact, zone_document
from application.service import PreconditionFailedError
from application.store import IdempotencyRecord
from domain.errors import VersionConflictError
from domain.zone import Zone
from zonecase.wiring import Container

READ_YOUR_WRITES_TIMEOUT = 5.0


def shown_zone(c: Container, zone: Zone, principal: Principal, now: datetime | None = None) -> dict[str, Any]:
    """The zone document as this caller may see it, deadlines flagged overdue against ``now``."""
    return flag_overdue(redact(zone_document(zone, c.app.policy), principal.role), now or c.clock.now())


def flag_overdue(document: dict[str, Any], now: datetime) -> dict[str, Any]:
    """Marks each deadline overdue when its due instant has passed."""
    stamp = now.isoformat()
    document["deadlines"] = [
        {**d, "overdue": datetime.fromisoformat(d["due_at"]) <= datetime.fromisoformat(stamp)}
        for d in document["deadlines"]
    ]
    return document


def request_hash(request: Request, body: BaseModel | None) -> str:
    """What makes two requests 'the same': method, path and the validated body."""
    payload = {
        "method": request.method,
        "path": request.url.path,
        "body": None if body is None else body.model_dump(mode="json"),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _replay(record: IdempotencyRecord) -> JSONResponse:
    body = json.loads(record.body)
    headers = {"Idempotency-Replayed": "true"}
    if record.status == 201 and isinstance(body, dict) and "id" in body:
        headers["Location"] = f"/zones/{body['id']}"
    return JSONResponse(body, status_code=record.status, headers=headers)


def run_command(
    request: Request,
    c: Container,
    principal: Principal,
    *,
    body: BaseModel | None,
    idempotency_key: str | None,
    act: Callable[[], Zone],
    respond: Callable[[Zone], tuple[int, dict[str, Any]]],
) -> JSONResponse:
    """Runs ``act`` once per idempotency key, waits until the views show it, and answers."""
    side = c.app.side_tables
    digest = request_hash(request, body)
    if idempotency_key is not None:
        earlier = side.get_idempotency(principal.sub, idempotency_key)
        if earlier is not None:
            if earlier.request_hash != digest:
                raise ApiProblem(
                    422, "idempotency_key_reused", "This Idempotency-Key was already used with a different request."
                )
            return _replay(earlier)

    def render(zone: Zone) -> IdempotencyRecord:
        status, payload = respond(zone)
        return IdempotencyRecord(
            principal.sub, idempotency_key or "", digest, status, json.dumps(payload, ensure_ascii=False)
        )

    c.app.forget_position()
    try:
        with c.app.idempotent(render) if idempotency_key is not None else nullcontext():
            zone = act()
    except VersionConflictError as e:
        if isinstance(e, PreconditionFailedError) or idempotency_key is None:
            raise
        earlier = side.get_idempotency(principal.sub, idempotency_key)  # a concurrent twin won the race
        if earlier is None:
            raise
        return _replay(earlier)
    if c.runner is not None:
        c.runner.wait_for(c.app.last_position(), READ_YOUR_WRITES_TIMEOUT)
    status, payload = respond(zone)
    headers = {"ETag": f'"{zone.version}"'}
    if status == 201 and "id" in payload:
        headers["Location"] = f"/zones/{payload['id']}"
    return JSONResponse(payload, status_code=status, headers=headers)
