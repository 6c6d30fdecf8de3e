"""The acts of the process as values: one frozen dataclass per act, run by ``ZoneCommands.execute``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import fields
from datetime import date
from datetime import datetime
from typing import TYPE_CHECKING
from typing import Any
from typing import ClassVar
from uuid import UUID
from uuid import uuid4

from eventsourcing.persistence import IntegrityError

from application.calls import CallBook
from application.core import Idempotency
from application.core import Options
from application.objectors import new_objector
from application.objectors import seal
from application.representation import objection_receipt
from application.workdays import sources
from domain.errors import VersionConflictError
from domain.objectors import Objector
from domain.values import SYSTEM
from domain.values import Actor
from domain.values import local_date
from domain.zone import Zone

if TYPE_CHECKING:
    from typing_extensions import Unpack


@dataclass(frozen=True, kw_only=True)
class ZoneCommand:
    """One act on an existing zone: its fields are what the caller gives, passed on by name."""

    method: ClassVar[Callable[..., None]]  # the zone's method that performs the act
    needs: ClassVar[tuple[str, ...]] = ()  # what the service adds: "policy", "system", "batch"
    uploads: ClassVar[tuple[str, ...]] = ()  # the fields that reference uploaded documents

    def given(self) -> dict[str, Any]:
        """The fields as the zone's method takes them."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def perform(self, service: ZoneCommands, zone: Zone, actor: Actor, at: datetime) -> None:
        """Calls the zone's method with the fields and what the service adds."""
        type(self).method(zone, actor=actor, at=at, **self.given(), **service.context(self.needs, zone))


@dataclass(frozen=True, kw_only=True)
class FormalReview(ZoneCommand):
    """The bureau's formal review (形式审查): accepted, returned or rejected."""

    method = Zone.formal_review
    needs = ("batch", "system", "policy")
    uploads = ("approval",)
    outcome: str
    reasons: str = ""
    approval: dict[str, Any] | None = None
    waivers: list[dict[str, Any]] | None = None


@dataclass(frozen=True, kw_only=True)
class Supplement(ZoneCommand):
    """The applicant supplements a returned application."""

    method = Zone.supplement
    uploads = ("materials",)
    materials: list[dict[str, Any]]
    statistics: dict[str, Any] | None = None
    plan: dict[str, Any] | None = None
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class ReportProgress(ZoneCommand):
    """The applicant reports its creation work's progress (创建工作进展情况)."""

    method = Zone.report_progress
    uploads = ("documents",)
    summary: str
    statistics: dict[str, Any] | None = None
    documents: list[dict[str, Any]] | None = None


@dataclass(frozen=True, kw_only=True)
class RecordSupervision(ZoneCommand):
    """The bureau records a supervision visit (督导检查) or an ad-hoc evaluation (测评)."""

    method = Zone.record_supervision
    uploads = ("documents",)
    kind: str
    visited_on: date | str
    findings: str
    documents: list[dict[str, Any]] | None = None


@dataclass(frozen=True, kw_only=True)
class DecideCreationPeriod(ZoneCommand):
    """The bureau extends the ended creation period or cancels the creation qualification (取消创建资格)."""

    method = Zone.decide_creation_period
    uploads = ("documents",)
    outcome: str
    reasons: str
    ends_on: date | str | None = None
    documents: list[dict[str, Any]] | None = None


@dataclass(frozen=True, kw_only=True)
class RequestAssessment(ZoneCommand):
    """The applicant files its assessment application (评估申请)."""

    method = Zone.request_assessment
    needs = ("system",)
    uploads = ("documents",)
    summary: str
    statistics: dict[str, Any]
    documents: list[dict[str, Any]]


@dataclass(frozen=True, kw_only=True)
class DecideAssessmentRequest(ZoneCommand):
    """The bureau accepts (受理) or refuses the assessment application."""

    method = Zone.decide_assessment_request
    outcome: str
    reasons: str = ""


