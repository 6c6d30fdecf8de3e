"""The application's acts (申请, 形式审查): filing, formal review, supplement."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from typing import Self
from uuid import UUID

from domain import intake
from domain.conditions import Batch
from domain.conditions import basic_conditions
from domain.conditions import materials_check
from domain.deadlines import creation_period_bounds
from domain.errors import ConditionsNotMetError
from domain.errors import InvalidValueError
from domain.errors import NotPermittedError
from domain.indicators import IndicatorSystem
from domain.policy import Policy
from domain.values import Actor
from domain.values import local_date
from domain.zone_record import ZoneRecord


class ApplicationActs(ZoneRecord):
    """The application's acts (申请, 形式审查): filing, formal review, supplement."""

    # --- filing -------------------------------------------------------------------------------

    @classmethod
    def file_application(
        cls,
        *,
        zone_id: UUID,
        actor: Actor,
        at: datetime,
        name: str,
        area_type: str,
        sites: list[dict[str, Any]],
        batch: Batch,
        materials: list[dict[str, Any]],
        system: IndicatorSystem,
        self_assessment: dict[str, Any] | None = None,
        plan: dict[str, Any] | None = None,
        previous_case: UUID | None = None,
    ) -> Self:
        """The applicant files an application (申请, §3.1.1) within the call's window; returns the new zone
        (``previous_case``: the organisation's earlier case in the call, rejected, not passed or revoked)."""
        if actor.role != "applicant" or not actor.org:
            raise NotPermittedError("Only an applicant (a town government or park committee) may apply.")
        intake.instant(at)
        name = intake.text(name, "name", limit=200)
        area_type = intake.area_type(area_type)
        clean_sites = intake.sites(sites)
        if batch.members_only and actor.org not in batch.members:
            raise NotPermittedError(
                f"The batch {batch.id} is created by {', '.join(batch.members.values())} only "
                f"(§1.3); organisation {actor.org} is not one of them."
            )
        batch.check_window(local_date(at))
        own_assessment = intake.self_assessment(system, self_assessment)
        data: dict[str, Any] = {
            "name": name,
            "applicant_org": actor.org,
            "area_type": area_type,
            "sites": clean_sites,
            "batch": batch.id,
            "creation_period": {"start_year": batch.start_year, "end_year": batch.end_year},
            "materials": intake.document_refs(materials, "materials", kinds=True),
            "self_assessment": own_assessment,
            "plan": intake.plan(plan),
            "indicator_system": system.version,
            "applied_on": local_date(at).isoformat(),
        }
        if previous_case is not None:  # only then: a first case records what it always recorded
            data["previous_case"] = str(previous_case)
        return cls._start(cls.Applied, aggregate_id=zone_id, actor=actor, at=at, **data)

    # --- formal review ------------------------------------------------------------------------

    def formal_review(
        self,
        *,
        actor: Actor,
        at: datetime,
        outcome: str,
        reasons: str,
        batch: Batch,
        system: IndicatorSystem,
        policy: Policy,
        approval: dict[str, Any] | None = None,
        waivers: list[dict[str, Any]] | None = None,
    ) -> None:
        """The bureau's formal review (形式审查, §3.1.2): accept, return for supplement, or reject. Acceptance is the
        approval to start (批复同意启动): it records the approval document, when given, and any waiver of a
        condition stated "in principle" (原则上), and opens the creation period (创建期)."""
        today = self._guard(at, actor, "bureau")
        self._require_status("applied", doing="record a formal review")
        outcome = intake.formal_outcome(outcome)
        reasons = intake.text(reasons, "reasons", required=outcome != "accepted")
        if outcome != "accepted" and (approval is not None or waivers):
            raise InvalidValueError(
                "An approval document and waivers are given only with an acceptance (批复同意启动).",
                [{"loc": ["approval" if approval is not None else "waivers"], "msg": "only with outcome accepted"}],
            )
        # the materials checklist (§5) and the measurable basic conditions (§4)
        if batch.id != self.batch:
            raise InvalidValueError(f"The zone applied in batch {self.batch}, not {batch.id}.")
        materials = [m.as_dict() for m in self.materials]
        checks = materials_check(batch, self.applicant_org, materials) + basic_conditions(
            system, dict(self.self_assessment.statistics), self.plan.as_dict()
        )
        if outcome == "accepted":
            failing = {c["rule"].split()[0]: c for c in checks if not c["passed"] and c["check"] == "basic_condition"}
            granted = intake.waivers(waivers, failing)
            waived = {w["rule"] for w in granted}
            checks = [{**c, "waived": True} if c["rule"].split()[0] in waived else c for c in checks]
            blocking = [c for c in checks if not c["passed"] and not c.get("waived")]
            if blocking:
                raise ConditionsNotMetError(
                    "The application cannot be formally accepted: " + "; ".join(c["rule"] for c in blocking) + ".",
                    checks=blocking,
                )
            starts_on, ends_on = creation_period_bounds(today, batch.end_year, policy.creation_years)
            extra: dict[str, Any] = {
                "creation_period": {"starts_on": starts_on.isoformat(), "ends_on": ends_on.isoformat()}
            }
            if approval is not None:
                extra["approval"] = intake.document_refs([approval], "approval", kinds=False)[0]
            if granted:
                extra["waivers"] = granted
            self._record(
                self.FormallyAccepted, actor=actor, at=at, reason=reasons, outcome=outcome, checks=checks, **extra
            )
        elif outcome == "returned":
            self._record(self.ApplicationReturned, actor=actor, at=at, reason=reasons, outcome=outcome, checks=checks)
        else:
            self._record(self.ApplicationRejected, actor=actor, at=at, reason=reasons, outcome=outcome, checks=checks)

    def supplement(
        self,
        *,
        actor: Actor,
        at: datetime,
        materials: list[dict[str, Any]],
        statistics: dict[str, Any] | None = None,
        plan: dict[str, Any] | None = None,
        note: str = "",
    ) -> None:
        """The applicant supplements a returned application (补充材料)."""
        self._guard(at, actor, "applicant")
        self._require_status("returned", doing="supplement the application")
        added = intake.document_refs(materials, "materials", kinds=True)
        if not added and statistics is None and plan is None:
            raise InvalidValueError("A supplement must add materials, statistics or a plan.")
        merged = [m.as_dict() for m in self.materials]
        for m in added:
            if m not in merged:
                merged.append(m)
        sa = None
        if statistics is not None:
            stats = intake.statistics(statistics, "statistics", revenue_required=True)
            sa = {**self.self_assessment.as_dict(), "statistics": stats}
        self._record(
            self.Supplemented,
            actor=actor,
            at=at,
            reason=intake.text(note, "note", required=False),
            added=added,
            materials=merged,
            self_assessment=sa,
            plan=intake.plan(plan) if plan is not None else None,
        )
