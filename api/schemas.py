"""Wire types (pydantic v2): what clients send and receive. Converted to plain values at the edge."""

from __future__ import annotations

from typing import Annotated
from typing import Any
from typing import Literal

from pydantic import BaseModel
from pydantic import ConfigDict
from pydantic import Field
from pydantic import StrictBool
from pydantic import field_validator

from api.checks import Day
from api.checks import Instant
from api.checks import Number
from api.checks import printable

Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the document, lowercase hex")]
Text = Annotated[str, Field(max_length=20000)]
ShortText = Annotated[str, Field(min_length=1, max_length=300)]
Reasons = Annotated[str, Field(max_length=20000, description="Why: free text or a document reference")]
Money = Annotated[int, Number, Field(ge=0, le=10**15, description="yuan")]
Count = Annotated[int, Number, Field(ge=0, le=10**9)]
Ratio = Annotated[float, Number, Field(ge=0, le=1, description="a decimal ratio: 0.6 = 60 %")]
Year = Annotated[int, Number, Field(ge=2000, le=2100)]
MaterialKind = Literal[
    "application_form", "application_report", "self_assessment", "coordination_plan", "creation_plan", "other"
]
Status = Literal[
    "applied",
    "returned",
    "rejected",
    "accepted",
    "assessment_requested",
    "assessment_accepted",
    "assessing",
    "assessed",
    "not_passed",
    "in_notice",
    "recommended",
    "granted",
    "in_review",
    "review_passed",
    "rectifying",
    "revoked",
]


class In(BaseModel):
    """Requests refuse unknown fields (a misspelt field is an error, not silently dropped)."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _printable(cls, value: Any) -> Any:
        """Every text of every request (strings, list items, mapping keys): the domain's one rule on text."""
        return printable(value)


class DocumentRef(In):
    """A document uploaded through ``POST /documents``."""

    sha256: Sha256
    name: ShortText


class Material(DocumentRef):
    """An application material (§5)."""

    kind: MaterialKind


class Site(In):
    """One site of the zone (一区多点 allows several)."""

    name: ShortText
    address: Annotated[str, Field(max_length=500)] = ""


class Figures(In):
    """The statistics fields of PROCESS.md, each optional."""

    revenue: Money | None = Field(
        default=None, description="软件和信息技术服务业 software & IT services revenue (§4.3 and indicator 12 count it)"
    )
    internet_revenue: Money | None = Field(
        default=None, description="互联网和相关服务业 internet & related services revenue (indicator 1 counts it too)"
    )
    base_revenue: Money | None = None
    employees: Count | None = None
    city_employees: Count | None = None
    bachelor_share: Ratio | None = None
    firms_over_1bn: Count | None = None
    firms_over_500m: Count | None = None
    firms_over_100m: Count | None = None
    firms_over_20m: Count | None = None
    new_firms_over_20m: Count | None = None
    platforms: Count | None = None
    new_platforms: Count | None = None
    rd_spend: Money | None = None
    industry_rd_intensity: Ratio | None = None
    local_funds: Money | None = None
    city_funds: Money | None = None
    copyrights: Count | None = None
    patents: Count | None = None


class Statistics(Figures):
    """Zone statistics; ``revenue`` is required, the rest optional."""

    revenue: Money


class PlanTarget(Figures):
    """A yearly target of the creation plan; any statistics field may be targeted."""

    year: Year


class Plan(In):
    """The creation plan: base year and yearly targets."""

    base_year: Year | None = None
    targets: Annotated[list[PlanTarget], Field(max_length=20)] = []
    matching_ratio: Annotated[float, Number, Field(ge=0, le=100, allow_inf_nan=False)] | None = Field(
        default=None,
        description="§4.2: the local funds the plan commits per yuan of city funds (0.5 = 1 : 0.5), checked at "
        "formal review",
    )


Score = Annotated[float, Number, Field(allow_inf_nan=False)]


class SelfAssessment(In):
    """The applicant's self-assessment (自评): statistics and, optionally, its own scores."""

    statistics: Statistics
    scores: Annotated[dict[str, Score], Field(max_length=50)] = {}


class ZoneCreate(In):
    """``POST /zones``: the application (申请)."""

    name: Annotated[str, Field(min_length=1, max_length=200)]
    area_type: Literal["park", "committee", "town"]
    sites: Annotated[list[Site], Field(min_length=1, max_length=50)]
    batch: Annotated[str, Field(min_length=1, max_length=50)]
    materials: Annotated[list[Material], Field(max_length=100)] = []
    self_assessment: SelfAssessment
    plan: Plan | None = None


