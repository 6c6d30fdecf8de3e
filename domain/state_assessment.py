"""The assessment's records (评估): the panel, its experts, conflicts, score sheets and the conclusion."""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from dataclasses import replace
from typing import Any

from domain.records import OMITTED_WHEN_NONE
from domain.records import Record
from domain.records import as_plain
from domain.records import frozen
from domain.records import mapping
from domain.records import with_item
from domain.state_case import Document

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