@dataclass(frozen=True, kw_only=True)
class AppointPanel(ZoneCommand):
    """The bureau appoints the expert panel (专家评估组)."""

    method = Zone.appoint_panel
    needs = ("policy",)
    experts: list[dict[str, Any]]
    methods: list[str]
    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class AddPanelMembers(ZoneCommand):
    """The bureau adds experts to the sitting panel (增补专家)."""

    method = Zone.add_panel_members
    experts: list[dict[str, Any]]
    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class RecuseExpert(ZoneCommand):
    """The bureau recuses an expert of the panel (回避) with reasons."""

    method = Zone.recuse_expert
    expert: str
    reasons: str


@dataclass(frozen=True, kw_only=True)
class DeclareConflict(ZoneCommand):
    """A panel expert declares a conflict of interest (回避)."""

    method = Zone.declare_conflict
    reason: str


@dataclass(frozen=True, kw_only=True)
class FileScores(ZoneCommand):
    """A panel expert files scores for every indicator."""

    method = Zone.file_scores
    needs = ("system",)
    scores: dict[str, Any]
    comment: str = ""
    reason: str = ""  # why a sheet is re-filed (required then)


@dataclass(frozen=True, kw_only=True)
class ConcludeAssessment(ZoneCommand):
    """The bureau confirms the panel's report and forms the conclusion (评估结论)."""

    method = Zone.conclude_assessment
    needs = ("system", "policy", "batch")
    uploads = ("report",)
    passed: bool
    report: dict[str, Any]
    reasons: str
    override_reasons: str | None = None


@dataclass(frozen=True, kw_only=True)
class PublishNotice(ZoneCommand):
    """The bureau publishes the public notice (公示); its end is counted in working days."""

    method = Zone.publish_notice
    text: str
    starts_on: date | None = None
    working_days: int | None = None

    def perform(self, service: ZoneCommands, zone: Zone, actor: Actor, at: datetime) -> None:
        """Counts the notice's last day on the working-day calendar, and records which data counted it."""
        start = self.starts_on or local_date(at)
        ends_on, n = service.notice_period(start, self.working_days)
        calendar = sources(service.calendar.pinned(), start, ends_on)
        zone.publish_notice(
            actor=actor, at=at, text=self.text, starts_on=start, ends_on=ends_on, working_days=n, calendar=calendar
        )


@dataclass(frozen=True, kw_only=True)
class ObjectionCommand(ZoneCommand):
    """An objection (异议) to the notice, however it came: what both raising and registering one take."""

    uploads = ("evidence",)
    objection_id: str
    objector: Objector  # name and contact, kept apart from the record (``application.objectors``)
    text: str
    evidence: list[dict[str, Any]] | None = None


@dataclass(frozen=True, kw_only=True)
class RaiseObjection(ObjectionCommand):
    """Anyone raises an objection (异议) during the notice."""

    method = Zone.raise_objection


@dataclass(frozen=True, kw_only=True)
class RegisterObjection(ObjectionCommand):
    """The bureau registers an objection it received by letter, phone, visit or email during the notice."""

    method = Zone.register_objection
    channel: str | None
    received_at: datetime | None


@dataclass(frozen=True, kw_only=True)
class ResolveObjection(ZoneCommand):
    """The bureau resolves an objection: dismissed, or upheld with its consequence."""

    method = Zone.resolve_objection
    objection_id: str
    outcome: str
    consequence: str | None = None
    reasons: str


@dataclass(frozen=True, kw_only=True)
class Recommend(ZoneCommand):
    """The bureau recommends the grant, or the renewal, to the leading group (提请)."""

    method = Zone.recommend
    uploads = ("document",)
    document: dict[str, Any]
    reasons: str


