"""Calls for applications (申报通知): published and corrected by the bureau, read by anyone."""

from __future__ import annotations

from typing import Annotated
from typing import Any

from fastapi import APIRouter
from fastapi import Path
from fastapi import Request
from fastapi.responses import JSONResponse
from fastapi.responses import Response
from pydantic import TypeAdapter

from api.commands import By
from api.commands import Command
from api.deps import Services
from api.deps import ServicesDep
from api.deps import caught_up
from api.errors import ApiProblem
from api.public_cache import PublicCache
from api.schemas_calls import CallCorrection
from api.schemas_calls import CallIn
from api.schemas_calls import CallOut
from application.calls import call_document
from domain.call import Call

router = APIRouter(prefix="/calls", tags=["calls"])
RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"description": text}
    for status, text in {
        401: "No or bad token",
        403: "Only the bureau publishes and corrects calls",
        404: "Unknown call",
        409: "The call's id is taken (already_exists)",
        412: "If-Match names an older version of the call",
        422: "Invalid input: a bad date, a window that closes before it opens, a missing reason …",
    }.items()
}
Bureau = Annotated[Command, By("bureau")]
PathId = Annotated[str, Path(max_length=50)]
TERMS = {"id", "reason"}  # what the body says beside the terms


@router.post("", status_code=201, response_model=CallOut, responses=RESPONSES)
def publish_call(body: CallIn, cmd: Bureau) -> JSONResponse:
    """The bureau publishes a call for applications (申报通知): its id, name, filing window (``opens_on`` …
    ``closes_on``, both days included; none: no limit), creation period, the organisations it names and
    whether only they may apply, the §5 materials those members are exempted from, the "other materials"
    (§5 (4)) it asks for, and optionally a pass mark. 201 with ``Location``; an id taken → 409 ``already_exists``."""
    terms = body.model_dump(exclude=TERMS)
    return cmd.run(
        body,
        lambda o: cmd.app.publish_call(
            cmd.actor, call_id=body.id, reason=body.reason, idempotency=o.get("idempotency"), **terms
        ),
        status=201,
        answer=call_document,
    )


@router.put("/{call_id}", response_model=CallOut, responses=RESPONSES)
def correct_call(call_id: PathId, body: CallCorrection, cmd: Bureau) -> JSONResponse:
    """The bureau corrects a call: the whole body as it should read, with the ``reason``. The earlier terms
    stay in the call's history; zones filed in it keep the creation period they applied for."""
    if body.id is not None and body.id != call_id:
        raise ApiProblem(
            422,
            "validation_failed",
            f"The body names call {body.id}, the path {call_id}; a call's id cannot be corrected.",
            errors=[{"loc": ["id"], "msg": "must be the id in the path"}],
        )
    terms = body.model_dump(exclude=TERMS)
    return cmd.run(
        body, lambda o: cmd.app.correct_call(cmd.actor, call_id, body.reason, **o, **terms), answer=call_document
    )


CALLS = TypeAdapter(list[CallOut])
CALL_MODULE = Call.__module__  # the calls' events are recorded under topics "domain.call:Call.…"


@router.get("", response_model=list[CallOut], tags=["public"])
async def list_calls(request: Request, c: ServicesDep) -> Response:
    """Every call for applications, in the order published, each with its history of corrections (who, when,
    why). No token needed. The ``ETag`` changes with the calls' latest event (304 for ``If-None-Match``)."""

    def render() -> tuple[bytes, str]:
        calls = CALLS.validate_python([call_document(call) for call in c.app.calls()])
        return CALLS.dump_json(calls), "application/json"

    await caught_up(c, "history")  # read-your-writes: the runner has read the client's last event
    cache: PublicCache = request.app.state.public_cache
    return await cache.respond(request, calls_basis(c), render)


def calls_basis(c: Services) -> tuple[object, ...]:
    """What the calls depend on: the latest call event the views' runner has read (it reads every event, those
    of other processes too); without the runner, the log's position."""
    if c.runner is None:
        return (c.app.recorder.max_notification_id() or 0,)
    return ("calls", max(c.runner.latest_of.get(CALL_MODULE, 0), c.runner.head_at_start))


@router.get("/{call_id}", response_model=CallOut, responses={404: {"description": "Unknown call"}}, tags=["public"])
def get_call(call_id: PathId, c: ServicesDep) -> dict[str, Any]:
    """One call for applications as it stands, with its history of corrections. No token needed."""
    return call_document(c.app.call(call_id))
