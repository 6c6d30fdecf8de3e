"""Zones: the commands of the process and the queries on one zone."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID, uuid4

from fastapi import APIRouter, Body, Path, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse

from api import schemas
from api.commands import flag_overdue, run_command, shown_zone
from api.deps import (
    ContainerDep,
    IdempotencyKeyDep,
    IfMatchDep,
    MaybePrincipalDep,
    Principal,
    PrincipalDep,
    require_roles,
)
from api.errors import ApiProblem
from application.representation import SEES_OBJECTORS, redact, zone_document
from audit.dossier import build_dossier, render_html
from domain.zone import Zone
from projections.assessments import zone_assessments
from projections.history import zone_history
from projections.zones import get_zone, list_zones
from zonecase.wiring import Container

log = logging.getLogger("zonecase.api")
router = APIRouter(prefix="/zones", tags=["zones"])
ZONE_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "No or bad token"},
    403: {"description": "This role or organisation may not do this"},
    404: {"description": "Unknown zone"},
    409: {"description": "The zone's history does not allow this step now"},
    412: {"description": "If-Match names an older version"},
    422: {"description": "Invalid input"},
}
ZoneId = Annotated[UUID, "zone id"]


def _zone_response(c: Container, principal: Principal, status: int = 200) -> Any:
    return lambda zone: (status, shown_zone(c, zone, principal))


def _instant(value: datetime, name: str) -> datetime:
    if value.tzinfo is None:
        raise ApiProblem(
            422,
            "validation_failed",
            f"{name} needs a time zone offset, e.g. 2024-01-01T00:00:00+08:00.",
            errors=[{"loc": ["query", name], "msg": "offset required"}],
        )
    return value


def _check_reader(principal: Principal, document: dict[str, Any]) -> None:
    if principal.role == "applicant" and document["applicant_org"] != principal.org:
        raise ApiProblem(403, "forbidden", "An applicant may see only its own organisation's zones.")


def _read(c: Container, view: str) -> Any:
    if c.runner is None:
        raise ApiProblem(503, "views_unavailable", "The read models are not running in this process.")
    return c.runner.views[view].view.read()


def _document_or_404(c: Container, zone_id: UUID) -> dict[str, Any]:
    with _read(c, "zones") as tx:
        document = get_zone(tx, str(zone_id))
    if document is None:
        raise ApiProblem(404, "not_found", f"No zone {zone_id}.")
    return document


# --- commands ----------------------------------------------------------------------------------


@router.post("", status_code=201, response_model=schemas.ZonePublic, responses=ZONE_RESPONSES)
def apply(
    request: Request,
    c: ContainerDep,
    principal: PrincipalDep,
    body: schemas.ZoneCreate,
    idempotency_key: IdempotencyKeyDep = None,
) -> JSONResponse:
    """An applicant (town government or park committee) files an application (申请). The applicant
    organisation is the token's ``org``. Returns the zone with status ``applied``, 201 and ``Location``."""
    require_roles(principal, "applicant")
    data = body.model_dump(mode="json", exclude_none=True)
    zone_id = uuid4()
    return run_command(
        request,
        c,
        principal,
        body=body,
        idempotency_key=idempotency_key,
        act=lambda: c.app.apply(principal.actor, zone_id=zone_id, **data),
        respond=_zone_response(c, principal, 201),
    )


def _command(
    request: Request,
    c: Container,
    principal: Principal,
    body: Any,
    key: str | None,
    roles: tuple[str, ...],
    act: Any,
) -> JSONResponse:
    require_roles(principal, *roles)
    return run_command(
        request, c, principal, body=body, idempotency_key=key, act=act, respond=_zone_response(c, principal)
    )


@router.post("/{zone_id}/formal-review", response_model=schemas.ZonePublic, responses=ZONE_RESPONSES)
def formal_review(
    request: Request,
    zone_id: UUID,
    body: schemas.FormalReviewIn,
    c: ContainerDep,
    principal: PrincipalDep,
    version: IfMatchDep,
    idempotency_key: IdempotencyKeyDep = None,
) -> JSONResponse:
    """The bureau's formal review (形式审查): ``accepted`` (only with complete materials and every basic
    condition met — a refusal lists the failing checks), ``returned`` for supplement, or ``rejected``."""
    return _command(
        request,
        c,
        principal,
        body,
        idempotency_key,
        ("bureau",),
        lambda: c.app.formal_review(
            zone_id, principal.actor, outcome=body.outcome, reasons=body.reasons, expected_version=version
        ),
    )


