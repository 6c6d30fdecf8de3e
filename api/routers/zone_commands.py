"""Zones, the commands: one route per act of the process, each naming who may do it and what it calls."""

from __future__ import annotations

import logging
from typing import Annotated
from typing import Any
from uuid import UUID
from uuid import uuid4

from fastapi import APIRouter
from fastapi import Body
from fastapi import Depends
from fastapi import Path
from fastapi.responses import JSONResponse

from api import schemas
from api.commands import By
from api.commands import Command
from api.deps import PUBLIC
from api.deps import require_roles
from api.errors import ZONE_RESPONSES
from api.errors import ApiProblem
from api.limits import objection_rate
from api.objections import ObjectionSubmission
from api.objections import objection_body_schema
from api.objections import objection_submission
from api.objections import store_evidence
from application.commands import AddPanelMembers
from application.commands import AppointPanel
from application.commands import ConcludeAssessment
from application.commands import DecideAssessmentRequest
from application.commands import DecideCreationPeriod
from application.commands import DecideReview
from application.commands import DeclareConflict
from application.commands import EvaluateAnnualReport
from application.commands import FileAnnualReport
from application.commands import FileScores
from application.commands import FormalReview
from application.commands import Grant
from application.commands import PublishNotice
from application.commands import Recommend
from application.commands import RecordSupervision
from application.commands import RecuseExpert
from application.commands import RefuseGrant
from application.commands import ReportProgress
from application.commands import RequestAssessment
from application.commands import RequestReview
from application.commands import ResolveObjection
from application.commands import Revoke
from application.commands import SubmitRectification
from application.commands import Supplement
from application.representation import objection_receipt

log = logging.getLogger("zonecase.api")
router = APIRouter(prefix="/zones", tags=["zones"])
ZONE: dict[str, Any] = {"response_model": schemas.ZonePublic, "responses": ZONE_RESPONSES}

Bureau = Annotated[Command, By("bureau")]
Applicant = Annotated[Command, By("applicant")]
NewZone = Annotated[Command, By("applicant", creates=True)]
Expert = Annotated[Command, By("expert")]
LeadingGroup = Annotated[Command, By("leading_group")]
Anyone = Annotated[
    Command, By("public", "applicant", "bureau", "expert", "leading_group", anonymous=True, creates=True)
]


@router.post("", status_code=201, **ZONE)
def apply(body: schemas.ZoneCreate, cmd: NewZone) -> JSONResponse:
    """An applicant (town government or park committee) files an application (申请). The applicant
    organisation is the token's ``org``. Returns the zone with status ``applied``, 201 and ``Location``."""
    data, zone_id = body.model_dump(mode="json", exclude_none=True), uuid4()
    return cmd.run(
        body, lambda o: cmd.app.apply(cmd.actor, zone_id=zone_id, idempotency=o.get("idempotency"), **data), status=201
    )


@router.post("/{zone_id}/formal-review", **ZONE)
def formal_review(zone_id: UUID, body: schemas.FormalReviewIn, cmd: Bureau) -> JSONResponse:
    """The bureau's formal review (形式审查): ``accepted`` (only with complete materials and every basic
    condition met — a refusal lists the failing checks), ``returned`` for supplement, or ``rejected``.

    An acceptance is the approval to start (批复同意启动): it records the approval document (``approval``, an
    uploaded document) and opens the creation period (创建期), shown as ``creation_period.starts_on`` /
    ``ends_on``: from the acceptance to the last day of the call's period (first batch 2021–2023 →
    2023-12-31), or, when that has passed, for 3 years less a day. ``waivers: [{rule: "§4.3", reasons}]``
    waives a failing condition the document states "in principle" (原则上: §4.3, 10亿元); another → 409
    ``conditions_not_met``. §4.2 is the matching ratio the plan commits to (``plan.matching_ratio`` ≥ 0.5)."""
    return cmd.send(zone_id, body, FormalReview(**body.model_dump(mode="json", exclude_none=True)))


