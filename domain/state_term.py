"""The notice's and the title's records: notices, objections, terms, annual reports, review, revocation."""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from dataclasses import replace
from datetime import date
from typing import Any

from domain.records import OMITTED_WHEN_NONE
from domain.records import Record
from domain.records import day
from domain.records import frozen
from domain.state_case import Document
from domain.values import day_after

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
    superseded: tuple[str, ...] | None = field(default=None, metadata=OMITTED_WHEN_NONE)


@dataclass(frozen=True, kw_only=True)
class Objection(Record):
    """An objection (异议) to a notice, open or resolved."""

    # Since v2 the bureau registers objections received by letter, phone, visit or email (``channel``,
    # ``received_at``); an objection closed by another's being upheld is ``superseded`` with its reference.

    # Since v3 (PIPL) the record holds ``objector_ref`` and ``objector_commitment`` instead of the objector's name
    # and contact, which are kept apart, encrypted, and erasable (``application.objectors``).

    channel: str | None = field(default=None, metadata=OMITTED_WHEN_NONE)
    contact: str | None = field(default=None, metadata=OMITTED_WHEN_NONE)
    evidence: tuple[Document, ...]
    notice: int
    objection_id: str
    objector_commitment: str | None = field(default=None, metadata=OMITTED_WHEN_NONE)
    objector_name: str | None = field(default=None, metadata=OMITTED_WHEN_NONE)
    objector_ref: str | None = field(default=None, metadata=OMITTED_WHEN_NONE)
    raised_at: str
    received_at: str | None = field(default=None, metadata=OMITTED_WHEN_NONE)
    text: str
    status: str
    resolution: Resolution | None
    superseded_by: str | None = field(default=None, metadata=OMITTED_WHEN_NONE)

    @classmethod
    def from_data(cls, d: Mapping[str, Any]) -> Objection:
        return cls(
            channel=d.get("channel"),
            contact=d.get("contact"),
            evidence=Document.from_list(d["evidence"]),
            notice=d["notice"],
            objection_id=d["objection_id"],
            objector_commitment=d.get("objector_commitment"),
            objector_name=d.get("objector_name"),
            objector_ref=d.get("objector_ref"),
            raised_at=d["raised_at"],
            received_at=d.get("received_at"),
            text=d["text"],
            status="open",
            resolution=None,
        )

    def resolved(self, d: Mapping[str, Any], *, reasons: str) -> Objection:
        """The objection once resolved."""
        superseded = d.get("superseded")
        resolution = Resolution(
            consequence=d["consequence"],
            objection_id=d["objection_id"],
            outcome=d["outcome"],
            resolved_at=d["resolved_at"],
            reasons=reasons,
            superseded=None if superseded is None else tuple(superseded),
        )
        return replace(self, status=d["outcome"], resolution=resolution)

    def superseded(self, by: str) -> Objection:
        """The objection closed because ``by``, an objection to the same notice, was upheld."""
        return replace(self, status="superseded", superseded_by=by)


@dataclass(frozen=True, kw_only=True)
class Recommendation(Record):
    """The bureau's recommendation (提请, §2.1, §3.3) to the leading group: a grant, or a renewal after a passed
    review (继续授予, §6.4); and, once decided, the leading group's answer."""

    considered: tuple[str, ...]  # the dismissed objections the bureau considered
    document: Document
    kind: str  # grant | renewal
    notice: int | None
    recommended_at: str
    reasons: str
    term: int | None  # for a renewal: the term reviewed
    outcome: str | None = None  # granted | refused, once the leading group decided
    decided_at: str | None = field(default=None, metadata=OMITTED_WHEN_NONE)
    decision_reasons: str | None = field(default=None, metadata=OMITTED_WHEN_NONE)
    announcement_no: str | None = field(default=None, metadata=OMITTED_WHEN_NONE)

    @classmethod
    def from_data(cls, d: Mapping[str, Any], *, reasons: str) -> Recommendation:
        return cls(
            considered=tuple(d["considered"]),
            document=Document.from_data(d["document"]),
            kind=d["kind"],
            notice=d["notice"],
            recommended_at=d["recommended_at"],
            reasons=reasons,
            term=d["term"],
        )

    def decided(self, outcome: str, at: str, reasons: str, announcement_no: str | None = None) -> Recommendation:
        """The recommendation once the leading group granted or refused."""
        return replace(self, outcome=outcome, decided_at=at, decision_reasons=reasons, announcement_no=announcement_no)


# --- the title: terms, annual reports, review and revocation --------------------------------------


@dataclass(frozen=True, kw_only=True)
class Term(Record):
    """A term of the title (称号有效期): granted on, its last day, when the review window opens and it expires."""

    # ``valid_until`` is the term's last day. A term recorded before v2 has no ``expires_on``: it was
    # computed as the grant date plus the term's years, and stays as it was recorded.

    # Since v2 a grant is an announcement (公告) on the bureau's recommendation: its date and document, and a
    # term other than 3 years with the leading group's reasons; a renewal (继续授予) is marked as such.

    announced_on: date | None = field(default=None, metadata=OMITTED_WHEN_NONE)
    announcement_document: Document | None = field(default=None, metadata=OMITTED_WHEN_NONE)
    announcement_no: str
    expires_on: date | None = field(default=None, metadata=OMITTED_WHEN_NONE)
    granted_on: date
    number: int
    renewal: bool | None = field(default=None, metadata=OMITTED_WHEN_NONE)
    review_window_opens_on: date
    term_reasons: str | None = field(default=None, metadata=OMITTED_WHEN_NONE)
    term_years: int | None = field(default=None, metadata=OMITTED_WHEN_NONE)
    valid_until: date

    @classmethod
    def from_data(cls, d: Mapping[str, Any]) -> Term:
        document = d.get("announcement_document")
        return cls(
            announced_on=day(d["announced_on"]) if "announced_on" in d else None,
            announcement_document=None if document is None else Document.from_data(document),
            announcement_no=d["announcement_no"],
            expires_on=day(d["expires_on"]) if "expires_on" in d else None,
            granted_on=day(d["granted_on"]),
            number=d["number"],
            renewal=d.get("renewal"),
            review_window_opens_on=day(d["review_window_opens_on"]),
            term_reasons=d.get("term_reasons"),
            term_years=d.get("term_years"),
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
    # since v2: the decision's checks against the creation plan's goals (§6.4)
    checks: Sequence[Mapping[str, Any]] | None = field(default=None, metadata=OMITTED_WHEN_NONE)

    @classmethod
    def from_data(cls, d: Mapping[str, Any]) -> Review:
        return cls(requested_at=d["requested_at"], term=d["term"], rectification=None)

    def ordered(self, d: Mapping[str, Any], *, reasons: str) -> Review:
        """The review once a rectification was ordered."""
        rectification = Rectification(
            due_on=day(d["due_on"]), months=d["months"], ordered_on=day(d["ordered_on"]), reasons=reasons
        )
        checks = d.get("checks")
        return replace(self, rectification=rectification, checks=None if checks is None else frozen(checks))

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
