"""Time travel for tests and demos (only with ZONECASE_ALLOW_TIME_TRAVEL=1; otherwise these are 404)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter

from api import schemas
from api.deps import Roles
from api.deps import ServicesDep
from api.deps import instant_param
from api.errors import ApiProblem
from application.clock import SettableClock
from scheduler.sweep import sweep

router = APIRouter(prefix="/admin", tags=["admin (time travel)"])


@router.put("/clock", dependencies=[Roles("bureau")])
def set_clock(body: schemas.ClockIn, c: ServicesDep) -> dict[str, Any]:
    """Sets the server clock (bureau)."""
    if not isinstance(c.clock, SettableClock):
        raise ApiProblem(404, "not_found", "Not Found")
    try:
        instant = datetime.fromisoformat(body.now)
    except ValueError:
        instant = None
    if instant is None or instant.tzinfo is None:
        raise ApiProblem(
            422,
            "validation_failed",
            "now must be an ISO 8601 instant with offset.",
            errors=[{"loc": ["now"], "msg": "an instant with offset"}],
        )
    c.clock.set(instant_param(instant, "now", loc="body"))
    return {"now": c.clock.now().isoformat()}


@router.post("/deadlines/sweep", dependencies=[Roles("bureau")])
def sweep_now(c: ServicesDep) -> dict[str, Any]:
    """Fires every deadline due at the server's now and returns what fired (bureau)."""
    c.app.forget_position()
    fired = sweep(c.app, c.runner)
    if c.runner is not None:
        c.runner.wait_for(c.app.last_position())
    return {"now": c.clock.now().isoformat(), "fired": fired}
