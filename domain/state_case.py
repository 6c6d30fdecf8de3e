"""The case's records (案件): documents, sites, the self-assessment, the plan and the formal decision."""

from __future__ import annotations

from collections.abc import Iterable
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

# --- the application ----------------------------------------------------------------------------

# What each status means, in the words a refusal uses.
STATUS_WORDS = {
    "applied": "applied, awaiting formal review (形式审查)",
    "returned": "returned to the applicant for supplement",
    "rejected": "rejected",
    "accepted": "approved to start (批复同意启动) and in its creation period (创建期)",
    "assessment_requested": "awaiting the bureau's acceptance of its assessment application (评估申请, §3.2.1)",
    "assessment_accepted": "with its assessment application accepted (受理), awaiting an expert panel",
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
class Extension(Record):
    """An extension of the creation period by the bureau, after it ended with no grant."""

    ends_on: date
    extended_on: date
    previous_ends_on: date
    reasons: str


@dataclass(frozen=True, kw_only=True)
class CreationPeriod(Record):
    """The creation period (创建期): the call's years, and from the approval to start (批复同意启动) its first and
    last day, with any extensions (a zone accepted before v2 has the years only)."""

    end_year: int
    start_year: int
    ends_on: date | None = field(default=None, metadata=OMITTED_WHEN_NONE)
    starts_on: date | None = field(default=None, metadata=OMITTED_WHEN_NONE)
    extensions: tuple[Extension, ...] | None = field(default=None, metadata=OMITTED_WHEN_NONE)

    def opened(self, d: Mapping[str, Any]) -> CreationPeriod:
        """The period as the approval to start opened it."""
        return replace(self, starts_on=day(d["starts_on"]), ends_on=day(d["ends_on"]))

    def extended(self, d: Mapping[str, Any], *, reasons: str) -> CreationPeriod:
        """The period with a new last day."""
        assert self.ends_on is not None
        extension = Extension(
            ends_on=day(d["ends_on"]), extended_on=day(d["extended_on"]), previous_ends_on=self.ends_on, reasons=reasons
        )
        return replace(self, ends_on=extension.ends_on, extensions=(*(self.extensions or ()), extension))


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
    """The creation work plan's (创建工作方案) base year, yearly targets and the matching ratio of local to city
    funds it commits to (§4.2; plans filed before v2 have none)."""

    base_year: int | None
    targets: Sequence[Mapping[str, Any]]
    matching_ratio: float | None = field(default=None, metadata=OMITTED_WHEN_NONE)

    @classmethod
    def from_data(cls, d: Mapping[str, Any]) -> Plan:
        return cls(base_year=d["base_year"], targets=frozen(d["targets"]), matching_ratio=d.get("matching_ratio"))


@dataclass(frozen=True, kw_only=True)
class Waiver(Record):
    """A basic condition stated "in principle" (原则上) that the bureau waived at acceptance, with its reasons."""

    reasons: str
    rule: str


@dataclass(frozen=True, kw_only=True)
class FormalDecision(Record):
    """The formal review's (形式审查) outcome with the checks it ran; an acceptance (the approval to start,
    批复同意启动) also its approval document and waivers, when given."""

    approval: Document | None = field(default=None, metadata=OMITTED_WHEN_NONE)
    checks: Sequence[Mapping[str, Any]]
    outcome: str
    waivers: tuple[Waiver, ...] | None = field(default=None, metadata=OMITTED_WHEN_NONE)
    reasons: str

    @classmethod
    def from_data(cls, d: Mapping[str, Any], *, reasons: str) -> FormalDecision:
        return cls(
            approval=Document.from_data(d["approval"]) if d.get("approval") else None,
            checks=frozen(d["checks"]),
            outcome=d["outcome"],
            waivers=tuple(Waiver(reasons=w["reasons"], rule=w["rule"]) for w in d["waivers"])
            if "waivers" in d
            else None,
            reasons=reasons,
        )
