"""The floor of the command path: the least any FastAPI service on this stack does for a command.

One endpoint, with the same bearer-token check (pyjwt) and the same request model as the real one, that
files the scores on a zone already in memory and saves it with ``Application.save()``: no load, no
views, no idempotency, no response document; and a read that is the bare endpoint's, for the ceiling of the
mixed load (``bench/load.py``). ``bench/command_path.py`` serves it with uvicorn like
``zonecase serve`` and times it with the same client, so the real command path can be read against it.

    python -m uvicorn bench.floor_app:create --factory --port 8000   (ZONECASE_* as for zonecase serve)
"""

import os
from datetime import datetime
from typing import Annotated
from typing import Any
from uuid import UUID

import jwt
from fastapi import Depends
from fastapi import FastAPI
from fastapi import Header
from fastapi.responses import JSONResponse

from api.schemas import ScoresIn
from application.clock import SettableClock
from application.settings import Settings
from domain.values import Actor
from domain.zone import Zone
from zonecase.wiring import build


def create() -> FastAPI:
    """The floor application, on the store the environment names."""
    settings = Settings.from_env()
    container = build(settings, check_documents=False)
    if "BENCH_NOW" in os.environ and isinstance(container.clock, SettableClock):
        container.clock.set(datetime.fromisoformat(os.environ["BENCH_NOW"]))
    zones: dict[UUID, Zone] = {}
    app = FastAPI()

    def caller(authorization: Annotated[str, Header()]) -> dict[str, Any]:
        return jwt.decode(authorization.removeprefix("Bearer "), settings.jwt_secret, algorithms=["HS256"])

    @app.put("/zones/{zone_id}/assessment/scores")
    def file_scores(zone_id: UUID, body: ScoresIn, claims: Annotated[dict[str, Any], Depends(caller)]) -> JSONResponse:
        zone = zones.get(zone_id) or zones.setdefault(zone_id, container.app.get_zone(zone_id))
        expert = Actor(sub=claims["sub"], role="expert", org=claims.get("org", ""), name=claims.get("name", ""))
        zone.file_scores(
            actor=expert,
            at=container.clock.now(),
            scores=body.scores,
            comment=body.comment,
            system=container.app.system,
            reason=body.reason,
        )
        container.app.save(zone)
        return JSONResponse({"version": zone.version})

    @app.get("/floor/read")
    def read() -> dict[str, Any]:  # the least a read can be: the bare endpoint's (bench/bare_app.py)
        return {"status": "ok", "items": [1, 2, 3]}

    return app
