"""The zone's state (案件状态) as frozen records, built by the events and shown as plain values."""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from dataclasses import replace
from datetime import date
from types import MappingProxyType
from typing import Any

from domain.records import OMITTED_WHEN_NONE
from domain.records import Record
from domain.records import as_plain
from domain.records import day
from domain.records import frozen
from domain.records import mapping
from domain.records import with_item
from domain.values import day_after

# --- the application ----------------------------------------------------------------------------

# What each status means, in the words a refusal uses.
STATUS_WORDS = {
    "applied": "applied, awaiting formal review (形式审查)",
    "returned": "returned to the applicant for supplement",
    "rejected": "rejected",
    "accepted": "formally accepted, awaiting an expert panel",
    "assessing": "under assessment by the expert panel",
    "assessed": "assessed (passed), awaiting the public notice (公示)",
    "not_passed": "assessed and not passed",
    "in_notice": "in public notice (公示)",
    "granted": "granted the title",
    "in_review": "under review (复核)",
    "rectifying": "in its rectification period (整改期)",
    "revoked": "revoked",
}


@dataclass(frozen=True, kw_only=True)
class Document(Record):
    """A document reference: SHA-256 and name (and, for application materials, the kind)."""

    kind: str | None = field(default=None, metadata=OMITTED_WHEN_NONE)
    name: str
    sha256: str

    @classmethod
    def from_data(cls, d: Mapping[str, Any]) -> Document:
        return cls(kind=d.get("kind"), name=d["name"], sha256=d["sha256"])

    @classmethod
    def from_list(cls, refs: Iterable[Mapping[str, Any]]) -> tuple[Document, ...]:
        return tuple(cls.from_data(r) for r in refs)


@dataclass(frozen=True, kw_only=True)
class Site(Record):
    """One site of the zone (一区多点)."""

    address: str
    name: str


@dataclass(frozen=True, kw_only=True)
class CreationPeriod(Record):
    """The creation period (创建期) of the batch the zone applied in."""

    end_year: int
    start_year: int


@dataclass(frozen=True, kw_only=True)
class SelfAssessment(Record):
    """The applicant's own statistics and indicator scores (自评)."""

    scores: Mapping[str, float]
    statistics: Mapping[str, Any]

    @classmethod
    def from_data(cls, d: Mapping[str, Any]) -> SelfAssessment:
        return cls(scores=frozen(d["scores"]), statistics=frozen(d["statistics"]))


@dataclass(frozen=True, kw_only=True)
class Plan(Record):
    """The creation work plan's (创建工作方案) base year and yearly targets."""

    base_year: int | None
    targets: Sequence[Mapping[str, Any]]

    @classmethod
    def from_data(cls, d: Mapping[str, Any]) -> Plan:
        return cls(base_year=d["base_year"], targets=frozen(d["targets"]))


@dataclass(frozen=True, kw_only=True)
class FormalDecision(Record):
    """The formal review's (形式审查) outcome with the checks it ran."""

    checks: Sequence[Mapping[str, Any]]
    outcome: str
    reasons: str

    @classmethod
    def from_data(cls, d: Mapping[str, Any], *, reasons: str) -> FormalDecision:
        return cls(checks=frozen(d["checks"]), outcome=d["outcome"], reasons=reasons)


# --- assessment -----------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Expert(Record):
    """An expert on the panel."""

    name: str
    sub: str


@dataclass(frozen=True, kw_only=True)
class Conflict(Record):
    """An expert's declared conflict of interest (回避)."""

    declared_at: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class ScoreSheet(Record):
    """An expert's scores for the indicators, and how often they were filed."""

    scores: Mapping[str, float]
    comment: str
    filed_at: str
    filings: int