@dataclass(frozen=True, kw_only=True)
class Grant(ZoneCommand):
    """The leading group grants the title by announcement (公告授予), on the bureau's recommendation."""

    method = Zone.grant
    needs = ("policy",)
    uploads = ("document",)
    announcement_no: str
    announced_on: date | None = None
    document: dict[str, Any] | None = None
    term_years: int | None = None
    term_reasons: str | None = None
    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class RefuseGrant(ZoneCommand):
    """The leading group declines the recommended grant (or renewal), with reasons."""

    method = Zone.refuse_grant
    reasons: str


@dataclass(frozen=True, kw_only=True)
class FileAnnualReport(ZoneCommand):
    """The applicant files a year's report (年度报告)."""

    method = Zone.file_annual_report
    needs = ("policy",)
    uploads = ("documents",)
    year: int
    statistics: dict[str, Any]
    summary: str
    documents: list[dict[str, Any]] | None = None


@dataclass(frozen=True, kw_only=True)
class EvaluateAnnualReport(ZoneCommand):
    """The bureau's yearly tracking evaluation (跟踪评价) of a report."""

    method = Zone.evaluate_annual_report
    needs = ("system",)
    year: int
    rating: str
    comments: str


@dataclass(frozen=True, kw_only=True)
class RequestReview(ZoneCommand):
    """The applicant requests the review (复核)."""

    method = Zone.request_review
    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class DecideReview(ZoneCommand):
    """The bureau decides a review: passed, rectification (整改), or revoked."""

    method = Zone.decide_review
    needs = ("policy",)
    passed: bool
    reasons: str
    rectification_months: int | None = None


@dataclass(frozen=True, kw_only=True)
class SubmitRectification(ZoneCommand):
    """The applicant submits its rectification (整改)."""

    method = Zone.submit_rectification
    uploads = ("documents",)
    summary: str
    documents: list[dict[str, Any]] | None = None


@dataclass(frozen=True, kw_only=True)
class Revoke(ZoneCommand):
    """The bureau revokes the creation qualification or the title (撤销) on §6.6's grounds, with evidence and
    the public circular (通报)."""

    method = Zone.revoke
    uploads = ("evidence",)
    reason: str
    details: str
    evidence: list[dict[str, Any]]
    circular: dict[str, Any]


@dataclass(frozen=True, kw_only=True)
class RecordDeadline(ZoneCommand):
    """A deadline the scheduler records (each at most once)."""

    method = Zone.record_deadline
    needs = ("policy",)
    key: str


def named(command: type[ZoneCommand]) -> Callable[..., Zone]:
    """The service method for a command: ``(zone_id, actor, **fields, expected_version=…, idempotency=…)``."""

    def run(self: ZoneCommands, zone_id: UUID, actor: Actor, /, **given: Any) -> Zone:
        options: Options = {}
        if "expected_version" in given:
            options["expected_version"] = given.pop("expected_version")
        if "idempotency" in given:
            options["idempotency"] = given.pop("idempotency")
        return self.execute(zone_id, actor, command(**given), **options)

    run.__name__ = run.__qualname__ = command.__name__
    run.__doc__ = command.__doc__
    return run