class WaiverIn(In):
    """A waiver of a basic condition the document states "in principle" (原则上)."""

    rule: Annotated[str, Field(min_length=1, max_length=20, description='the section mark, e.g. "§4.3"')]
    reasons: Annotated[str, Field(min_length=1, max_length=20000)]


class FormalReviewIn(In):
    """The formal review (形式审查); an acceptance is the approval to start (批复同意启动)."""

    outcome: Literal["accepted", "returned", "rejected"]
    reasons: Reasons = ""
    approval: DocumentRef | None = Field(default=None, description="the approval document (批复), with an acceptance")
    waivers: Annotated[list[WaiverIn], Field(max_length=10)] | None = None


class ProgressReportIn(In):
    """A progress report (创建工作进展情况, §3.4.2)."""

    summary: Annotated[str, Field(min_length=1, max_length=20000)]
    statistics: Figures | None = None
    documents: Annotated[list[DocumentRef], Field(max_length=50)] = []


class SupervisionIn(In):
    """A supervision visit (督导检查, §3.4.3) or ad-hoc evaluation (测评, §6.3)."""

    kind: Literal["supervision", "evaluation"]
    visited_on: Day
    findings: Annotated[str, Field(min_length=1, max_length=20000)]
    documents: Annotated[list[DocumentRef], Field(max_length=50)] = []


class CreationPeriodIn(In):
    """The bureau's decision once the creation period (创建期) has ended with no grant."""

    outcome: Literal["extended", "cancelled"]
    ends_on: Day | None = Field(default=None, description="the new last day, with outcome extended")
    reasons: Annotated[str, Field(min_length=1, max_length=20000)]
    documents: Annotated[list[DocumentRef], Field(max_length=50)] = []


class AssessmentRequestIn(In):
    """The assessment application (评估申请, §3.2.1)."""

    summary: Annotated[str, Field(min_length=1, max_length=20000)]
    statistics: Statistics
    documents: Annotated[list[DocumentRef], Field(min_length=1, max_length=50)]


class AssessmentRequestDecisionIn(In):
    """The bureau's decision on the assessment application: accepted (受理) or refused."""

    outcome: Literal["accepted", "refused"]
    reasons: Reasons = ""


class SupplementIn(In):
    """A supplement to a returned application."""

    materials: Annotated[list[Material], Field(max_length=100)] = []
    statistics: Statistics | None = None
    plan: Plan | None = None
    note: Reasons = ""


class Expert(In):
    """A panel member, by user id (and organisation: none may come from the applicant, §3.2)."""

    sub: Annotated[str, Field(min_length=1, max_length=200)]
    name: Annotated[str, Field(max_length=200)] = ""
    org: Annotated[str, Field(max_length=200, description="the expert's organisation (not the applicant's)")] | None = (
        None
    )


class PanelIn(In):
    """The expert panel (专家评估组) and its methods."""

    experts: Annotated[list[Expert], Field(min_length=1, max_length=50)]
    methods: Annotated[
        list[Literal["document_review", "site_visit", "key_interviews", "symposium"]], Field(min_length=1, max_length=4)
    ]
    reason: Reasons = ""


class PanelMembersIn(In):
    """Experts added to the sitting panel (增补专家)."""

    experts: Annotated[list[Expert], Field(min_length=1, max_length=50)]
    reason: Reasons = ""


class RecusalIn(In):
    """The bureau's recusal (回避) of a panel expert."""

    expert: Annotated[str, Field(min_length=1, max_length=200, description="the expert's user id (sub)")]
    reasons: Annotated[str, Field(min_length=1, max_length=20000)]


class ConflictIn(In):
    """A conflict of interest (回避)."""

    reason: Annotated[str, Field(min_length=1, max_length=20000)]


class ScoresIn(In):
    """One expert's scores, keyed by indicator number ("1" … "25")."""

    scores: Annotated[dict[str, Score], Field(max_length=100)]
    comment: Text = ""
    reason: Reasons = Field(default="", description="why the sheet is re-filed (required for a re-filing)")


class ConclusionIn(In):
    """The bureau's conclusion on the panel's report."""

    passed: StrictBool
    report: DocumentRef
    reasons: Reasons
    override_reasons: Reasons | None = Field(
        default=None, description="why the conclusion departs from the call's pass mark (required then)"
    )


class NoticeIn(In):
    """The public notice (公示)."""

    text: Annotated[str, Field(min_length=1, max_length=100000)]
    starts_on: Day | None = Field(default=None, description="default: today (Asia/Shanghai)")
    working_days: Annotated[int, Number, Field(ge=1, le=60)] | None = None