@dataclass(frozen=True, kw_only=True)
class Panel(Record):
    """The expert panel (专家评估组) at work: its experts, their conflicts and score sheets."""

    round: int
    experts: tuple[Expert, ...]
    methods: tuple[str, ...]
    conflicts: Mapping[str, Conflict]
    sheets: Mapping[str, ScoreSheet]
    appointed_at: str
    appointed_by: Mapping[str, str]

    @classmethod
    def from_data(cls, d: Mapping[str, Any], *, appointed_at: str, appointed_by: Mapping[str, str]) -> Panel:
        return cls(
            round=d["round"],
            experts=_experts(d["experts"]),
            methods=tuple(d["methods"]),
            conflicts=mapping({}),
            sheets=mapping({}),
            appointed_at=appointed_at,
            appointed_by=frozen(appointed_by),
        )

    def counted(self) -> list[str]:
        """The experts whose scores count: those who declared no conflict, in panel order."""
        return [e.sub for e in self.experts if e.sub not in self.conflicts]

    def as_concluded(self) -> dict[str, Any]:
        """The panel as the conclusion (``Assessed``) records it."""
        return {
            "round": self.round,
            "methods": as_plain(self.methods),
            "experts": as_plain(self.experts),
            "conflicted": sorted(self.conflicts),
            "conflicts": as_plain(self.conflicts),
            "counted": self.counted(),
            "sheets": {s: as_plain(self.sheets[s].scores) for s in sorted(self.sheets)},
            "filed": {
                s: {"comment": sheet.comment, "filed_at": sheet.filed_at, "filings": sheet.filings}
                for s, sheet in sorted(self.sheets.items())
            },
            "appointed_at": self.appointed_at,
            "appointed_by": as_plain(self.appointed_by),
        }

    def with_conflict(self, expert: str, conflict: Conflict) -> Panel:
        """The panel once ``expert`` declared a conflict."""
        return replace(self, conflicts=with_item(self.conflicts, expert, conflict))

    def with_sheet(self, expert: str, scores: Mapping[str, Any], comment: str, filed_at: str) -> Panel:
        """The panel once ``expert`` filed scores (a re-filing replaces the sheet and counts)."""
        earlier = self.sheets.get(expert)
        sheet = ScoreSheet(
            scores=frozen(scores), comment=comment, filed_at=filed_at, filings=(earlier.filings if earlier else 0) + 1
        )
        return replace(self, sheets=with_item(self.sheets, expert, sheet))


def _experts(refs: Iterable[Mapping[str, str]]) -> tuple[Expert, ...]:
    return tuple(Expert(name=e["name"], sub=e["sub"]) for e in refs)


def _conflicts(recorded: Mapping[str, Mapping[str, str]]) -> Mapping[str, Conflict]:
    return mapping((s, Conflict(declared_at=c["declared_at"], reason=c["reason"])) for s, c in recorded.items())


@dataclass(frozen=True, kw_only=True)
class Assessment(Record):
    """A concluded assessment (评估结论): the panel as it stood, its sheets and result, the conclusion."""

    appointed_at: str | None = field(default=None, metadata=OMITTED_WHEN_NONE)
    appointed_by: Mapping[str, str] | None = field(default=None, metadata=OMITTED_WHEN_NONE)
    conflicted: tuple[str, ...]
    conflicts: Mapping[str, Conflict] | None = field(default=None, metadata=OMITTED_WHEN_NONE)
    counted: tuple[str, ...]
    experts: tuple[Expert, ...]
    filed: Mapping[str, Mapping[str, Any]] | None = field(default=None, metadata=OMITTED_WHEN_NONE)
    methods: tuple[str, ...]
    passed: bool
    report: Document
    result: Mapping[str, Any]
    round: int
    sheets: Mapping[str, Mapping[str, float]]
    reasons: str

    @classmethod
    def from_data(cls, d: Mapping[str, Any], *, reasons: str) -> Assessment:
        return cls(
            appointed_at=d.get("appointed_at"),
            appointed_by=frozen(d.get("appointed_by")),
            conflicted=tuple(d["conflicted"]),
            conflicts=None if d.get("conflicts") is None else _conflicts(d["conflicts"]),
            counted=tuple(d["counted"]),
            experts=_experts(d["experts"]),
            filed=frozen(d.get("filed")),
            methods=tuple(d["methods"]),
            passed=d["passed"],
            report=Document.from_data(d["report"]),
            result=frozen(d["result"]),
            round=d["round"],
            sheets=frozen(d["sheets"]),
            reasons=reasons,
        )


# --- public notice and objections -----------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Notice(Record):
    """A public notice (公示) as published: text, its hash, the period and the calendar that counted it."""

    calendar: str
    ends_on: date
    number: int
    published_at: str
    starts_on: date
    text: str
    text_sha256: str
    working_days: int

    @classmethod
    def from_data(cls, d: Mapping[str, Any]) -> Notice:
        return cls(
            calendar=d["calendar"],
            ends_on=day(d["ends_on"]),
            number=d["number"],
            published_at=d["published_at"],
            starts_on=day(d["starts_on"]),
            text=d["text"],
            text_sha256=d["text_sha256"],
            working_days=d["working_days"],
        )


