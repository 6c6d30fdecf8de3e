"""Objectors' personal data (PIPL): the bureau erases an objector's name and contact, or runs the retention sweep."""

from __future__ import annotations

from typing import Annotated
from typing import Any
from uuid import UUID

from fastapi import APIRouter
from fastapi import Path
from pydantic import Field

from api import schemas
from api.deps import Principal
from api.deps import Roles
from api.deps import ServicesDep
from api.errors import ZONE_RESPONSES
from application.objectors import erase
from application.objectors import retention_sweep

router = APIRouter(tags=["objectors (PIPL)"])


class ErasureIn(schemas.In):
    """Why the objector's personal data is erased (a lawful request, its reference …)."""

    reason: Annotated[str, Field(min_length=1, max_length=2000)]


@router.post(
    "/zones/{zone_id}/objections/{objection_id}/erasure",
    responses={
        **ZONE_RESPONSES,
        409: {"description": "erased already (already_erased), or recorded before v3 (objector_not_erasable)"},
    },
)
def erase_objector(
    zone_id: UUID,
    objection_id: Annotated[str, Path(max_length=100)],
    body: ErasureIn,
    c: ServicesDep,
    principal: Annotated[Principal, Roles("bureau")],
) -> dict[str, Any]:
    """The bureau erases an objector's name and contact (a lawful request under PIPL): their key and ciphertext are
    deleted and the erasure recorded (who, when, why — not the data). The events are untouched: the log still
    verifies, and the bureau's views show "erased on <day> (<reason>)". An objection recorded before v3 has the
    name in its event and cannot be erased (409 ``objector_not_erasable``)."""
    return erase(c.app, zone_id, objection_id, principal.actor, body.reason)


@router.post("/objectors/retention-sweep", dependencies=[Roles("bureau")])
def sweep_retention(c: ServicesDep) -> dict[str, Any]:
    """Erases now every objector whose retention has run out (``ZONECASE_POLICY_OBJECTOR_RETENTION_YEARS``,
    default 3, after the case closed: granted, rejected, not passed or revoked); the scheduler runs the same sweep
    hourly. Returns the erasures made."""
    return {"erased": retention_sweep(c.app)}