OBJECTION_TEXT_MAX = 5000
EVIDENCE_FILES_MAX = 5


class ObjectionIn(In):
    """An objection (异议) during the notice; the objector's identity is shown only to the bureau and inspectors.
    The public sends its evidence as files with the objection (multipart/form-data: these fields, and up to 5
    ``evidence`` files); only a token holder may cite uploaded documents by hash in ``evidence``."""

    objector_name: Annotated[str, Field(min_length=1, max_length=200)]
    contact: Annotated[str, Field(min_length=1, max_length=500)]
    text: Annotated[str, Field(min_length=1, max_length=OBJECTION_TEXT_MAX)]
    evidence: Annotated[list[DocumentRef], Field(max_length=50)] = []
    channel: Literal["letter", "phone", "visit", "email"] | None = Field(
        default=None, description="bureau only: how the bureau received the objection it registers"
    )
    received_at: Instant | None = Field(
        default=None, description="bureau only, with channel: when it was received (within the notice period)"
    )


class ObjectionPage(BaseModel):
    """A page of a zone's objections."""

    zone_id: str
    total: int
    limit: int
    offset: int
    items: list[dict[str, Any]]


class ResolutionIn(In):
    """The bureau's resolution of an objection."""

    outcome: Literal["dismissed", "upheld"]
    consequence: Literal["reassess", "reject"] | None = None
    reasons: Reasons


class RecommendationIn(In):
    """The bureau's recommendation (提请) of the grant, or of the renewal, to the leading group."""

    document: DocumentRef
    reasons: Annotated[str, Field(min_length=1, max_length=20000)]


class GrantIn(In):
    """The grant (授予) by the leading group's announcement (公告)."""

    announcement_no: Annotated[str, Field(min_length=1, max_length=200, description="the announcement's number")]
    announced_on: Day | None = Field(default=None, description="default: today (Asia/Shanghai)")
    document: DocumentRef | None = None
    term_years: Annotated[int, Number, Field(ge=1, le=10, description="3 in principle (§6.4)")] | None = None
    term_reasons: Reasons | None = Field(default=None, description="required when term_years is not 3")
    reason: Reasons = ""


class GrantRefusalIn(In):
    """The leading group declines the recommended grant (or renewal)."""

    reasons: Annotated[str, Field(min_length=1, max_length=20000)]


class AnnualReportIn(In):
    """The annual report (年度报告) on a year."""

    year: Year
    statistics: Statistics
    summary: Annotated[str, Field(min_length=1, max_length=20000)]
    documents: Annotated[list[DocumentRef], Field(max_length=50)] = []


class EvaluationIn(In):
    """The yearly tracking evaluation (跟踪评价)."""

    rating: Literal["excellent", "good", "pass", "fail"]
    comments: Reasons


class ReviewRequestIn(In):
    """The review request (复核申请); the body is optional."""

    reason: Reasons = ""


class ReviewIn(In):
    """The review decision (复核)."""

    passed: StrictBool
    reasons: Reasons
    rectification_months: Annotated[int, Number, Field(ge=1, le=24)] | None = None


class RectificationIn(In):
    """The rectification (整改) submission."""

    summary: Annotated[str, Field(min_length=1, max_length=20000)]
    documents: Annotated[list[DocumentRef], Field(max_length=50)] = []


class CircularIn(In):
    """The public circular (通报) of a revocation, shown on ``GET /notices``."""

    number: Annotated[str, Field(min_length=1, max_length=200, description="the circular's document number (文号)")]
    text: Annotated[str, Field(min_length=1, max_length=100000)]


class RevocationIn(In):
    """The revocation (撤销) on §6.6's grounds: 不履行统计义务 (``statistics_duty``), 隐瞒事实 (``concealment``),
    弄虚作假 (``fraud``) — once established (一经查实: the evidence) and circulated (通报)."""

    reason: Literal["statistics_duty", "concealment", "fraud"]
    details: Annotated[str, Field(min_length=1, max_length=20000)]
    evidence: Annotated[list[DocumentRef], Field(min_length=1, max_length=50)]
    circular: CircularIn


class ClockIn(In):
    """``PUT /admin/clock``."""

    now: Annotated[str, Field(description="an ISO 8601 instant with offset")]


# --- responses ---------------------------------------------------------------------------------


class Deadline(BaseModel):
    """A deadline the zone's history implies."""

    kind: str
    key: str
    due_on: str
    due_at: str
    recorded: bool
    overdue: bool = False