@dataclass(frozen=True, kw_only=True)
class Resolution(Record):
    """How the bureau resolved an objection."""

    consequence: str | None
    objection_id: str
    outcome: str
    resolved_at: str
    reasons: str


@dataclass(frozen=True, kw_only=True)
class Objection(Record):
    """An objection (异议) to a notice, open or resolved."""

    contact: str
    evidence: tuple[Document, ...]
    notice: int
    objection_id: str
    objector_name: str
    raised_at: str
    text: str
    status: str
    resolution: Resolution | None

    @classmethod
    def from_data(cls, d: Mapping[str, Any]) -> Objection:
        return cls(
            contact=d["contact"],
            evidence=Document.from_list(d["evidence"]),
            notice=d["notice"],
            objection_id=d["objection_id"],
            objector_name=d["objector_name"],
            raised_at=d["raised_at"],
            text=d["text"],
            status="open",
            resolution=None,
        )

    def resolved(self, d: Mapping[str, Any], *, reasons: str) -> Objection:
        """The objection once resolved."""
        resolution = Resolution(
            consequence=d["consequence"],
            objection_id=d["objection_id"],
            outcome=d["outcome"],
            resolved_at=d["resolved_at"],
            reasons=reasons,
        )
        return replace(self, status=d["outcome"], resolution=resolution)


# --- the title: terms, annual reports, review and revocation --------------------------------------


@dataclass(frozen=True, kw_only=True)
class Term(Record):
    """A term of the title (称号有效期): granted on, its last day, when the review window opens and it expires."""

    # ``valid_until`` is the term's last day. A term recorded before v2 has no ``expires_on``: it was
    # computed as the grant date plus the term's years, and stays as it was recorded.

    announcement_no: str
    expires_on: date | None = field(default=None, metadata=OMITTED_WHEN_NONE)
    granted_on: date
    number: int
    review_window_opens_on: date
    valid_until: date

    @classmethod
    def from_data(cls, d: Mapping[str, Any]) -> Term:
        return cls(
            announcement_no=d["announcement_no"],
            expires_on=day(d["expires_on"]) if "expires_on" in d else None,
            granted_on=day(d["granted_on"]),
            number=d["number"],
            review_window_opens_on=day(d["review_window_opens_on"]),
            valid_until=day(d["valid_until"]),
        )

    @property
    def expiry(self) -> date:
        """The day the title expires: the day after the term's last day."""
        return self.expires_on or day_after(self.valid_until)


@dataclass(frozen=True, kw_only=True)
class Evaluation(Record):
    """The bureau's tracking evaluation (跟踪评价) of an annual report."""

    checks: Sequence[Mapping[str, Any]]
    indicator_system: str
    rating: str
    year: int
    comments: str


@dataclass(frozen=True, kw_only=True)
class AnnualReport(Record):
    """An annual report (年度报告) as filed, and its evaluation once made."""

    documents: tuple[Document, ...]
    due_on: date
    filed_at: str
    late: bool
    statistics: Mapping[str, Any]
    summary: str
    year: int
    evaluation: Evaluation | None

    @classmethod
    def from_data(cls, d: Mapping[str, Any]) -> AnnualReport:
        return cls(
            documents=Document.from_list(d["documents"]),
            due_on=day(d["due_on"]),
            filed_at=d["filed_at"],
            late=d["late"],
            statistics=frozen(d["statistics"]),
            summary=d["summary"],
            year=d["year"],
            evaluation=None,
        )

    def evaluated(self, d: Mapping[str, Any], *, comments: str) -> AnnualReport:
        """The report once evaluated."""
        evaluation = Evaluation(
            checks=frozen(d["checks"]),
            indicator_system=d["indicator_system"],
            rating=d["rating"],
            year=d["year"],
            comments=comments,
        )
        return replace(self, evaluation=evaluation)


@dataclass(frozen=True, kw_only=True)
class Submission(Record):
    """The applicant's rectification (整改) as submitted."""

    documents: tuple[Document, ...]
    late: bool
    submitted_on: date
    summary: str