@router.post("/{zone_id}/supplements", response_model=schemas.ZonePublic, responses=ZONE_RESPONSES)
def supplement(
    request: Request,
    zone_id: UUID,
    body: schemas.SupplementIn,
    c: ContainerDep,
    principal: PrincipalDep,
    version: IfMatchDep,
    idempotency_key: IdempotencyKeyDep = None,
) -> JSONResponse:
    """The applicant supplements a returned application; it awaits formal review again."""
    data = body.model_dump(mode="json", exclude_none=True)
    return _command(
        request,
        c,
        principal,
        body,
        idempotency_key,
        ("applicant",),
        lambda: c.app.supplement(
            zone_id,
            principal.actor,
            materials=data.get("materials", []),
            statistics=data.get("statistics"),
            plan=data.get("plan"),
            note=body.note,
            expected_version=version,
        ),
    )


@router.post("/{zone_id}/assessment/panel", response_model=schemas.ZonePublic, responses=ZONE_RESPONSES)
def appoint_panel(
    request: Request,
    zone_id: UUID,
    body: schemas.PanelIn,
    c: ContainerDep,
    principal: PrincipalDep,
    version: IfMatchDep,
    idempotency_key: IdempotencyKeyDep = None,
) -> JSONResponse:
    """The bureau appoints the expert panel (专家评估组) and records its methods."""
    data = body.model_dump(mode="json")
    return _command(
        request,
        c,
        principal,
        body,
        idempotency_key,
        ("bureau",),
        lambda: c.app.appoint_panel(
            zone_id,
            principal.actor,
            experts=data["experts"],
            methods=data["methods"],
            reason=body.reason,
            expected_version=version,
        ),
    )


@router.post("/{zone_id}/assessment/conflicts", response_model=schemas.ZonePublic, responses=ZONE_RESPONSES)
def declare_conflict(
    request: Request,
    zone_id: UUID,
    body: schemas.ConflictIn,
    c: ContainerDep,
    principal: PrincipalDep,
    version: IfMatchDep,
    idempotency_key: IdempotencyKeyDep = None,
) -> JSONResponse:
    """An expert on the panel declares a conflict of interest (回避); they may then not score."""
    return _command(
        request,
        c,
        principal,
        body,
        idempotency_key,
        ("expert",),
        lambda: c.app.declare_conflict(zone_id, principal.actor, reason=body.reason, expected_version=version),
    )


@router.put("/{zone_id}/assessment/scores", response_model=schemas.ZonePublic, responses=ZONE_RESPONSES)
def file_scores(
    request: Request,
    zone_id: UUID,
    body: schemas.ScoresIn,
    c: ContainerDep,
    principal: PrincipalDep,
    version: IfMatchDep,
    idempotency_key: IdempotencyKeyDep = None,
) -> JSONResponse:
    """An unconflicted panel expert files scores for every indicator (0..weight); re-filing replaces
    the sheet, and both stay in the history."""
    return _command(
        request,
        c,
        principal,
        body,
        idempotency_key,
        ("expert",),
        lambda: c.app.file_scores(
            zone_id, principal.actor, scores=body.scores, comment=body.comment, expected_version=version
        ),
    )


@router.post("/{zone_id}/assessment/conclusion", response_model=schemas.ZonePublic, responses=ZONE_RESPONSES)
def conclude(
    request: Request,
    zone_id: UUID,
    body: schemas.ConclusionIn,
    c: ContainerDep,
    principal: PrincipalDep,
    version: IfMatchDep,
    idempotency_key: IdempotencyKeyDep = None,
) -> JSONResponse:
    """The bureau confirms the panel's report and forms the conclusion (评估结论): ``assessed`` or
    ``not_passed``, with the panel score under the zone's indicator-system version."""
    return _command(
        request,
        c,
        principal,
        body,
        idempotency_key,
        ("bureau",),
        lambda: c.app.conclude_assessment(
            zone_id,
            principal.actor,
            passed=body.passed,
            report=body.report.model_dump(),
            reasons=body.reasons,
            expected_version=version,
        ),
    )