@router.post("/{zone_id}/supplements", **ZONE)
def supplement(zone_id: UUID, body: schemas.SupplementIn, cmd: Applicant) -> JSONResponse:
    """The applicant supplements a returned application; it awaits formal review again."""
    data = body.model_dump(mode="json", exclude_none=True)
    return cmd.send(zone_id, body, Supplement(**data))


@router.post("/{zone_id}/progress-reports", **ZONE)
def report_progress(zone_id: UUID, body: schemas.ProgressReportIn, cmd: Applicant) -> JSONResponse:
    """The applicant reports its creation work's progress (创建工作进展情况, §3.4.2) whenever it chooses, in its
    creation period: from the approval to start until the grant (409 otherwise)."""
    return cmd.send(zone_id, body, ReportProgress(**body.model_dump(mode="json", exclude_none=True)))


@router.post("/{zone_id}/supervision", **ZONE)
def record_supervision(zone_id: UUID, body: schemas.SupervisionIn, cmd: Bureau) -> JSONResponse:
    """The bureau records a supervision visit (``supervision``, 督导检查, §3.4.3) or an ad-hoc evaluation
    (``evaluation``, 测评, §6.3) with its findings and documents — from the approval to start through the
    title's term, review and rectification (409 otherwise)."""
    return cmd.send(zone_id, body, RecordSupervision(**body.model_dump(mode="json")))


@router.post("/{zone_id}/creation-period", **ZONE)
def decide_creation_period(zone_id: UUID, body: schemas.CreationPeriodIn, cmd: Bureau) -> JSONResponse:
    """Once the creation period (创建期) has ended with no grant (deadline ``creation_period_ended``), the
    bureau ``extended`` it to a later ``ends_on`` (a new deadline) or ``cancelled`` the creation qualification
    (取消创建资格): the zone is ``revoked`` with ``revocation.scope`` ``creation_qualification`` and cause
    ``creation_period_ended``. Refused (409 ``too_early``) while the period runs."""
    return cmd.send(zone_id, body, DecideCreationPeriod(**body.model_dump(mode="json", exclude_none=True)))


@router.post("/{zone_id}/assessment-request", **ZONE)
def request_assessment(zone_id: UUID, body: schemas.AssessmentRequestIn, cmd: Applicant) -> JSONResponse:
    """The applicant files its assessment application (评估申请, §3.2.1) — documents and current statistics,
    threshold checks attached — from ``accepted`` within the creation period → ``assessment_requested``."""
    return cmd.send(zone_id, body, RequestAssessment(**body.model_dump(mode="json", exclude_none=True)))


@router.post("/{zone_id}/assessment-request/decision", **ZONE)
def decide_assessment_request(zone_id: UUID, body: schemas.AssessmentRequestDecisionIn, cmd: Bureau) -> JSONResponse:
    """The bureau accepts (受理) the assessment application → ``assessment_accepted`` (the panel may be
    appointed), or refuses it with reasons → back to ``accepted`` (the applicant may file again while the
    creation period runs)."""
    return cmd.send(zone_id, body, DecideAssessmentRequest(**body.model_dump()))


@router.post("/{zone_id}/assessment/panel", **ZONE)
def appoint_panel(zone_id: UUID, body: schemas.PanelIn, cmd: Bureau) -> JSONResponse:
    """The bureau appoints the expert panel (专家评估组) and records its methods — once it has accepted the
    assessment application (``assessment_accepted``), or to replace a panel that has not concluded: at least the
    configured minimum of experts (default 3), none of them from the applicant organisation (an expert whose
    ``org`` is the applicant's → 422, §3.2)."""
    return cmd.send(zone_id, body, AppointPanel(**body.model_dump(mode="json")))


@router.post("/{zone_id}/assessment/panel/members", **ZONE)
def add_panel_members(zone_id: UUID, body: schemas.PanelMembersIn, cmd: Bureau) -> JSONResponse:
    """The bureau adds experts to the sitting panel (增补专家, §3.2) — for instance when conflicts and recusals
    leave too few to conclude. Refused (409 ``already_on_panel``) for an expert on the panel already; an
    expert of the applicant organisation → 422. The added experts must score before the conclusion."""
    return cmd.send(zone_id, body, AddPanelMembers(**body.model_dump(mode="json")))