class ZoneCommands(CallBook):
    """Every act of the process on a zone: ``execute`` for a command value, or the named method."""

    def execute(self, zone_id: UUID, actor: Actor, command: ZoneCommand, **options: Unpack[Options]) -> Zone:
        """Runs ``command`` on the zone for ``actor`` (documents checked first, nothing recorded if refused)."""
        for name in command.uploads:
            value = getattr(command, name)
            self._check_documents([value] if isinstance(value, dict) else value, name)
        return self.run(zone_id, lambda z, at: command.perform(self, z, actor, at), **options)

    def context(self, needs: tuple[str, ...], zone: Zone) -> dict[str, Any]:
        """What the service adds to a command: the policy, the zone's indicator system or its batch."""
        known: dict[str, Callable[[], Any]] = {
            "policy": lambda: self.policy,
            "system": lambda: self._system_for(zone),
            "batch": lambda: self._batch(zone.batch),
        }
        return {name: known[name]() for name in needs}

    def apply(self, actor: Actor, *, batch: str, zone_id: UUID | None = None, **given: Any) -> Zone:
        """An applicant files an application (申请) — name, area type, sites, materials, self-assessment, plan — in
        the call ``batch``; returns the new zone (status ``applied``).

        The zone and the case it opens in the call are saved together: of two applications by one
        organisation at the same moment, one conflicts on the call, is retried once, and is then refused as a
        duplicate."""
        idempotency: Idempotency | None = given.pop("idempotency", None)
        self._check_documents(given.get("materials"), "materials")
        zone_id = zone_id or uuid4()
        for attempt in (1, 2):
            call, at = self._call_for(batch), self.clock.now()
            earlier = self._statuses(call, actor.org)
            previous = call.open_case(actor=actor, at=at, zone_id=zone_id, earlier=earlier)
            zone = Zone.file_application(
                zone_id=zone_id,
                actor=actor,
                at=at,
                batch=call.batch(),
                system=self.system,
                previous_case=previous,
                **given,
            )
            try:
                self._save_with(zone, idempotency, None, call)
            except IntegrityError:
                if attempt == 1 and not self.recorder.select_events(zone_id, limit=1):
                    continue  # the call moved on: another application in it was saved meanwhile
                raise VersionConflictError(
                    "A zone with this id already exists, or the call changed at the same moment twice; "
                    "nothing was recorded."
                ) from None
            return zone
        raise AssertionError("unreachable")  # pragma: no cover

    def raise_objection(
        self, zone_id: UUID, actor: Actor, *, idempotency: Idempotency | None = None, **given: Any
    ) -> tuple[Zone, str]:
        """Anyone raises an objection during the notice; with ``channel`` and ``received_at`` the bureau registers
        one it received by letter, phone, visit or email. Returns the zone and the objection id."""
        given = {"objection_id": str(uuid4()), **given}
        objector = new_objector(given.pop("objector_name", None), given.pop("contact", None))
        given["objector"] = objector
        registered = given.get("channel") is not None or given.get("received_at") is not None
        command: ObjectionCommand = (
            RegisterObjection(**{"channel": None, "received_at": None, **given})
            if registered
            else RaiseObjection(**{k: v for k, v in given.items() if k not in ("channel", "received_at")})
        )
        self._check_documents(command.evidence, "evidence")
        zone = self.run(
            zone_id,
            lambda z, at: command.perform(self, z, actor, at),
            idempotency=idempotency,
            answer=lambda z: objection_receipt(z, command.objection_id),
            # the objector's identity, sealed, is written in the transaction that records the objection
            side={"objector": seal(objector, zone_id=zone_id, objection_id=command.objection_id, at=self.clock.now())},
        )
        return zone, command.objection_id

    def record_deadline(self, zone_id: UUID, key: str) -> Zone:
        """Records one due deadline event (the scheduler's command); refused if already recorded."""
        return self.execute(zone_id, SYSTEM, RecordDeadline(key=key))

    formal_review = named(FormalReview)
    supplement = named(Supplement)
    report_progress = named(ReportProgress)
    record_supervision = named(RecordSupervision)
    decide_creation_period = named(DecideCreationPeriod)
    request_assessment = named(RequestAssessment)
    decide_assessment_request = named(DecideAssessmentRequest)
    appoint_panel = named(AppointPanel)
    add_panel_members = named(AddPanelMembers)
    recuse_expert = named(RecuseExpert)
    declare_conflict = named(DeclareConflict)
    file_scores = named(FileScores)
    conclude_assessment = named(ConcludeAssessment)
    publish_notice = named(PublishNotice)
    resolve_objection = named(ResolveObjection)
    recommend = named(Recommend)
    grant = named(Grant)
    refuse_grant = named(RefuseGrant)
    file_annual_report = named(FileAnnualReport)
    evaluate_annual_report = named(EvaluateAnnualReport)
    request_review = named(RequestReview)
    decide_review = named(DecideReview)
    submit_rectification = named(SubmitRectification)
    revoke = named(Revoke)