@router.post("/{zone_id}/notice", response_model=schemas.ZonePublic, responses=ZONE_RESPONSES)
def publish_notice(
    request: Request,
    zone_id: UUID,
    body: schemas.NoticeIn,
    c: ContainerDep,
    principal: PrincipalDep,
    version: IfMatchDep,
    idempotency_key: IdempotencyKeyDep = None,
) -> JSONResponse:
    """The bureau publishes the public notice (公示); ``notice.ends_on`` is counted in working days on the
    Chinese calendar (default 5). A checkpoint is signed at once: the notice shows the tree head it was
    published under (``GET /notices``)."""
    response = _command(
        request,
        c,
        principal,
        body,
        idempotency_key,
        ("bureau",),
        lambda: c.app.publish_notice(
            zone_id,
            principal.actor,
            text=body.text,
            starts_on=body.starts_on,
            working_days=body.working_days,
            expected_version=version,
        ),
    )
    if response.status_code == 200 and c.checkpoints is not None:
        try:
            c.checkpoints.sign(f"public notice of zone {zone_id}")
        except Exception:  # the notice stands; the hourly checkpoint will cover it
            log.exception("signing the tree head for a public notice failed")
    return response


@router.post(
    "/{zone_id}/objections", status_code=201, response_model=schemas.ObjectionCreated, responses=ZONE_RESPONSES
)
def raise_objection(
    request: Request,
    zone_id: UUID,
    body: schemas.ObjectionIn,
    c: ContainerDep,
    principal: MaybePrincipalDep,
    idempotency_key: IdempotencyKeyDep = None,
) -> JSONResponse:
    """Anyone may object (异议) while the notice runs; no token is needed. The objector's name and contact
    are shown only to the bureau and inspectors."""
    require_roles(principal, "public", "applicant", "bureau", "expert", "leading_group")
    oid = str(uuid4())

    def respond(zone: Zone) -> tuple[int, dict[str, Any]]:
        number = zone.objections[oid].notice if oid in zone.objections else 0
        return 201, {"objection_id": oid, "zone_id": str(zone.id), "notice": number}

    return run_command(
        request,
        c,
        principal,
        body=body,
        idempotency_key=idempotency_key,
        act=lambda: c.app.raise_objection(
            zone_id,
            principal.actor,
            objection_id=oid,
            objector_name=body.objector_name,
            contact=body.contact,
            text=body.text,
            evidence=[e.model_dump() for e in body.evidence],
        )[0],
        respond=respond,
    )


@router.post(
    "/{zone_id}/objections/{objection_id}/resolution", response_model=schemas.ZonePublic, responses=ZONE_RESPONSES
)
def resolve_objection(
    request: Request,
    zone_id: UUID,
    objection_id: str,
    body: schemas.ResolutionIn,
    c: ContainerDep,
    principal: PrincipalDep,
    version: IfMatchDep,
    idempotency_key: IdempotencyKeyDep = None,
) -> JSONResponse:
    """The bureau resolves an objection: ``dismissed``, or ``upheld`` with ``consequence`` ``reassess``
    (back to ``accepted``, a new panel) or ``reject``."""
    return _command(
        request,
        c,
        principal,
        body,
        idempotency_key,
        ("bureau",),
        lambda: c.app.resolve_objection(
            zone_id,
            principal.actor,
            objection_id=objection_id,
            outcome=body.outcome,
            consequence=body.consequence,
            reasons=body.reasons,
            expected_version=version,
        ),
    )


@router.post("/{zone_id}/grant", response_model=schemas.ZonePublic, responses=ZONE_RESPONSES)
def grant(
    request: Request,
    zone_id: UUID,
    body: schemas.GrantIn,
    c: ContainerDep,
    principal: PrincipalDep,
    version: IfMatchDep,
    idempotency_key: IdempotencyKeyDep = None,
) -> JSONResponse:
    """The leading group grants the title (授予) — only after the notice has ended with no objection open
    or upheld (经公示无异议). Sets ``valid_until`` three years on."""
    return _command(
        request,
        c,
        principal,
        body,
        idempotency_key,
        ("leading_group",),
        lambda: c.app.grant(
            zone_id, principal.actor, announcement_no=body.announcement_no, reason=body.reason, expected_version=version
        ),
    )


@router.post("/{zone_id}/annual-reports", response_model=schemas.ZonePublic, responses=ZONE_RESPONSES)
def file_annual_report(
    request: Request,
    zone_id: UUID,
    body: schemas.AnnualReportIn,
    c: ContainerDep,
    principal: PrincipalDep,
    version: IfMatchDep,
    idempotency_key: IdempotencyKeyDep = None,
) -> JSONResponse:
    """The applicant reports a year's work and statistics (due January 31 of the next year; later is
    accepted and marked late)."""
    data = body.model_dump(mode="json", exclude_none=True)
    return _command(
        request,
        c,
        principal,
        body,
        idempotency_key,
        ("applicant",),
        lambda: c.app.file_annual_report(
            zone_id,
            principal.actor,
            year=body.year,
            statistics=data["statistics"],
            summary=body.summary,
            documents=data.get("documents", []),
            expected_version=version,
        ),
    )