@dataclass(frozen=True, kw_only=True)
class Rectification(Record):
    """A rectification period (整改期) ordered after a failed review, and what was submitted."""

    due_on: date
    months: int
    ordered_on: date
    reasons: str
    submitted: Submission | None = field(default=None, metadata=OMITTED_WHEN_NONE)


@dataclass(frozen=True, kw_only=True)
class Review(Record):
    """A review (复核) of a term: requested, perhaps rectified, and once decided, passed."""

    requested_at: str
    term: int
    rectification: Rectification | None
    passed: bool | None = field(default=None, metadata=OMITTED_WHEN_NONE)
    reasons: str | None = field(default=None, metadata=OMITTED_WHEN_NONE)

    @classmethod
    def from_data(cls, d: Mapping[str, Any]) -> Review:
        return cls(requested_at=d["requested_at"], term=d["term"], rectification=None)

    def ordered(self, d: Mapping[str, Any], *, reasons: str) -> Review:
        """The review once a rectification was ordered."""
        rectification = Rectification(
            due_on=day(d["due_on"]), months=d["months"], ordered_on=day(d["ordered_on"]), reasons=reasons
        )
        return replace(self, rectification=rectification)

    def rectified(self, d: Mapping[str, Any]) -> Review:
        """The review once the rectification was submitted."""
        assert self.rectification is not None
        submitted = Submission(
            documents=Document.from_list(d["documents"]),
            late=d["late"],
            submitted_on=day(d["submitted_on"]),
            summary=d["summary"],
        )
        return replace(self, rectification=replace(self.rectification, submitted=submitted))


@dataclass(frozen=True, kw_only=True)
class Circular(Record):
    """The public circular (通报) of a revocation on §6.6's grounds: its number, text and the text's hash."""

    number: str
    text: str
    text_sha256: str

    @classmethod
    def from_data(cls, d: Mapping[str, Any]) -> Circular:
        return cls(number=d["number"], text=d["text"], text_sha256=d["text_sha256"])


@dataclass(frozen=True, kw_only=True)
class Revocation(Record):
    """The revocation (撤销) of the title or the creation qualification."""

    # A revocation on §6.6's grounds records its evidence, circular and scope (creation_qualification
    # before a grant, title after); those recorded before v2, and the process's own (§6.4, §6.5), do not.

    cause: str
    circular: Circular | None = field(default=None, metadata=OMITTED_WHEN_NONE)
    details: str
    evidence: tuple[Document, ...] | None = field(default=None, metadata=OMITTED_WHEN_NONE)
    revoked_on: date
    scope: str | None = field(default=None, metadata=OMITTED_WHEN_NONE)
    reasons: str

    @classmethod
    def from_data(cls, d: Mapping[str, Any], *, reasons: str) -> Revocation:
        return cls(
            cause=d["cause"],
            circular=Circular.from_data(d["circular"]) if "circular" in d else None,
            details=d["details"],
            evidence=Document.from_list(d["evidence"]) if "evidence" in d else None,
            revoked_on=day(d["revoked_on"]),
            scope=d.get("scope"),
            reasons=reasons,
        )


class ZoneState:
    """The whole state of a zone as its events set it (a mixin: its annotations and a new zone's defaults)."""

    # In the order Zone.state() shows it. What a new zone has not had yet defaults on the class:
    # the values are frozen, so every zone can share them.
    name: str
    status: str
    applicant_org: str
    area_type: str
    sites: tuple[Site, ...]
    batch: str
    creation_period: CreationPeriod
    materials: tuple[Document, ...]
    self_assessment: SelfAssessment
    plan: Plan
    indicator_system: str
    applied_on: str
    formal_decision: FormalDecision | None = None
    panel: Panel | None = None
    assessment: Assessment | None = None
    assessments: tuple[Assessment, ...] = ()
    notice: Notice | None = None
    notices: tuple[Notice, ...] = ()
    objections: Mapping[str, Objection] = MappingProxyType({})
    terms: tuple[Term, ...] = ()
    annual_reports: Mapping[str, AnnualReport] = MappingProxyType({})
    review: Review | None = None
    reviews: tuple[Review, ...] = ()
    deadlines_recorded: tuple[str, ...] = ()
    revocation: Revocation | None = None
    last_hash: str

    @property
    def current_term(self) -> Term | None:
        """The term in force (or the last one), or None before the first grant."""
        return self.terms[-1] if self.terms else None
