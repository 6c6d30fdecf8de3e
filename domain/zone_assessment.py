"""The assessment's acts (评估, §3.2): the panel, conflicts, scores and the conclusion."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from typing import Any

from domain import intake
from domain.errors import ConflictOfInterestError
from domain.errors import IllegalTransitionError
from domain.errors import InvalidValueError
from domain.errors import NotOnPanelError
from domain.indicators import IndicatorSystem
from domain.policy import Policy
from domain.state_assessment import Panel
from domain.values import Actor
from domain.zone_record import ZoneRecord


class AssessmentActs(ZoneRecord):
    """The assessment's acts (评估, §3.2): the panel, conflicts, scores and the conclusion."""

    # --- assessment ---------------------------------------------------------------------------

    def appoint_panel(
        self,
        *,
        actor: Actor,
        at: datetime,
        experts: list[dict[str, Any]],
        methods: list[str],
        policy: Policy,
        reason: str = "",
    ) -> None:
        """The bureau appoints the expert panel (§3.2) once it has accepted the assessment application (受理,
        §3.2.1); a new panel replaces one that has not concluded. A zone sent back for reassessment by an upheld
        objection had its application accepted already: it gets its new panel from ``accepted``."""
        self._guard(at, actor, "bureau")
        if not (self.status == "accepted" and self.assessments):  # sent back by an upheld objection (reassess)
            self._require_status("assessment_accepted", "assessing", doing="appoint an expert panel")
        clean = intake.experts(experts, policy.min_panel_size)
        methods = intake.methods(methods)
        round_ = (self.panel.round + 1) if self.panel else len(self.assessments) + 1
        self._record(
            self.PanelAppointed,
            actor=actor,
            at=at,
            reason=intake.text(reason, "reason", required=False),
            round=round_,
            experts=clean,
            methods=methods,
        )

    def _panel_of(self, actor: Actor) -> Panel:
        assert self.panel is not None
        if not any(e.sub == actor.sub for e in self.panel.experts):
            raise NotOnPanelError("You are not on this zone's expert panel.")
        return self.panel

    def declare_conflict(self, *, actor: Actor, at: datetime, reason: str) -> None:
        """An expert on the panel declares a conflict of interest (回避); they may not score."""
        self._guard(at, actor, "expert")
        self._require_status("assessing", doing="declare a conflict of interest")
        panel = self._panel_of(actor)
        if actor.sub in panel.conflicts:
            raise IllegalTransitionError("You have already declared a conflict of interest for this assessment.")
        self._record(
            self.ConflictDeclared,
            actor=actor,
            at=at,
            reason=intake.text(reason, "reason"),
            expert=actor.sub,
            round=panel.round,
            declared_at=at.astimezone(UTC).isoformat(),
        )

    def file_scores(
        self, *, actor: Actor, at: datetime, scores: dict[str, Any], comment: str, system: IndicatorSystem
    ) -> None:
        """An unconflicted panel expert files scores for every indicator (re-filing replaces)."""
        self._guard(at, actor, "expert")
        self._require_status("assessing", doing="file scores")
        panel = self._panel_of(actor)
        if actor.sub in panel.conflicts:
            raise ConflictOfInterestError("You declared a conflict of interest for this zone and may not score it.")
        self._check_system(system)
        sheet = system.validate_scores(scores)
        self._record(
            self.ScoresFiled,
            actor=actor,
            at=at,
            reason="",
            expert=actor.sub,
            round=panel.round,
            scores=sheet,
            comment=intake.text(comment, "comment", required=False),
            indicator_system=system.version,
            filed_at=at.astimezone(UTC).isoformat(),
            replaces_earlier=actor.sub in panel.sheets,
        )

    def _check_system(self, system: IndicatorSystem) -> None:
        if system.version != self.indicator_system:
            raise InvalidValueError(
                f"This zone is assessed under indicator system {self.indicator_system}, not {system.version}."
            )

    def conclude_assessment(
        self,
        *,
        actor: Actor,
        at: datetime,
        passed: bool,
        report: dict[str, Any],
        reasons: str,
        system: IndicatorSystem,
        policy: Policy,
    ) -> None:
        """The bureau confirms the panel's report and forms the conclusion (§3.2.3)."""
        self._guard(at, actor, "bureau")
        self._require_status("assessing", doing="conclude the assessment")
        passed = intake.passed(passed)
        reports = intake.document_refs([report], "report", kinds=False)
        reasons = intake.text(reasons, "reasons")
        self._check_system(system)
        panel = self.panel
        assert panel is not None
        counted = panel.counted()
        missing = [s for s in counted if s not in panel.sheets]
        if not counted:
            raise IllegalTransitionError("Every expert on the panel declared a conflict; appoint a new panel.")
        if missing:
            raise IllegalTransitionError(
                "The assessment cannot be concluded: these panel experts have not filed scores: "
                + ", ".join(missing)
                + "."
            )
        result = system.panel_result([dict(panel.sheets[s].scores) for s in counted], policy.panel_method)
        self._record(
            self.Assessed,
            actor=actor,
            at=at,
            reason=reasons,
            passed=passed,
            report=reports[0],
            result=result,
            **panel.as_concluded(),
        )
