"""The case's records (案件): documents, sites, the self-assessment, the plan and the formal decision."""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from domain.records import OMITTED_WHEN_NONE
from domain.records import Record
from domain.records import frozen

# --- the application ----------------------------------------------------------------------------

# What each status means, in the words a refusal uses.
STATUS_WORDS = {
    "applied": "applied, awaiting formal review (形式审查)",
    "returned": "returned to the applicant for supplement",
    "rejected": "rejected",
    "accepted": "formally accepted, awaiting an expert panel",
    "assessment_accepted": "assessment application accepted, awaiting the expert panel",
    "assessing": "under assessment by the expert panel",
    "assessed": "assessed (passed), awaiting the public notice (公示)",
    "not_passed": "assessed and not passed",
    "in_notice": "in public notice (公示)",
    "recommended": "recommended to the leading group (提请), awaiting its announcement (公告)",
    "granted": "granted the title",
    "in_review": "under review (复核)",
    "review_passed": "past its review (复核), awaiting the bureau's recommendation to renew (继续授予)",
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