@router.post("/{zone_id}/assessment/recusals", **ZONE)
def recuse_expert(zone_id: UUID, body: schemas.RecusalIn, cmd: Bureau) -> JSONResponse:
    """The bureau recuses a panel expert (回避, §3.2) with reasons: the expert may no longer score, and a sheet
    filed before the recusal is not counted. Refused (409) for an expert not on the panel
    (``expert_not_on_panel``), or one already recused or who declared a conflict (``already_recused``)."""
    return cmd.send(zone_id, body, RecuseExpert(**body.model_dump()))


@router.post("/{zone_id}/assessment/conflicts", **ZONE)
def declare_conflict(zone_id: UUID, body: schemas.ConflictIn, cmd: Expert) -> JSONResponse:
    """An expert on the panel declares a conflict of interest (回避); they may then not score."""
    return cmd.send(zone_id, body, DeclareConflict(reason=body.reason))


@router.put("/{zone_id}/assessment/scores", **ZONE)
def file_scores(zone_id: UUID, body: schemas.ScoresIn, cmd: Expert) -> JSONResponse:
    """An unconflicted panel expert files scores for every indicator (0..weight); re-filing replaces
    the sheet, and both stay in the history. A re-filing must say why (``reason``; 422 without)."""
    return cmd.send(zone_id, body, FileScores(**body.model_dump()))


@router.post("/{zone_id}/assessment/conclusion", **ZONE)
def conclude(zone_id: UUID, body: schemas.ConclusionIn, cmd: Bureau) -> JSONResponse:
    """The bureau confirms the panel's report and forms the conclusion (评估结论): ``assessed`` or
    ``not_passed``, with the panel score under the zone's indicator-system version — ``total``, ``max`` (of
    that version: 98 for 2021, not renormalised to 100), ``percentage`` (a ratio: 0.7833 = 78.33 %) and
    ``groups`` (each group's score against its maximum and its declared weight). Refused (409
    ``panel_too_small``) while fewer than the minimum of unconflicted experts may score — add members first —
    and (409) while one of them has not scored. Where the call sets a pass mark and the conclusion goes
    against it, ``override_reasons`` must say why (422 without)."""
    return cmd.send(zone_id, body, ConcludeAssessment(**body.model_dump()))


@router.post("/{zone_id}/notice", **ZONE)
def publish_notice(zone_id: UUID, body: schemas.NoticeIn, cmd: Bureau) -> JSONResponse:
    """The bureau publishes the public notice (公示); ``notice.ends_on`` is counted in working days on the
    Chinese calendar (default 5). A checkpoint is signed at once: the notice shows the tree head it was
    published under (``GET /notices``)."""
    return _published(cmd, zone_id, cmd.send(zone_id, body, PublishNotice(**body.model_dump())), "public notice")


def _published(cmd: Command, zone_id: UUID, response: JSONResponse, what: str) -> JSONResponse:
    """Signs a tree head at once after a public act (a notice, a circular), so that the board shows the head it was
    published under and anyone can verify it there."""
    checkpoints = cmd.services.checkpoints
    if response.status_code == 200 and checkpoints is not None:
        try:
            checkpoints.sign(f"{what} of zone {zone_id}")
        except Exception:  # the act stands; the hourly checkpoint will cover it
            log.exception("signing the tree head for a %s failed", what)
    return response


