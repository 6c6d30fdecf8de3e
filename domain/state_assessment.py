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
    """An expert on the panel (with the organisation and the day added, where recorded: v2)."""

    added_at: str | None = field(default=None, metadata=OMITTED_WHEN_NONE)  # a member added to a sitting panel
    name: str
    org: str | None = field(default=None, metadata=OMITTED_WHEN_NONE)
    sub: str


@dataclass(frozen=True, kw_only=True)
class Conflict(Record):
    """An expert's declared conflict of interest (回避)."""

    declared_at: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class Recusal(Record):
    """The bureau's recusal (回避) of an expert, with its reasons: the expert may not score."""

    recused_at: str
    recused_by: Mapping[str, str]
    reasons: str


@dataclass(frozen=True, kw_only=True)
class ScoreSheet(Record):
    """An expert's scores for the indicators, how often they were filed, and why it was last re-filed."""

    scores: Mapping[str, float]
    comment: str
    filed_at: str
    filings: int
    reason: str | None = field(default=None, metadata=OMITTED_WHEN_NONE)  # v2: a re-filing says why


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
    recusals: Mapping[str, Recusal] | None = field(default=None, metadata=OMITTED_WHEN_NONE)  # v2, once one is made

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
        """The experts whose scores count: those who declared no conflict and were not recused, in panel order."""
        recused = self.recusals or {}
        return [e.sub for e in self.experts if e.sub not in self.conflicts and e.sub not in recused]

    def member(self, sub: str) -> Expert | None:
        """The panel's expert ``sub``, if on the panel."""
        return next((e for e in self.experts if e.sub == sub), None)

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
                s: {
                    "comment": sheet.comment,
                    "filed_at": sheet.filed_at,
                    "filings": sheet.filings,
                    **({"reason": sheet.reason} if sheet.reason else {}),
                }
                for s, sheet in sorted(self.sheets.items())
            },
            "appointed_at": self.appointed_at,
            "appointed_by": as_plain(self.appointed_by),
            **({} if self.recusals is None else {"recusals": as_plain(self.recusals)}),
        }

    def with_members(self, experts: Iterable[Mapping[str, str]], added_at: str) -> Panel:
        """The panel once ``experts`` were added to it (增补)."""
        added = tuple(replace(e, added_at=added_at) for e in _experts(experts))
        return replace(self, experts=(*self.experts, *added))

    def with_recusal(self, expert: str, recusal: Recusal) -> Panel:
        """The panel once the bureau recused ``expert``."""
        return replace(self, recusals=with_item(self.recusals or {}, expert, recusal))

    def with_conflict(self, expert: str, conflict: Conflict) -> Panel:
        """The panel once ``expert`` declared a conflict."""
        return replace(self, conflicts=with_item(self.conflicts, expert, conflict))

    def with_sheet(
        self, expert: str, scores: Mapping[str, Any], comment: str, filed_at: str, reason: str | None = None
    ) -> Panel:
        """The panel once ``expert`` filed scores (a re-filing replaces the sheet and counts)."""
        earlier = self.sheets.get(expert)
        sheet = ScoreSheet(
            scores=frozen(scores),
            comment=comment,
            filed_at=filed_at,
            filings=(earlier.filings if earlier else 0) + 1,
            reason=reason,
        )
        return replace(self, sheets=with_item(self.sheets, expert, sheet))


def _experts(refs: Iterable[Mapping[str, str]]) -> tuple[Expert, ...]:
    return tuple(Expert(added_at=e.get("added_at"), name=e["name"], org=e.get("org"), sub=e["sub"]) for e in refs)


def _recusals(recorded: Mapping[str, Mapping[str, Any]]) -> Mapping[str, Recusal]:
    return mapping(
        (s, Recusal(recused_at=r["recused_at"], recused_by=frozen(r["recused_by"]), reasons=r["reasons"]))
        for s, r in recorded.items()
    )


def _conflicts(recorded: Mapping[str, Mapping[str, str]]) -> Mapping[str, Conflict]:
    return mapping((s, Conflict(declared_at=c["declared_at"], reason=c["reason"])) for s, c in recorded.items())


@dataclass(frozen=True, kw_only=True)
class Assessment(Record):
    """A concluded assessment (评估结论): the panel as it stood, its sheets and result, the conclusion (since v2
    with its total, maximum, percentage and group subtotals, and the call's pass mark)."""

    against_pass_mark: bool | None = field(default=None, metadata=OMITTED_WHEN_NONE)
    appointed_at: str | None = field(default=None, metadata=OMITTED_WHEN_NONE)
    appointed_by: Mapping[str, str] | None = field(default=None, metadata=OMITTED_WHEN_NONE)
    conflicted: tuple[str, ...]
    conflicts: Mapping[str, Conflict] | None = field(default=None, metadata=OMITTED_WHEN_NONE)
    counted: tuple[str, ...]
    experts: tuple[Expert, ...]
    filed: Mapping[str, Mapping[str, Any]] | None = field(default=None, metadata=OMITTED_WHEN_NONE)
    groups: tuple[Mapping[str, Any], ...] | None = field(default=None, metadata=OMITTED_WHEN_NONE)
    max: float | None = field(default=None, metadata=OMITTED_WHEN_NONE)
    methods: tuple[str, ...]
    override_reasons: str | None = field(default=None, metadata=OMITTED_WHEN_NONE)
    pass_mark: float | None = field(default=None, metadata=OMITTED_WHEN_NONE)
    passed: bool
    percentage: float | None = field(default=None, metadata=OMITTED_WHEN_NONE)
    recusals: Mapping[str, Recusal] | None = field(default=None, metadata=OMITTED_WHEN_NONE)
    report: Document
    result: Mapping[str, Any]
    round: int
    sheets: Mapping[str, Mapping[str, float]]
    total: float | None = field(default=None, metadata=OMITTED_WHEN_NONE)
    reasons: str

    @property
    def concluded_v2(self) -> bool:
        """Whether the conclusion records its subtotals (v2); a v1 conclusion has the panel result only."""
        return self.groups is not None

    @classmethod
    def from_data(cls, d: Mapping[str, Any], *, reasons: str) -> Assessment:
        return cls(
            against_pass_mark=d.get("against_pass_mark"),
            appointed_at=d.get("appointed_at"),
            appointed_by=frozen(d.get("appointed_by")),
            conflicted=tuple(d["conflicted"]),
            conflicts=None if d.get("conflicts") is None else _conflicts(d["conflicts"]),
            counted=tuple(d["counted"]),
            experts=_experts(d["experts"]),
            filed=frozen(d.get("filed")),
            groups=None if d.get("groups") is None else tuple(frozen(g) for g in d["groups"]),
            max=d.get("max"),
            methods=tuple(d["methods"]),
            override_reasons=d.get("override_reasons"),
            pass_mark=d.get("pass_mark"),
            passed=d["passed"],
            percentage=d.get("percentage"),
            recusals=None if d.get("recusals") is None else _recusals(d["recusals"]),
            report=Document.from_data(d["report"]),
            result=frozen(d["result"]),
            round=d["round"],
            sheets=frozen(d["sheets"]),
            total=d.get("total"),
            reasons=reasons,
        )
