"""Zones, the queries: the list, one zone (now or as of a past instant), its history, assessment, dossier."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from typing import Any
from typing import Literal
from uuid import UUID

from fastapi import APIRouter
from fastapi import Query
from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.responses import JSONResponse

from api import schemas
from api.deps import Principal
from api.deps import PrincipalDep
from api.deps import Roles
from api.deps import Services
from api.deps import ServicesDep
from api.deps import instant_param
from api.deps import read
from api.deps import require_roles
from api.errors import ZONE_RESPONSES
from api.errors import ApiProblem
from application.objectors import revealed
from application.objectors import with_objectors
from application.representation import SEES_OBJECTORS
from application.representation import flag_overdue
from application.representation import objection_counts
from application.representation import objection_page
from application.representation import redact
from application.representation import redacted_history
from application.representation import zone_document
from application.representation import zone_summary
from audit.dossier import build_dossier
from audit.dossier import render_html
from projections.assessments import zone_assessments
from projections.history import zone_history
from projections.zones import get_zone
from projections.zones import list_zones

router = APIRouter(prefix="/zones", tags=["zones"])
# The dossier page: its own styles inline, nothing loaded, nothing run, not framed, no form sent anywhere.
DOSSIER_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)


def instant(value: datetime, name: str) -> datetime:
    """``value`` if it carries a time zone offset and is in range; 422 otherwise."""
    return instant_param(value, name)


def _document_or_404(c: Services, zone_id: UUID, reader: Principal | None = None) -> dict[str, Any]:
    with read(c, "zones") as tx:
        document = get_zone(tx, str(zone_id))
    if document is None:
        raise ApiProblem(404, "not_found", f"No zone {zone_id}.")
    if reader is not None and reader.role == "applicant" and document["applicant_org"] != reader.org:
        raise ApiProblem(403, "forbidden", "An applicant may see only its own organisation's zones.")
    return document


@router.get("", response_model=list[schemas.ZoneSummary], responses={401: {"description": "No or bad token"}})
def zones(
    c: ServicesDep,
    principal: PrincipalDep,
    status: schemas.Status | None = None,
    org: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
    as_of: Annotated[datetime | None, Query(description="the list as it stood at this instant")] = None,
) -> list[dict[str, Any]]:
    """Zone summaries (an applicant sees only its own organisation's); with ``as_of`` as the record stood
    at that instant, rebuilt from the events (reads the whole log: slower)."""
    if principal.role == "applicant":
        if org not in (None, principal.org):
            raise ApiProblem(403, "forbidden", "An applicant may list only its own organisation's zones.")
        org = principal.org
    if as_of is not None:
        past = [
            z
            for z in c.app.zones_as_of(instant(as_of, "as_of"))
            if (not status or z.status == status) and (not org or z.applicant_org == org)
        ]
        past.sort(key=lambda z: (z.applied_on, str(z.id)), reverse=True)
        return [zone_summary(z) for z in past[offset : offset + limit]]
    with read(c, "zones") as tx:
        rows = list_zones(tx, status=status, org=org, limit=limit, offset=offset)
    return [
        {
            "id": r["zone_id"],
            **{k: r[k] for k in ("name", "applicant_org", "status", "version", "batch", "applied_on", "updated_at")},
        }
        for r in rows
    ]


@router.get("/{zone_id}", response_model=schemas.ZonePublic, responses=ZONE_RESPONSES)
def zone(
    zone_id: UUID,
    c: ServicesDep,
    principal: PrincipalDep,
    as_of: Annotated[datetime | None, Query(description="an ISO 8601 instant with offset")] = None,
) -> JSONResponse:
    """The zone's current state (version, status, dates, deadlines, latest scores); with ``as_of`` the
    state as it stood at that instant, rebuilt from the events (bureau, leading group, inspector)."""
    if as_of is not None:
        require_roles(principal, "bureau", "leading_group", "inspector")
        past = c.app.as_of(zone_id, instant(as_of, "as_of"))
        document = flag_overdue(objection_counts(redact(zone_document(past, c.app.policy), principal.role)), as_of)
        document["as_of"] = as_of.isoformat()
        return JSONResponse(document, headers={"ETag": f'"{past.version}"'})
    document = _document_or_404(c, zone_id, principal)
    document = flag_overdue(objection_counts(redact(document, principal.role)), c.clock.now())
    return JSONResponse(document, headers={"ETag": f'"{document["version"]}"'})


@router.get("/{zone_id}/objections", response_model=schemas.ObjectionPage, responses=ZONE_RESPONSES)
def objections(
    zone_id: UUID,
    c: ServicesDep,
    principal: PrincipalDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> dict[str, Any]:
    """The zone's objections (异议) in the order raised, a page at a time (``total`` counts them all): text,
    evidence, status and resolution; the objector's name and contact only for the bureau and inspectors. The
    zone itself shows only ``objection_counts``. Readers as for the zone."""
    page = objection_page(_document_or_404(c, zone_id, principal), principal.role, limit=limit, offset=offset)
    if principal.role in SEES_OBJECTORS:  # decrypted from the objectors' side tables, or "erased on …"
        page["items"] = revealed(c.app, page["items"])
    return page


@router.get(
    "/{zone_id}/history",
    response_model=list[schemas.HistoryEntry],
    response_model_exclude_unset=True,
    responses=ZONE_RESPONSES,
)
def history(
    zone_id: UUID,
    c: ServicesDep,
    principal: Annotated[Principal, Roles("bureau", "leading_group", "inspector", "applicant")],
) -> list[dict[str, Any]]:
    """Every event in order with its actor, reason, data and hash links. An objection's objector — the name and
    contact (``objector``, decrypted, or the erasure: "erased on …"), the reference and salted commitment in its
    data, and who raised it (``actor``) — only for the bureau and inspectors."""
    _document_or_404(c, zone_id, principal)
    with read(c, "history") as tx:
        entries = zone_history(tx, zone_id, c.app.events.get(zone_id))
    if principal.role in SEES_OBJECTORS:
        return with_objectors(c.app, entries)
    return redacted_history(entries)


@router.get(
    "/{zone_id}/assessment", responses=ZONE_RESPONSES, dependencies=[Roles("bureau", "leading_group", "inspector")]
)
def assessment(zone_id: UUID, c: ServicesDep) -> dict[str, Any]:
    """Per-expert and panel scores of every panel round, the indicator-system version, maximum and
    percentage (bureau, leading group, inspector)."""
    document = _document_or_404(c, zone_id)
    with read(c, "assessments") as tx:
        rounds = zone_assessments(tx, str(zone_id))
    system = c.app.systems.get(document["indicator_system"])
    return {
        "zone_id": str(zone_id),
        "indicator_system": document["indicator_system"],
        "maximum": system.maximum if system else None,
        "discrepancies": [str(d) for d in system.discrepancies] if system else [],
        "latest": rounds[-1] if rounds else None,
        "rounds": rounds,
    }


@router.get(
    "/{zone_id}/dossier",
    responses={**ZONE_RESPONSES, 200: {"content": {"text/html": {}}}},
    dependencies=[Roles("bureau", "inspector")],
)
def dossier(
    request: Request,
    zone_id: UUID,
    c: ServicesDep,
    format: Annotated[Literal["json", "html"] | None, Query(description="html: a printable page")] = None,
) -> Any:
    """The dispute dossier (争议卷宗; bureau, inspector): each notice exactly as published with the tree
    head it was published under, every objection with its evidence and resolution (who, when, why), the
    panel with conflicts declared, each expert's scores and the panel result under the indicator-system
    version, the full timeline with actors and reasons, and an inclusion proof of every event against a
    signed checkpoint. JSON, or a printable page in Chinese and English (``format=html`` or
    ``Accept: text/html``)."""
    if c.checkpoints is None or c.runner is None:
        raise ApiProblem(503, "checkpoints_unavailable", "This process does not sign checkpoints.")
    document = build_dossier(c.app, c.runner, c.checkpoints, zone_id)
    if format == "html" or (format is None and "text/html" in request.headers.get("accept", "")):
        return HTMLResponse(render_html(document), headers={"Content-Security-Policy": DOSSIER_CSP})
    return JSONResponse(document)