@router.post(
    "/{zone_id}/objections",
    status_code=201,
    response_model=schemas.ObjectionCreated,
    responses={
        **ZONE_RESPONSES,
        415: {"description": "An evidence file of a type not accepted"},
        429: {"description": "Too many objections from this address or on this zone (Retry-After)"},
    },
    openapi_extra=objection_body_schema(),
)
def raise_objection(
    zone_id: UUID, cmd: Anyone, submission: Annotated[ObjectionSubmission, Depends(objection_submission)]
) -> JSONResponse:
    """Anyone may object (异议) while the notice runs; no token is needed. The objector's name and contact
    are shown only to the bureau and inspectors. The text is at most 5,000 characters. The public sends its
    evidence as files with the objection (``multipart/form-data``: the fields below as form fields, and up to 5
    files named ``evidence``; PDF, images, Office, OFD, text); citing stored documents by hash needs a token (422
    ``evidence_upload_required`` otherwise). Public objections are rate-limited per client address and per zone
    (429 ``rate_limited`` with ``Retry-After``). With a bureau token, ``channel`` (letter, phone, visit, email)
    and ``received_at``, the bureau registers an objection it received: ``received_at`` must fall
    within the notice (``starts_on`` … the end of ``ends_on``, Asia/Shanghai); one received within it may be
    registered after ``ends_on`` too, as long as nothing has been recommended (409 otherwise)."""
    body = submission.body
    if body.channel is not None or body.received_at is not None:  # the bureau registers one it received
        if cmd.principal is PUBLIC:
            raise ApiProblem(
                401,
                "unauthorized",
                "Registering an objection received by letter, phone, visit or email needs a "
                "bureau token (Authorization: Bearer <JWT>).",
            )
        require_roles(cmd.principal, "bureau")
    if cmd.principal is PUBLIC and body.evidence:
        raise ApiProblem(  # the same answer whether the hash is stored or not
            422,
            "evidence_upload_required",
            "Evidence from the public is sent as files with the objection (multipart/form-data, files named "
            "evidence), not as references to stored documents.",
            errors=[{"loc": ["evidence"], "msg": "upload the files with the objection"}],
        )
    if cmd.principal.role != "bureau":
        objection_rate(cmd.request, str(zone_id))
    if submission.files:
        uploaded = store_evidence(cmd, submission.files)
        body = schemas.ObjectionIn.model_validate(
            {**body.model_dump(), "evidence": [*body.model_dump()["evidence"], *uploaded]}
        )
    oid = str(uuid4())
    return cmd.run(
        body,
        lambda o: cmd.app.raise_objection(
            zone_id, cmd.actor, objection_id=oid, idempotency=o.get("idempotency"), **body.model_dump()
        )[0],
        status=201,
        answer=lambda zone: objection_receipt(zone, oid),
    )


@router.post("/{zone_id}/objections/{objection_id}/resolution", **ZONE)
def resolve_objection(zone_id: UUID, objection_id: str, body: schemas.ResolutionIn, cmd: Bureau) -> JSONResponse:
    """The bureau resolves an objection: ``dismissed``, or ``upheld`` with ``consequence`` ``reassess``
    (back to ``assessment_accepted``: a new panel, then a new notice) or ``reject``. Upholding one closes the
    notice's other open objections as ``superseded`` (with ``superseded_by``)."""
    return cmd.send(zone_id, body, ResolveObjection(objection_id=objection_id, **body.model_dump()))


@router.post("/{zone_id}/recommendation", **ZONE)
def recommend(zone_id: UUID, body: schemas.RecommendationIn, cmd: Bureau) -> JSONResponse:
    """The bureau recommends the grant to the leading group (提请, §3.3) → ``recommended``: once the public
    notice has ended with no objection open or upheld (from ``in_notice``, or from ``assessed`` after the
    leading group declined), or the renewal after a passed review (from ``review_passed``). It records the
    dismissed objections it considered. 409 otherwise, saying why (``too_early``, ``objection_open``,
    ``illegal_transition``)."""
    return cmd.send(zone_id, body, Recommend(**body.model_dump()))