@router.post("/{zone_id}/annual-reports/{year}/evaluation", response_model=schemas.ZonePublic, responses=ZONE_RESPONSES)
def evaluate_annual_report(
    request: Request,
    zone_id: UUID,
    year: Annotated[int, Path(ge=2000, le=2100)],
    body: schemas.EvaluationIn,
    c: ContainerDep,
    principal: PrincipalDep,
    version: IfMatchDep,
    idempotency_key: IdempotencyKeyDep = None,
) -> JSONResponse:
    """The bureau's yearly tracking evaluation (跟踪评价) of a filed report; threshold checks are attached."""
    return _command(
        request,
        c,
        principal,
        body,
        idempotency_key,
        ("bureau",),
        lambda: c.app.evaluate_annual_report(
            zone_id, principal.actor, year=year, rating=body.rating, comments=body.comments, expected_version=version
        ),
    )


@router.post("/{zone_id}/review-request", response_model=schemas.ZonePublic, responses=ZONE_RESPONSES)
def request_review(
    request: Request,
    zone_id: UUID,
    c: ContainerDep,
    principal: PrincipalDep,
    version: IfMatchDep,
    body: Annotated[schemas.ReviewRequestIn | None, Body()] = None,
    idempotency_key: IdempotencyKeyDep = None,
) -> JSONResponse:
    """The applicant requests the review (复核) within the 3 months before ``valid_until``."""
    reason = body.reason if body else ""
    return _command(
        request,
        c,
        principal,
        body,
        idempotency_key,
        ("applicant",),
        lambda: c.app.request_review(zone_id, principal.actor, reason=reason, expected_version=version),
    )


@router.post("/{zone_id}/review", response_model=schemas.ZonePublic, responses=ZONE_RESPONSES)
def decide_review(
    request: Request,
    zone_id: UUID,
    body: schemas.ReviewIn,
    c: ContainerDep,
    principal: PrincipalDep,
    version: IfMatchDep,
    idempotency_key: IdempotencyKeyDep = None,
) -> JSONResponse:
    """The bureau decides the review: passed → a new term; failed → a rectification period (整改期,
    default 6 months); failed after rectification → revoked."""
    return _command(
        request,
        c,
        principal,
        body,
        idempotency_key,
        ("bureau",),
        lambda: c.app.decide_review(
            zone_id,
            principal.actor,
            passed=body.passed,
            reasons=body.reasons,
            rectification_months=body.rectification_months,
            expected_version=version,
        ),
    )


@router.post("/{zone_id}/rectification", response_model=schemas.ZonePublic, responses=ZONE_RESPONSES)
def submit_rectification(
    request: Request,
    zone_id: UUID,
    body: schemas.RectificationIn,
    c: ContainerDep,
    principal: PrincipalDep,
    version: IfMatchDep,
    idempotency_key: IdempotencyKeyDep = None,
) -> JSONResponse:
    """The applicant submits its rectification (整改); the zone is reviewed again."""
    return _command(
        request,
        c,
        principal,
        body,
        idempotency_key,
        ("applicant",),
        lambda: c.app.submit_rectification(
            zone_id,
            principal.actor,
            summary=body.summary,
            documents=[d.model_dump() for d in body.documents],
            expected_version=version,
        ),
    )


@router.post("/{zone_id}/revocation", response_model=schemas.ZonePublic, responses=ZONE_RESPONSES)
def revoke(
    request: Request,
    zone_id: UUID,
    body: schemas.RevocationIn,
    c: ContainerDep,
    principal: PrincipalDep,
    version: IfMatchDep,
    idempotency_key: IdempotencyKeyDep = None,
) -> JSONResponse:
    """The bureau revokes the title or the creation qualification (撤销, §6.6)."""
    return _command(
        request,
        c,
        principal,
        body,
        idempotency_key,
        ("bureau",),
        lambda: c.app.revoke(
            zone_id, principal.actor, reason=body.reason, details=body.details, expected_version=version
        ),
    )


# --- queries -----------------------------------------------------------------------------------


