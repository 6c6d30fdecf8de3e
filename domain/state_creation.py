"""The creation period's records (创建期, §3.4, §3.2.1): progress reports, supervision, the assessment application."""

from __future__ import annotations

from collections.abc import Mapping
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


@dataclass(frozen=True, kw_only=True)
class ProgressReport(Record):
    """A progress report (创建工作进展情况, §3.4.2) the applicant filed during creation."""

    documents: tuple[Document, ...]
    filed_at: str
    number: int
    statistics: Mapping[str, Any]
    summary: str

    @classmethod
    def from_data(cls, d: Mapping[str, Any]) -> ProgressReport:
        return cls(
            documents=Document.from_list(d["documents"]),
            filed_at=d["filed_at"],
            number=d["number"],
            statistics=frozen(d["statistics"]),
            summary=d["summary"],
        )


@dataclass(frozen=True, kw_only=True)
class Supervision(Record):
    """A supervision visit (督导检查, §3.4.3) or an ad-hoc evaluation (测评, §6.3) the bureau recorded."""

    documents: tuple[Document, ...]
    findings: str
    kind: str
    number: int
    recorded_at: str
    visited_on: date
    recorded_by: Mapping[str, Any]

    @classmethod
    def from_data(cls, d: Mapping[str, Any], *, recorded_by: Mapping[str, Any]) -> Supervision:
        return cls(
            documents=Document.from_list(d["documents"]),
            findings=d["findings"],
            kind=d["kind"],
            number=d["number"],
            recorded_at=d["recorded_at"],
            visited_on=day(d["visited_on"]),
            recorded_by=frozen(recorded_by),
        )


@dataclass(frozen=True, kw_only=True)
class RequestDecision(Record):
    """The bureau's decision on an assessment application: accepted (受理) or refused, with reasons."""

    decided_at: str
    outcome: str
    reasons: str


@dataclass(frozen=True, kw_only=True)
class AssessmentRequest(Record):
    """An assessment application (评估申请, §3.2.1): the applicant's documents and current statistics, the
    threshold checks computed from them, and the bureau's decision once made."""

    checks: tuple[Mapping[str, Any], ...]
    documents: tuple[Document, ...]
    filed_at: str
    number: int
    statistics: Mapping[str, Any]
    summary: str
    decision: RequestDecision | None = field(default=None, metadata=OMITTED_WHEN_NONE)

    @classmethod
    def from_data(cls, d: Mapping[str, Any]) -> AssessmentRequest:
        return cls(
            checks=tuple(frozen(c) for c in d["checks"]),
            documents=Document.from_list(d["documents"]),
            filed_at=d["filed_at"],
            number=d["number"],
            statistics=frozen(d["statistics"]),
            summary=d["summary"],
        )

    def decided(self, d: Mapping[str, Any], *, reasons: str) -> AssessmentRequest:
        """The application with the bureau's decision."""
        decision = RequestDecision(decided_at=d["decided_at"], outcome=d["outcome"], reasons=reasons)
        return replace(self, decision=decision)