class ZonePublic(BaseModel):
    """A zone as the API shows it."""

    id: str
    name: str
    status: Status
    status_text: str
    version: int
    applicant_org: str
    area_type: str
    sites: list[dict[str, Any]]
    batch: str
    creation_period: dict[str, Any] = Field(
        description="the call's years; from the approval to start also starts_on, ends_on and any extensions"
    )
    indicator_system: str
    applied_on: str
    created_at: str
    updated_at: str
    materials: list[dict[str, Any]]
    self_assessment: dict[str, Any]
    plan: dict[str, Any]
    formal_review: dict[str, Any] | None
    panel: dict[str, Any] | None
    assessment: dict[str, Any] | None
    notice: dict[str, Any] | None
    objection_counts: dict[str, int] = Field(
        default_factory=dict, description="total and per status; the objections: GET /zones/{id}/objections"
    )
    recommendations: list[dict[str, Any]] = []
    term: dict[str, Any] | None
    valid_until: str | None
    terms: list[dict[str, Any]]
    annual_reports: list[dict[str, Any]]
    review: dict[str, Any] | None
    reviews: list[dict[str, Any]]
    revocation: dict[str, Any] | None
    progress_reports: list[dict[str, Any]] | None = Field(default=None, description="shown once there is one")
    supervision: list[dict[str, Any]] | None = Field(default=None, description="shown once there is one")
    assessment_requests: list[dict[str, Any]] | None = Field(default=None, description="shown once there is one")
    deadlines: list[Deadline]
    as_of: str | None = None


class ZoneSummary(BaseModel):
    """A zone in a list."""

    id: str
    name: str
    applicant_org: str
    status: Status
    version: int
    batch: str
    applied_on: str
    updated_at: str


class ObjectionCreated(BaseModel):
    """The objection's id (keep it to follow the resolution)."""

    objection_id: str
    zone_id: str
    notice: int


class HistoryEntry(BaseModel):
    """One event of a zone's history."""

    position: int
    seq: int
    type: str
    at: str
    actor: dict[str, Any]
    reason: str
    data: dict[str, Any]
    hash: str
    prev_hash: str
    objector: dict[str, Any] | None = Field(
        default=None,
        description="bureau and inspectors, on an objection since v3: the objector's name and contact (decrypted), "
        "or the erasure (objector_erased: erased_on, reason, text 'erased on <day> (<reason>)')",
    )


class NoticePublic(BaseModel):
    """A public notice (公示) as published, or the public circular (通报) of a revocation (``kind``)."""

    kind: Literal["notice", "circular"] = "notice"
    zone_id: str
    zone_name: str
    number: int | str = Field(description="a notice's number on its zone (1, 2 …); a circular's document number")
    text: str
    text_sha256: str
    starts_on: str = Field(description="a notice's first day; a circular's: the day of the revocation")
    ends_on: str | None = Field(description="a notice's last day (none for a circular)")
    working_days: int | None
    calendar: str | None
    published_at: str
    objections: int | None
    outcome: str | None
    in_force: bool
    seq: int | None = Field(
        default=None, description="the zone's event that recorded it (for ``/audit/proofs/inclusion``)"
    )
    tree_head: dict[str, Any] | None = Field(
        default=None, description="the first signed checkpoint that includes it (size, root, signature)"
    )
    ground: Literal["statistics_duty", "concealment", "fraud"] | None = Field(
        default=None, description="a circular: the ground of §6.6 the revocation was made on"
    )
    scope: Literal["creation_qualification", "title"] | None = Field(
        default=None, description="a circular: what was revoked — the creation qualification or the title"
    )


class DeadlineRow(BaseModel):
    """A deadline across zones."""

    zone_id: str
    zone_name: str
    applicant_org: str
    kind: str
    key: str
    due_on: str
    due_at: str
    recorded: bool
    overdue: bool


class DocumentOut(BaseModel):
    """An uploaded document."""

    sha256: str
    size: int
    media_type: str
    name: str


class VerifyOut(BaseModel):
    """The hash chain recomputed from the stored events."""

    ok: bool
    events_checked: int
    first_bad: dict[str, Any] | None
    problems: list[dict[str, Any]]


class CalendarIn(In):
    """A year's statutory holidays and adjusted working weekends (调休), as the State Council published them."""

    holidays: Annotated[list[Day], Field(max_length=366)]
    working_days: Annotated[list[Day], Field(max_length=60, description="weekend days that are worked")] = []
    source: Annotated[str, Field(min_length=1, max_length=500, description="the notice they come from")]
    reason: Reasons = ""


class CalendarOut(BaseModel):
    """Which data counts a year's working days."""

    year: int
    source: str
    override: dict[str, Any] | None
    published_years: list[int]