@router.get("", response_model=list[schemas.ZoneSummary], responses={401: {"description": "No or bad token"}})
def zones(
    c: ContainerDep,
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
        instant = _instant(as_of, "as_of")
        past = [
            z
            for z in c.app.zones_as_of(instant)
            if (not status or z.status == status) and (not org or z.applicant_org == org)
        ]
        past.sort(key=lambda z: (z.applied_on, str(z.id)), reverse=True)
        return [
            {
                "id": str(z.id),
                "name": z.name,
                "applicant_org": z.applicant_org,
                "status": z.status,
                "version": z.version,
                "batch": z.batch,
                "applied_on": z.applied_on,
                "updated_at": z.modified_on.isoformat(),
            }
            for z in past[offset : offset + limit]
        ]
    with _read(c, "zones") as tx:
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
    c: ContainerDep,
    principal: PrincipalDep,
    as_of: Annotated[datetime | None, Query(description="an ISO 8601 instant with offset")] = None,
) -> JSONResponse:
    """The zone's current state (version, status, dates, deadlines, latest scores); with ``as_of`` the
    state as it stood at that instant, rebuilt from the events (bureau, leading group, inspector)."""
    if as_of is not None:
        require_roles(principal, "bureau", "leading_group", "inspector")
        if as_of.tzinfo is None:
            raise ApiProblem(
                422,
                "validation_failed",
                "as_of needs a time zone offset, e.g. 2024-01-01T00:00:00+08:00.",
                errors=[{"loc": ["query", "as_of"], "msg": "offset required"}],
            )
        past = c.app.as_of(zone_id, as_of)
        document = flag_overdue(redact(zone_document(past, c.app.policy), principal.role), as_of)
        document["as_of"] = as_of.isoformat()
        return JSONResponse(document, headers={"ETag": f'"{past.version}"'})
    document = _document_or_404(c, zone_id)
    _check_reader(principal, document)
    document = flag_overdue(redact(document, principal.role), c.clock.now())
    return JSONResponse(document, headers={"ETag": f'"{document["version"]}"'})


@router.get("/{zone_id}/history", response_model=list[schemas.HistoryEntry], responses=ZONE_RESPONSES)
def history(zone_id: UUID, c: ContainerDep, principal: PrincipalDep) -> list[dict[str, Any]]:
    """Every event in order with its actor, reason, data and hash links (objector identity only for the
    bureau and inspectors)."""
    require_roles(principal, "bureau", "leading_group", "inspector", "applicant")
    document = _document_or_404(c, zone_id)
    _check_reader(principal, document)
    with _read(c, "history") as tx:
        entries = zone_history(tx, zone_id, c.app.events.get(zone_id))
    if principal.role not in SEES_OBJECTORS:
        for e in entries:
            if e["type"] == "ObjectionRaised":
                e["data"] = {k: v for k, v in e["data"].items() if k not in ("objector_name", "contact")}
                e["actor"] = {"sub": "", "role": e["actor"].get("role", "public"), "org": "", "name": ""}
    return entries


@router.get("/{zone_id}/assessment", responses=ZONE_RESPONSES)
def assessment(zone_id: UUID, c: ContainerDep, principal: PrincipalDep) -> dict[str, Any]:
    """Per-expert and panel scores of every panel round, the indicator-system version, maximum and
    percentage (bureau, leading group, inspector)."""
    require_roles(principal, "bureau", "leading_group", "inspector")
    document = _document_or_404(c, zone_id)
    with _read(c, "assessments") as tx:
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


@router.get("/{zone_id}/dossier", responses={**ZONE_RESPONSES, 200: {"content": {"text/html": {}}}})
def dossier(
    request: Request,
    zone_id: UUID,
    c: ContainerDep,
    principal: PrincipalDep,
    format: Annotated[Literal["json", "html"] | None, Query(description="html: a printable page")] = None,
) -> Any:
    """The dispute dossier (争议卷宗; bureau, inspector): each notice exactly as published with the tree
    head it was published under, every objection with its evidence and resolution (who, when, why), the
    panel with conflicts declared, each expert's scores and the panel result under the indicator-system
    version, the full timeline with actors and reasons, and an inclusion proof of every event against a
    signed checkpoint. JSON, or a printable page in Chinese and English (``format=html`` or
    ``Accept: text/html``)."""
    require_roles(principal, "bureau", "inspector")
    if c.checkpoints is None:
        raise ApiProblem(503, "checkpoints_unavailable", "This process does not sign checkpoints.")
    document = build_dossier(c, zone_id)
    if format == "html" or (format is None and "text/html" in request.headers.get("accept", "")):
        return HTMLResponse(render_html(document))
    return JSONResponse(document)