@router.post("/{zone_id}/grant", **ZONE)
def grant(zone_id: UUID, body: schemas.GrantIn, cmd: LeadingGroup) -> JSONResponse:
    """The leading group grants the title by announcement (公告授予) on the bureau's recommendation — the zone
    must be ``recommended``. ``valid_until`` is the term's last day: the day before the same date three years
    on (announced 2026-10-13 → 2029-10-12); the title expires the day after. Another ``term_years`` needs
    ``term_reasons`` (422). A renewal (继续授予) continues from the old term's end, whatever the date."""
    return cmd.send(zone_id, body, Grant(**body.model_dump()))


@router.post("/{zone_id}/grant-refusal", **ZONE)
def refuse_grant(zone_id: UUID, body: schemas.GrantRefusalIn, cmd: LeadingGroup) -> JSONResponse:
    """The leading group declines the recommended grant, with reasons: back to ``assessed`` (the bureau may
    recommend again, or not), or, for a renewal, back to ``in_review``."""
    return cmd.send(zone_id, body, RefuseGrant(**body.model_dump()))


@router.post("/{zone_id}/annual-reports", **ZONE)
def file_annual_report(zone_id: UUID, body: schemas.AnnualReportIn, cmd: Applicant) -> JSONResponse:
    """The applicant reports a year's work and statistics (due January 31 of the next year; later is
    accepted and marked late)."""
    data = body.model_dump(mode="json", exclude_none=True)
    return cmd.send(zone_id, body, FileAnnualReport(**data))


@router.post("/{zone_id}/annual-reports/{year}/evaluation", **ZONE)
def evaluate_annual_report(
    zone_id: UUID, year: Annotated[int, Path(ge=2000, le=2100)], body: schemas.EvaluationIn, cmd: Bureau
) -> JSONResponse:
    """The bureau's yearly tracking evaluation (跟踪评价) of a filed report; threshold checks are attached."""
    return cmd.send(zone_id, body, EvaluateAnnualReport(year=year, **body.model_dump()))


@router.post("/{zone_id}/review-request", **ZONE)
def request_review(
    zone_id: UUID, cmd: Applicant, body: Annotated[schemas.ReviewRequestIn | None, Body()] = None
) -> JSONResponse:
    """The applicant requests the review (复核) within the 3 months before ``valid_until``."""
    reason = body.reason if body else ""
    return cmd.send(zone_id, body, RequestReview(reason=reason))


@router.post("/{zone_id}/review", **ZONE)
def decide_review(zone_id: UUID, body: schemas.ReviewIn, cmd: Bureau) -> JSONResponse:
    """The bureau decides the review against the creation plan's goals (``review.checks``: the plan's final-year
    targets against the latest annual statistics): passed → ``review_passed`` (then the recommendation and
    the renewal by announcement); failed → a rectification period (整改期,
    default 6 months); failed after rectification → revoked. Once the rectification period has ended with
    nothing submitted (the ``rectification_overdue`` deadline recorded), ``passed: false`` revokes at once
    (cause ``rectification_not_submitted``)."""
    return cmd.send(zone_id, body, DecideReview(**body.model_dump()))


@router.post("/{zone_id}/rectification", **ZONE)
def submit_rectification(zone_id: UUID, body: schemas.RectificationIn, cmd: Applicant) -> JSONResponse:
    """The applicant submits its rectification (整改); the zone is reviewed again."""
    return cmd.send(zone_id, body, SubmitRectification(**body.model_dump()))


@router.post("/{zone_id}/revocation", **ZONE)
def revoke(zone_id: UUID, body: schemas.RevocationIn, cmd: Bureau) -> JSONResponse:
    """The bureau revokes on §6.6's grounds only — ``statistics_duty``, ``concealment`` or ``fraud`` — with
    the evidence (uploaded documents, at least one) and the public circular (通报, shown on ``GET /notices``).
    Before a grant it cancels the creation qualification (``revocation.scope``: ``creation_qualification``),
    after it the title (``title``). Refused (409) before formal acceptance: rejection is the act there. A
    checkpoint is signed at once: the circular shows the tree head it was published under."""
    return _published(cmd, zone_id, cmd.send(zone_id, body, Revoke(**body.model_dump())), "revocation circular")
