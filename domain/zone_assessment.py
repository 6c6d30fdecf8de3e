"""The assessment's acts (评估, §3.2): the panel, conflicts, scores and the conclusion."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from typing import Any

from domain import intake
from domain.conditions import Batch
from domain.errors import AlreadyOnPanelError
from domain.errors import AlreadyRecusedError
from domain.errors import ConflictOfInterestError
from domain.errors import ExpertFromApplicantError
from domain.errors import ExpertNotOnPanelError
from domain.errors import ExpertRecusedError
from domain.errors import IllegalTransitionError
from domain.errors import InvalidValueError
from domain.errors import NotOnPanelError
from domain.errors import PanelTooSmallError
from domain.indicators import IndicatorSystem
from domain.indicators import figure
from domain.policy import Policy
from domain.state_assessment import Panel
from domain.values import Actor
from domain.values import local_date
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
        clean = intake.experts(experts, policy.min_panel_size, applicant_org=self.applicant_org)
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

    def add_panel_members(self, *, actor: Actor, at: datetime, experts: list[dict[str, Any]], reason: str = "") -> None:
        """The bureau adds experts to the sitting panel (增补专家, §3.2): none on it already, none of the applicant."""
        self._guard(at, actor, "bureau")
        self._require_status("assessing", doing="add experts to the panel (增补专家, §3.2)")
        panel = self.panel
        assert panel is not None
        if not isinstance(experts, list) or not experts:
            raise InvalidValueError(
                "Name at least one expert to add to the panel.", [{"loc": ["experts"], "msg": "at least 1"}]
            )
        clean = intake.experts(experts, 1, applicant_org=self.applicant_org)
        already = [e["sub"] for e in clean if panel.member(e["sub"]) is not None]
        if already:
            raise AlreadyOnPanelError(
                "These experts are on the panel already (a recused or conflicted member stays on it and is not "
                "added again): " + ", ".join(already) + "."
            )
        self._record(
            self.PanelMembersAdded,
            actor=actor,
            at=at,
            reason=intake.text(reason, "reason", required=False),
            round=panel.round,
            experts=clean,
            added_at=at.astimezone(UTC).isoformat(),
        )

    def recuse_expert(self, *, actor: Actor, at: datetime, expert: str, reasons: str) -> None:
        """The bureau recuses an expert of the panel (回避, §3.2) with reasons: the expert may not score, and a
        sheet they filed before no longer counts."""
        self._guard(at, actor, "bureau")
        self._require_status("assessing", doing="recuse an expert (回避, §3.2)")
        panel = self.panel
        assert panel is not None
        sub = intake.text(expert, "expert", limit=200)
        reasons = intake.text(reasons, "reasons")
        if panel.member(sub) is None:
            raise ExpertNotOnPanelError(
                f"Expert {sub} is not on this zone's expert panel (专家评估组); only a member can be recused (回避)."
            )
        if sub in panel.conflicts:
            raise AlreadyRecusedError(
                f"Expert {sub} declared a conflict of interest on {_day(panel.conflicts[sub].declared_at)}; they do "
                "not score already, and their own declaration stands (回避)."
            )
        if panel.recusals and sub in panel.recusals:
            raise AlreadyRecusedError(
                f"Expert {sub} was recused (回避) on {_day(panel.recusals[sub].recused_at)} already."
            )
        self._record(
            self.ExpertRecused,
            actor=actor,
            at=at,
            reason=reasons,
            expert=sub,
            round=panel.round,
            recused_at=at.astimezone(UTC).isoformat(),
            scored_before=sub in panel.sheets,
        )

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
        self,
        *,
        actor: Actor,
        at: datetime,
        scores: dict[str, Any],
        comment: str,
        system: IndicatorSystem,
        reason: str = "",
    ) -> None:
        """An unconflicted panel expert files scores for every indicator; a re-filing replaces the sheet and must
        say why (``reason``)."""
        self._guard(at, actor, "expert")
        self._require_status("assessing", doing="file scores")
        panel = self._panel_of(actor)
        if actor.sub in panel.conflicts:
            raise ConflictOfInterestError("You declared a conflict of interest for this zone and may not score it.")
        if panel.recusals and actor.sub in panel.recusals:
            raise ExpertRecusedError(
                f"The bureau recused you (回避, §3.2) on {_day(panel.recusals[actor.sub].recused_at)}: "
                f"{panel.recusals[actor.sub].reasons} You may not score this zone."
            )
        if actor.org and actor.org == self.applicant_org:
            raise ExpertFromApplicantError(
                f"You belong to the applicant organisation ({actor.org}); an expert of the panel may not come from "
                "the applicant whose zone it assesses (§3.2)."
            )
        reason = intake.text(reason, "reason", required=False)
        if actor.sub in panel.sheets and not reason:
            raise InvalidValueError(
                f"You filed scores on {_day(panel.sheets[actor.sub].filed_at)} already; a re-filed score sheet "
                "replaces it and must say why (reason).",
                [{"loc": ["reason"], "msg": "required when re-filing"}],
            )
        self._check_system(system)
        sheet = system.validate_scores(scores)
        self._record(
            self.ScoresFiled,
            actor=actor,
            at=at,
            reason=reason,
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
        batch: Batch | None = None,
        override_reasons: str | None = None,
    ) -> None:
        """The bureau confirms the panel's report and forms the conclusion (§3.2.3): total, the version's maximum,
        percentage and the three group subtotals; against the call's pass mark only with ``override_reasons``."""
        self._guard(at, actor, "bureau")
        self._require_status("assessing", doing="conclude the assessment")
        passed = intake.passed(passed)
        reports = intake.document_refs([report], "report", kinds=False)
        reasons = intake.text(reasons, "reasons")
        override = intake.text(override_reasons, "override_reasons", required=False)
        self._check_system(system)
        panel = self.panel
        assert panel is not None
        counted = panel.counted()
        missing = [s for s in counted if s not in panel.sheets]
        if len(counted) < policy.min_panel_size:
            out = len(panel.experts) - len(counted)
            raise PanelTooSmallError(
                f"The assessment cannot be concluded: only {len(counted)} of the panel's {len(panel.experts)} experts "
                f"may score (conflicts declared or recusals, 回避: {out}); at least {policy.min_panel_size} "
                "unconflicted experts must have scored. Add members to the panel first (增补专家, §3.2)."
            )
        if not counted:
            raise IllegalTransitionError("Every expert on the panel declared a conflict; appoint a new panel.")
        if missing:
            raise IllegalTransitionError(
                "The assessment cannot be concluded: these panel experts have not filed scores: "
                + ", ".join(missing)
                + "."
            )
        result = system.panel_result([dict(panel.sheets[s].scores) for s in counted], policy.panel_method)
        maximum = figure(system.maximum)
        total = figure(result["total"])
        percentage = figure(result["total"] / system.maximum, 4)  # a ratio, as v1's: 0.7833 = 78.33 %
        mark = batch.pass_mark if batch is not None else None
        shown = figure(percentage * 100)
        against = mark is not None and (shown < mark if passed else shown >= mark)
        if against and not override:
            decided = "passed" if passed else "not passed"
            side = "below" if passed else "at or above"
            raise InvalidValueError(
                f"The conclusion says {decided} with {shown:g} % of the maximum ({total:g} of {maximum:g}), "
                f"{side} the call's pass mark of {mark:g} %: say why the conclusion departs from it "
                "(override_reasons).",
                [{"loc": ["override_reasons"], "msg": f"required: {decided} against the pass mark {mark:g} %"}],
            )
        self._record(
            self.Assessed,
            actor=actor,
            at=at,
            reason=reasons,
            passed=passed,
            report=reports[0],
            result=result,
            total=total,
            max=maximum,
            percentage=percentage,
            groups=system.subtotals(result["scores"]),
            pass_mark=mark,
            against_pass_mark=against,
            **({"override_reasons": override} if override else {}),
            **panel.as_concluded(),
        )


def _day(instant: str) -> str:
    """A recorded instant's day in Asia/Shanghai, as a refusal names it."""
    return local_date(datetime.fromisoformat(instant)).isoformat()
