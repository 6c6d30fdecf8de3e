"""The Zone aggregate alone: every transition of PROCESS.md, legal and illegal."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from domain import errors
from domain.deadlines import held_years
from domain.integrity import GENESIS_HASH
from domain.policy import Policy
from domain.values import SYSTEM as SYSTEM_ACTOR
from domain.values import Actor
from domain.values import permit
from domain.zone import Zone

from ..helpers import BUREAU
from ..helpers import CIRCULAR
from ..helpers import EXPERTS
from ..helpers import FIRST_BATCH_MATERIALS
from ..helpers import FULL_MATERIALS
from ..helpers import GOOD_PLAN
from ..helpers import GOOD_STATISTICS
from ..helpers import INSPECTOR
from ..helpers import LEADING
from ..helpers import NANCHENG
from ..helpers import OTHER_TOWN
from ..helpers import OUTSIDER_EXPERT
from ..helpers import PUBLIC
from ..helpers import RESERVE_EXPERTS
from ..helpers import SONGSHAN
from ..helpers import at
from ..helpers import doc
from ..helpers import full_scores
from ..helpers import objector
from ..helpers import revocation
from .case import BATCHES
from .case import POLICY
from .case import SYSTEM
from .case import accepted
from .case import applied
from .case import assessed
from .case import assessing
from .case import assessment_accepted
from .case import evaluated
from .case import forge_v1_grant
from .case import granted
from .case import in_notice
from .case import objected
from .case import report
from .case import resolved
from .case import reviewed
from .case import scored


def refused(zone: Zone, error: type[errors.ZoneError], act: Callable[[], Any]) -> errors.ZoneError:
    """Asserts the step is refused with ``error`` and that nothing was recorded."""
    version, pending = zone.version, len(zone.pending_events)
    state = zone.state()
    with pytest.raises(error) as info:
        act()
    assert zone.version == version
    assert len(zone.pending_events) == pending
    assert zone.state() == state
    assert info.value.message  # a sentence for the officer
    return info.value


# --- applying (申请) ---------------------------------------------------------------------------


class TestApplying:
    def test_the_applicant_files_and_the_zone_is_applied(self) -> None:
        z = applied()
        assert z.status == "applied"
        assert z.applicant_org == "songshan-lake"
        assert z.indicator_system == "2021"
        assert z.creation_period.as_dict() == {"start_year": 2021, "end_year": 2023}  # the first batch, §1.3
        assert z.self_assessment.statistics["revenue"] == GOOD_STATISTICS["revenue"]
        event = z.pending_events[0]
        assert type(event).__name__ == "Applied"
        assert event.actor == SONGSHAN.as_dict()  # type: ignore[attr-defined]
        assert event.prev_hash == GENESIS_HASH  # type: ignore[attr-defined]

    @pytest.mark.parametrize("actor", [BUREAU, LEADING, EXPERTS[0], INSPECTOR, PUBLIC])
    def test_only_an_applicant_may_apply(self, actor: Any) -> None:
        with pytest.raises(errors.NotPermittedError):
            applied(actor=actor)

    def test_the_first_batch_is_for_songshan_lake_and_nancheng_only(self) -> None:
        assert applied(actor=NANCHENG).applicant_org == "nancheng"
        with pytest.raises(errors.NotPermittedError, match="松山湖"):
            applied(actor=OTHER_TOWN)

    @pytest.mark.parametrize(
        ("field", "value", "loc"),
        [
            ("area_type", "city", ["area_type"]),
            ("sites", [], ["sites"]),
            ("name", "  ", ["name"]),
            ("materials", [{"kind": "poster", "sha256": "a" * 64, "name": "x"}], ["materials", 0, "kind"]),
            ("materials", [{"kind": "other", "sha256": "xyz", "name": "x"}], ["materials", 0, "sha256"]),
            ("self_assessment", {"statistics": {"revenue": -1}}, ["self_assessment.statistics", "revenue"]),
            ("self_assessment", {"statistics": {"revenu": 5}}, ["self_assessment.statistics", "revenu"]),
            ("self_assessment", {"statistics": {"platforms": 3}}, ["self_assessment.statistics", "revenue"]),
            (
                "self_assessment",
                {"statistics": {"revenue": 1}, "scores": {"26": 1}},
                ["self_assessment", "scores", "26"],
            ),
            ("self_assessment", {"statistics": {"revenue": 1}, "scores": {"1": 6}}, ["self_assessment", "scores", "1"]),
        ],
    )
    def test_bad_values_are_refused_with_their_location(self, field: str, value: Any, loc: list[Any]) -> None:
        with pytest.raises(errors.InvalidValueError) as info:
            applied(**{field: value})
        assert loc in [e["loc"] for e in info.value.errors]

    def test_an_instant_without_offset_is_refused(self) -> None:
        from datetime import datetime
        from uuid import uuid4

        with pytest.raises(errors.InvalidValueError):
            Zone.file_application(
                zone_id=uuid4(),
                actor=SONGSHAN,
                at=datetime(2021, 7, 1),
                name="x",
                area_type="park",
                sites=[{"name": "a"}],
                batch=BATCHES["2021-first"],
                materials=[],
                self_assessment={"statistics": {"revenue": 1}},
                plan=None,
                system=SYSTEM,
            )


# --- formal review (形式审查) and supplements ---------------------------------------------------


class TestFormalReview:
    def test_first_batch_exemption_songshan_lake_submits_only_items_3_and_4(self) -> None:
        z = accepted(applied(materials=FIRST_BATCH_MATERIALS))
        assert z.status == "accepted"
        kinds = {c["kind"] for c in z.formal_decision.checks if c["check"] == "material"}  # type: ignore[union-attr]
        assert kinds == {"creation_plan"}

    def test_first_batch_still_needs_the_creation_plan(self) -> None:
        z = applied(materials=[doc("annex.pdf", "other")])
        e = refused(z, errors.ConditionsNotMetError, lambda: accepted(z))
        assert [c["kind"] for c in e.details["checks"]] == ["creation_plan"]

    def test_a_later_batch_needs_every_item_and_what_the_call_names(self) -> None:
        z = applied(
            actor=OTHER_TOWN, batch=BATCHES["2024-second"], materials=FIRST_BATCH_MATERIALS[:1], day="2024-03-01"
        )
        e = refused(z, errors.ConditionsNotMetError, lambda: accepted(z, day="2024-03-05"))
        missing = {c["kind"] for c in e.details["checks"]}
        assert missing == {"application_form", "application_report", "self_assessment", "coordination_plan", "other"}
        assert "§5" in e.message

    def test_a_later_batch_with_everything_is_accepted(self) -> None:
        z = applied(
            actor=OTHER_TOWN,
            batch=BATCHES["2024-second"],
            day="2024-03-01",
            materials=[*FULL_MATERIALS, doc("statement.pdf", "other")],
        )
        assert accepted(z, day="2024-03-05").status == "accepted"

    @pytest.mark.parametrize(
        ("stats", "rule"),
        [
            ({**GOOD_STATISTICS, "revenue": 900_000_000, "base_revenue": 900_000_000}, "§4.3"),
            ({**GOOD_STATISTICS, "platforms": 2}, "§4.7"),
        ],
    )
    def test_a_failing_basic_condition_blocks_acceptance(self, stats: dict[str, Any], rule: str) -> None:
        z = applied(self_assessment={"statistics": stats})
        e = refused(z, errors.ConditionsNotMetError, lambda: accepted(z))
        assert [c["rule"].split()[0] for c in e.details["checks"]] == [rule]

    def test_a_plan_that_does_not_double_revenue_blocks_acceptance(self) -> None:
        plan = {
            "base_year": 2020,
            "matching_ratio": 0.5,
            "targets": [
                {
                    "year": 2023,
                    "revenue": 20_000_000_000,
                    "firms_over_1bn": 1,
                    "employees": 1,
                    "new_firms_over_20m": 8,
                    "new_platforms": 3,
                }
            ],
        }
        z = applied(plan=plan)
        e = refused(z, errors.ConditionsNotMetError, lambda: accepted(z))
        assert e.details["checks"][0]["value"] == pytest.approx(20 / 12, rel=1e-5)

    def test_returned_supplemented_and_accepted(self) -> None:
        z = applied(materials=[doc("annex.pdf", "other")])
        reviewed(z, "returned", "Creation plan missing.", day="2021-07-20")
        assert z.status == "returned"
        refused(
            z,
            errors.NotPermittedError,
            lambda: z.supplement(actor=NANCHENG, at=at("2021-07-21"), materials=FIRST_BATCH_MATERIALS),
        )
        z.supplement(actor=SONGSHAN, at=at("2021-07-22"), materials=FIRST_BATCH_MATERIALS, note="plan added")
        assert z.status == "applied"
        assert accepted(z, day="2021-07-25").status == "accepted"

    def test_supplement_only_when_returned(self) -> None:
        z = applied()
        refused(
            z,
            errors.IllegalTransitionError,
            lambda: z.supplement(actor=SONGSHAN, at=at("2021-07-21"), materials=FIRST_BATCH_MATERIALS),
        )

    def test_returning_or_rejecting_needs_reasons(self) -> None:
        z = applied()
        refused(z, errors.InvalidValueError, lambda: reviewed(z, "rejected", "", day="2021-07-20"))

    def test_a_rejected_application_takes_no_further_step(self) -> None:
        z = applied()
        reviewed(z, "rejected", "Not eligible.", day="2021-07-20")
        assert z.status == "rejected"
        refused(z, errors.IllegalTransitionError, lambda: accepted(z, day="2021-07-21"))
        refused(z, errors.IllegalTransitionError, lambda: z.revoke(actor=BUREAU, at=at("2021-07-22"), **revocation()))

    @pytest.mark.parametrize("actor", [SONGSHAN, LEADING, EXPERTS[0], INSPECTOR])
    def test_only_the_bureau_does_formal_review(self, actor: Any) -> None:
        z = applied()
        refused(z, errors.NotPermittedError, lambda: reviewed(z, "accepted", "", day="2021-07-20", actor=actor))

    def test_formal_review_happens_once(self) -> None:
        z = accepted()
        refused(z, errors.IllegalTransitionError, lambda: accepted(z, day="2021-07-21"))


# --- assessment (评估) --------------------------------------------------------------------------


class TestAssessment:
    def test_panel_needs_enough_distinct_experts_and_known_methods(self) -> None:
        z = assessment_accepted()
        two = [{"sub": "a", "name": "A"}, {"sub": "b", "name": "B"}]
        refused(
            z,
            errors.InvalidValueError,
            lambda: z.appoint_panel(
                actor=BUREAU, at=at("2021-08-02"), experts=two, methods=["site_visit"], policy=POLICY
            ),
        )
        dup = [*two, {"sub": "a", "name": "A again"}]
        refused(
            z,
            errors.InvalidValueError,
            lambda: z.appoint_panel(
                actor=BUREAU, at=at("2021-08-02"), experts=dup, methods=["site_visit"], policy=POLICY
            ),
        )
        three = [*two, {"sub": "c", "name": "C"}]
        refused(
            z,
            errors.InvalidValueError,
            lambda: z.appoint_panel(actor=BUREAU, at=at("2021-08-02"), experts=three, methods=["lunch"], policy=POLICY),
        )
        z.appoint_panel(
            actor=BUREAU, at=at("2021-08-02"), experts=two, methods=["site_visit"], policy=Policy(min_panel_size=2)
        )
        assert z.status == "assessing"

    def test_panel_before_formal_acceptance_is_refused(self) -> None:
        z = applied()
        refused(z, errors.IllegalTransitionError, lambda: assessing(z))

    def test_only_panel_experts_score(self) -> None:
        z = assessing()
        refused(
            z,
            errors.NotOnPanelError,
            lambda: z.file_scores(
                actor=OUTSIDER_EXPERT, at=at("2021-08-20"), scores=full_scores(), comment="", system=SYSTEM
            ),
        )
        refused(
            z,
            errors.NotPermittedError,
            lambda: z.file_scores(actor=BUREAU, at=at("2021-08-20"), scores=full_scores(), comment="", system=SYSTEM),
        )

    def test_a_conflicted_expert_may_not_score_and_is_not_counted(self) -> None:
        z = assessing()
        z.declare_conflict(actor=EXPERTS[2], at=at("2021-08-03"), reason="Former employee of a zone firm.")
        refused(
            z,
            errors.ConflictOfInterestError,
            lambda: z.file_scores(
                actor=EXPERTS[2], at=at("2021-08-20"), scores=full_scores(), comment="", system=SYSTEM
            ),
        )
        refused(
            z,
            errors.IllegalTransitionError,
            lambda: z.declare_conflict(actor=EXPERTS[2], at=at("2021-08-04"), reason="again"),
        )
        refused(
            z,
            errors.NotOnPanelError,
            lambda: z.declare_conflict(actor=OUTSIDER_EXPERT, at=at("2021-08-04"), reason="x"),
        )
        z.file_scores(actor=EXPERTS[0], at=at("2021-08-20"), scores=full_scores(2), comment="", system=SYSTEM)
        z.file_scores(actor=EXPERTS[1], at=at("2021-08-20", 11), scores=full_scores(1), comment="", system=SYSTEM)
        e = refused(z, errors.PanelTooSmallError, lambda: assessed(z))  # v2: two unconflicted of three is too few
        assert "Add members" in e.message and "§3.2" in e.message
        z.add_panel_members(actor=BUREAU, at=at("2021-08-21"), experts=[{"sub": RESERVE_EXPERTS[0].sub, "name": "4"}])
        z.file_scores(actor=RESERVE_EXPERTS[0], at=at("2021-08-22"), scores=full_scores(0), comment="", system=SYSTEM)
        assessed(z)
        result = z.assessment.result  # type: ignore[union-attr]
        assert result["experts_counted"] == 3
        assert z.assessment.conflicted == (EXPERTS[2].sub,)  # type: ignore[union-attr]
        assert result["scores"]["1"] == 1.0
        assert result["total"] == pytest.approx(1.0 * 25)

    @pytest.mark.parametrize(
        ("change", "loc"),
        [
            ({"1": 5.5}, ["scores", "1"]),  # over the weight of indicator 1 (5)
            ({"4": -0.1}, ["scores", "4"]),
            ({"26": 1}, ["scores", "26"]),
            ({"x": 1}, ["scores", "x"]),
            ({"3": "high"}, ["scores", "3"]),
        ],
    )
    def test_a_score_outside_the_weight_or_an_unknown_indicator_is_refused(
        self, change: dict[str, Any], loc: list[str]
    ) -> None:
        z = assessing()
        sheet = {**full_scores(), **change}
        e = refused(
            z,
            errors.InvalidValueError,
            lambda: z.file_scores(actor=EXPERTS[0], at=at("2021-08-20"), scores=sheet, comment="", system=SYSTEM),
        )
        assert loc in [x["loc"] for x in e.details["errors"]]

    def test_a_missing_indicator_is_refused(self) -> None:
        z = assessing()
        sheet = full_scores()
        del sheet["25"]
        e = refused(
            z,
            errors.InvalidValueError,
            lambda: z.file_scores(actor=EXPERTS[0], at=at("2021-08-20"), scores=sheet, comment="", system=SYSTEM),
        )
        assert e.details["errors"] == [{"loc": ["scores", "25"], "msg": "indicator 25 has no score"}]

    def test_refiling_replaces_the_sheet_and_both_stay_in_history(self) -> None:
        z = assessing()
        z.file_scores(actor=EXPERTS[0], at=at("2021-08-20"), scores=full_scores(1), comment="", system=SYSTEM)
        refused(  # v2: a re-filing says why
            z,
            errors.InvalidValueError,
            lambda: z.file_scores(
                actor=EXPERTS[0], at=at("2021-08-21"), scores=full_scores(2), comment="revised", system=SYSTEM
            ),
        )
        z.file_scores(
            actor=EXPERTS[0],
            at=at("2021-08-21"),
            scores=full_scores(2),
            comment="revised",
            system=SYSTEM,
            reason="Site visit showed more platforms.",
        )
        assert z.panel.sheets[EXPERTS[0].sub].scores["1"] == 2  # type: ignore[union-attr]
        filed = [e for e in z.pending_events if type(e).__name__ == "ScoresFiled"]
        assert [e.values["scores"]["1"] for e in filed] == [1, 2]  # type: ignore[attr-defined]

    def test_conclusion_waits_for_every_unconflicted_expert(self) -> None:
        z = assessing()
        z.file_scores(actor=EXPERTS[0], at=at("2021-08-20"), scores=full_scores(), comment="", system=SYSTEM)
        e = refused(z, errors.IllegalTransitionError, lambda: assessed(z))
        assert EXPERTS[1].sub in e.message and EXPERTS[2].sub in e.message

    def test_panel_result_raw_maximum_and_percentage_without_renormalisation(self) -> None:
        z = assessed()
        result = z.assessment.result  # type: ignore[union-attr]
        assert result["indicator_system"] == "2021"
        assert result["maximum"] == 98  # as published: 26 + 40 + 32, not 100
        assert result["total"] == pytest.approx(sum(full_scores().values()))
        assert result["percentage"] == pytest.approx(result["total"] / 98, abs=1e-6)
        assert z.status == "assessed"

    def test_a_failed_assessment_is_final(self) -> None:
        z = assessed(passed=False)
        assert z.status == "not_passed"
        refused(z, errors.IllegalTransitionError, lambda: in_notice(z))

    def test_conclusion_needs_a_report_and_reasons(self) -> None:
        z = scored()
        refused(
            z,
            errors.InvalidValueError,
            lambda: z.conclude_assessment(
                actor=BUREAU,
                at=at("2021-09-01"),
                passed=True,
                report={"sha256": "nothex", "name": "r"},
                reasons="ok",
                system=SYSTEM,
                policy=POLICY,
            ),
        )
        refused(
            z,
            errors.InvalidValueError,
            lambda: z.conclude_assessment(
                actor=BUREAU,
                at=at("2021-09-01"),
                passed=True,
                report=doc("r.pdf"),
                reasons=" ",
                system=SYSTEM,
                policy=POLICY,
            ),
        )


# --- public notice (公示), objections (异议), grant (授予) ----------------------------------------


class TestNoticeAndGrant:
    def test_the_notice_records_its_text_hash_and_period(self) -> None:
        z = in_notice()
        assert z.status == "in_notice"
        assert z.notice.ends_on == date(2021, 10, 8)  # type: ignore[union-attr]
        import hashlib

        assert z.notice.text_sha256 == hashlib.sha256("关于松山湖集聚区的公示".encode()).hexdigest()  # type: ignore[union-attr]

    def test_a_notice_cannot_start_in_the_past_or_before_assessment(self) -> None:
        z = assessed()
        refused(z, errors.InvalidValueError, lambda: in_notice(z, day="2021-09-28", starts="2021-09-27"))
        z2 = scored()
        refused(z2, errors.IllegalTransitionError, lambda: in_notice(z2))

    def test_objections_only_during_the_notice(self) -> None:
        z = in_notice(day="2021-09-24")
        kwargs = {
            "objection_id": "o1",
            "objector": objector("Li", "li@example.org"),
            "text": "Revenue overstated.",
        }
        refused(z, errors.TooEarlyError, lambda: z.raise_objection(actor=PUBLIC, at=at("2021-09-26"), **kwargs))
        refused(z, errors.DeadlinePassedError, lambda: z.raise_objection(actor=PUBLIC, at=at("2021-10-09"), **kwargs))
        z.raise_objection(actor=PUBLIC, at=at("2021-10-08", 23), **kwargs)  # the last day counts to its end
        assert z.objections["o1"].status == "open"

    def test_grant_refused_while_the_notice_runs(self) -> None:
        z = in_notice()
        e = refused(z, errors.TooEarlyError, lambda: granted(z, day="2021-10-08"))
        assert "2021-10-09" in e.message

    def test_grant_refused_while_an_objection_is_open_then_allowed_once_dismissed(self) -> None:
        z = in_notice()
        objected(z, "Revenue overstated.")
        refused(z, errors.IllegalTransitionError, lambda: granted(z, day="2021-10-11"))
        resolved(z, "dismissed", reasons="Audited statements confirm the revenue.")
        refused(z, errors.IllegalTransitionError, lambda: resolved(z, "upheld", "reject", reasons="x"))
        granted(z, day="2021-10-12")
        assert z.status == "granted"
        # three years from the grant through the day before; it expires the next day, the review window
        # opens three months before the expiry
        assert z.current_term.as_dict() == {  # type: ignore[union-attr]
            "announced_on": "2021-10-12",  # by announcement (公告), on the bureau's recommendation
            "term_years": 3,
            "number": 1,
            "granted_on": "2021-10-12",
            "valid_until": "2024-10-11",
            "expires_on": "2024-10-12",
            "review_window_opens_on": "2024-07-12",
            "announcement_no": "东制造〔2021〕8号",
        }

    def test_an_upheld_objection_sends_the_zone_back_to_assessment(self) -> None:
        z = in_notice()
        objected(z, "Platforms counted twice.")
        refused(z, errors.InvalidValueError, lambda: resolved(z, "upheld", reasons="x"))
        resolved(z, "upheld", "reassess", reasons="Two platforms are the same company.")
        assert z.status == "assessment_accepted"  # a new panel, then a new notice
        refused(z, errors.IllegalTransitionError, lambda: granted(z, day="2021-10-12"))
        # a new panel, a new conclusion, a new notice — and then the grant
        assessing(z, day="2021-10-13")
        scored(z, day="2021-10-20")
        assessed(z, day="2021-10-25")
        in_notice(z, day="2021-10-25", starts="2021-10-25", ends="2021-10-29")
        assert z.notice.number == 2  # type: ignore[union-attr]
        granted(z, day="2021-11-01")
        assert z.status == "granted"
        assert len(z.assessments) == 2

    def test_an_upheld_objection_can_reject_and_then_nothing_is_granted(self) -> None:
        z = in_notice()
        objected(z, "Fraudulent statistics.")
        resolved(z, "upheld", "reject", reasons="Statistics were fabricated.")
        assert z.status == "rejected"
        refused(z, errors.IllegalTransitionError, lambda: granted(z, day="2021-10-12"))

    @pytest.mark.parametrize("actor", [BUREAU, SONGSHAN, INSPECTOR, EXPERTS[0]])
    def test_only_the_leading_group_grants(self, actor: Any) -> None:
        z = in_notice()
        refused(
            z,
            errors.NotPermittedError,
            lambda: z.grant(actor=actor, at=at("2021-10-11"), announcement_no="x", policy=POLICY),
        )

    def test_an_unknown_objection_is_not_found(self) -> None:
        z = in_notice()
        refused(z, errors.ZoneNotFoundError, lambda: resolved(z, "dismissed", reasons="x", objection_id="nope"))


# --- annual reports (年度报告), review (复核), rectification (整改), revocation (撤销) -------------


class TestTerm:
    def test_no_annual_report_for_a_zone_never_granted(self) -> None:
        z = in_notice()
        refused(z, errors.IllegalTransitionError, lambda: report(z, 2021, "2021-10-09"))

    def test_annual_reports_by_january_31_late_after(self) -> None:
        z = granted()
        assert held_years(z.terms) == [2021, 2022, 2023, 2024]
        refused(z, errors.TooEarlyError, lambda: report(z, 2021, "2021-12-30"))
        report(z, 2021, "2022-01-31")
        assert z.annual_reports["2021"].late is False
        refused(z, errors.IllegalTransitionError, lambda: report(z, 2021, "2022-02-01"))
        refused(z, errors.IllegalTransitionError, lambda: report(z, 2020, "2022-02-01"))
        refused(z, errors.NotPermittedError, lambda: report(z, 2022, "2023-01-10", actor=NANCHENG))
        report(z, 2022, "2023-02-01")
        assert z.annual_reports["2022"].late is True

    def test_the_evaluation_holds_the_funds_to_the_ratio_the_plan_committed(self) -> None:
        committed = applied(plan={**GOOD_PLAN, "matching_ratio": 0.8})
        z = granted(in_notice(assessed(scored(assessing(accepted(committed))))))
        report(z, 2021, "2022-01-20")  # 60 m local to 100 m city funds: 0.6, short of the 0.8 committed
        evaluated(z, 2021, "2022-02-10", "pass", "Funds short.")
        checks = z.annual_reports["2021"].evaluation.checks  # type: ignore[union-attr]
        matching = next(c for c in checks if c["check"] == "matching_commitment")
        assert (matching["value"], matching["threshold"], matching["passed"]) == (0.6, 0.8, False)

    def test_the_bureau_evaluates_a_report_with_threshold_checks(self) -> None:
        z = granted()
        refused(z, errors.ZoneNotFoundError, lambda: evaluated(z, 2021, "2022-02-10"))
        report(z, 2021, "2022-01-20")
        evaluated(z, 2021, "2022-02-10", "good", "On track.")
        checks = z.annual_reports["2021"].evaluation.checks  # type: ignore[union-attr]
        by_rule = {(c["indicator"], c["rule"]): c for c in checks}
        assert (
            by_rule[(1, "zone software & IT services and internet & related services scale ≥ 1 billion yuan")]["passed"]
            is True
        )
        # the 3-year creation targets (创建目标) only in the plan's final year (2023): not in 2021
        attracted = (14, "≥ 8 newly attracted firms reaching 20 million yuan revenue within 3 years")
        assert attracted not in by_rule and not [
            c for c in checks if c["indicator"] in (12, 13, 15, 16) and c["check"] == "threshold"
        ]
        # §4.2's matching commitment — the plan committed 0.6 — against the funds reported: 60 m local to 100 m city
        matching = next(c for c in checks if c["check"] == "matching_commitment")
        assert (matching["value"], matching["threshold"], matching["passed"]) == (0.6, 0.6, True)
        assert not [c for c in checks if c["check"] == "threshold" and c["indicator"] == 19]  # not twice
        plan_check = by_rule[(12, "revenue reaches the creation plan's target for 2021")]
        assert plan_check["value"] == 16_000_000_000 and plan_check["passed"] is True
        # every field of that year's target, not only revenue: 45,000 employees planned, 40,000 reported
        employees = by_rule[(13, "employees reaches the creation plan's target for 2021")]
        assert (employees["value"], employees["threshold"], employees["passed"]) == (40_000, 45_000, False)
        refused(z, errors.IllegalTransitionError, lambda: evaluated(z, 2021, "2022-02-11"))
        report(z, 2023, "2024-01-20")
        evaluated(z, 2023, "2024-02-10", "good", "Final year.")
        final = {(c["indicator"], c["rule"]): c for c in z.annual_reports["2023"].evaluation.checks}  # type: ignore[union-attr]
        assert final[attracted]["passed"] is False  # 3 of 8 attracted firms, in the plan's final year
        assert final[(12, "revenue reaches the creation plan's target for 2023")]["threshold"] == 25_000_000_000

    def test_review_only_in_the_three_months_before_expiry_and_only_once(self) -> None:
        z = granted()  # valid until 2024-10-10, expires 2024-10-11, window from 2024-07-11
        e = refused(z, errors.TooEarlyError, lambda: z.request_review(actor=SONGSHAN, at=at("2024-07-10")))
        assert "2024-07-11" in e.message
        z.request_review(actor=SONGSHAN, at=at("2024-07-11"))
        assert z.status == "in_review"
        refused(z, errors.IllegalTransitionError, lambda: z.request_review(actor=SONGSHAN, at=at("2024-07-12")))

    def test_review_requested_after_expiry_is_refused(self) -> None:
        z = granted()
        refused(z, errors.DeadlinePassedError, lambda: z.request_review(actor=SONGSHAN, at=at("2024-10-12")))

    def test_review_passed_grants_a_new_term(self) -> None:
        z = granted()
        z.request_review(actor=SONGSHAN, at=at("2024-08-01"))
        z.decide_review(actor=BUREAU, at=at("2024-09-01"), passed=True, reasons="Targets met.", policy=POLICY)
        assert z.status == "review_passed" and len(z.terms) == 1  # the renewal is by recommendation and announcement
        granted(z, day="2024-09-10", announcement_no="东制造〔2024〕15号")
        assert z.status == "granted"
        assert z.current_term.number == 2  # type: ignore[union-attr]
        # continuing from the old term's end (the day after its last day, 2024-10-10)
        assert z.current_term.granted_on == date(2024, 10, 11)  # type: ignore[union-attr]
        assert z.current_term.valid_until == date(2027, 10, 10)  # type: ignore[union-attr]
        assert held_years(z.terms)[-1] == 2027

    def test_a_term_runs_three_years_less_a_day_and_expires_the_day_after(self) -> None:
        z = granted(day="2026-10-13")
        term = z.current_term
        assert term is not None
        assert (term.valid_until, term.expiry, term.review_window_opens_on) == (
            date(2029, 10, 12),
            date(2029, 10, 13),
            date(2029, 7, 13),
        )
        due = {d.kind: (d.day.isoformat(), d.due_at.isoformat()) for d in z.deadlines(POLICY)}
        assert due["review_window_opened"] == ("2029-07-13", "2029-07-12T16:00:00+00:00")
        assert due["title_expired"] == ("2029-10-13", "2029-10-12T16:00:00+00:00")
        assert held_years(z.terms) == [2026, 2027, 2028, 2029]
        assert [k for k in keys(z, "2029-10-12") if not k.startswith("annual")] == ["review_window_opened:1"]
        assert [k for k in keys(z, "2029-10-13") if not k.startswith("annual")] == [
            "review_window_opened:1",
            "title_expired:1",
        ]
        refused(z, errors.TooEarlyError, lambda: z.request_review(actor=SONGSHAN, at=at("2029-07-12")))
        e = refused(z, errors.DeadlinePassedError, lambda: z.request_review(actor=SONGSHAN, at=at("2029-10-13")))
        assert "2029-10-13" in e.message
        z.request_review(actor=SONGSHAN, at=at("2029-10-12", 23))  # through the last day
        z.decide_review(actor=BUREAU, at=at("2029-12-01"), passed=True, reasons="Targets met.", policy=POLICY)
        granted(z, day="2029-12-10")  # 继续授予: from the old term's end, whatever the date
        renewed = z.state()["terms"][-1]
        assert (renewed["granted_on"], renewed["valid_until"]) == ("2029-10-13", "2032-10-12")

    def test_a_term_recorded_before_v2_keeps_its_dates_and_deadlines(self) -> None:
        z = in_notice()
        forge_v1_grant(z, "2021-10-11")  # valid until the same date 3 years on, no expiry
        assert z.state()["terms"][0] == {
            "announcement_no": "x",
            "granted_on": "2021-10-11",
            "number": 1,
            "review_window_opens_on": "2024-07-11",
            "valid_until": "2024-10-11",
        }
        expired = next(d for d in z.deadlines(POLICY) if d.kind == "title_expired")
        assert (expired.day, expired.fires_on) == (date(2024, 10, 11), date(2024, 10, 12))  # as v1 derived it
        z.request_review(actor=SONGSHAN, at=at("2024-10-11"))
        z.decide_review(actor=BUREAU, at=at("2024-12-01"), passed=True, reasons="Targets met.", policy=POLICY)
        granted(z, day="2024-12-01")
        renewed = z.state()["terms"][-1]
        assert (renewed["granted_on"], renewed["valid_until"]) == ("2024-10-12", "2027-10-11")

    def test_failed_review_rectification_failed_again_revoked_and_then_nothing(self) -> None:
        z = granted()
        z.request_review(actor=SONGSHAN, at=at("2024-08-01"))
        refused(
            z,
            errors.IllegalTransitionError,
            lambda: z.submit_rectification(actor=SONGSHAN, at=at("2024-08-02"), summary="x"),
        )
        z.decide_review(
            actor=BUREAU, at=at("2024-09-01"), passed=False, reasons="Revenue did not double.", policy=POLICY
        )
        assert z.status == "rectifying"
        assert z.review.rectification.due_on == date(2025, 3, 1)  # type: ignore[union-attr]  # default 6 months
        refused(
            z,
            errors.IllegalTransitionError,
            lambda: z.decide_review(actor=BUREAU, at=at("2024-09-02"), passed=True, reasons="x", policy=POLICY),
        )
        z.submit_rectification(actor=SONGSHAN, at=at("2025-02-20"), summary="New platforms opened.")
        assert z.status == "in_review"
        z.decide_review(
            actor=BUREAU, at=at("2025-03-10"), passed=False, reasons="Still short of target.", policy=POLICY
        )
        assert z.status == "revoked"
        assert z.revocation.cause == "review_failed_after_rectification"  # type: ignore[union-attr]
        for act in (
            lambda: report(z, 2024, "2025-03-11"),
            lambda: z.request_review(actor=SONGSHAN, at=at("2025-03-11")),
            lambda: z.revoke(actor=BUREAU, at=at("2025-03-11"), **revocation()),
            lambda: z.record_deadline(
                actor=SYSTEM_ACTOR, at=at("2025-03-11"), key="annual_report_overdue:2024", policy=POLICY
            ),
        ):
            e = refused(z, errors.IllegalTransitionError, act)
            assert "revoked" in e.message

    def test_a_rectification_never_submitted_lets_the_bureau_revoke_at_once(self) -> None:
        z = granted()
        z.request_review(actor=SONGSHAN, at=at("2024-08-01"))
        z.decide_review(
            actor=BUREAU, at=at("2024-08-31"), passed=False, reasons="x", policy=POLICY, rectification_months=3
        )

        def decide(day: str, passed: bool = False, reasons: str = "Nothing was submitted.") -> None:
            z.decide_review(actor=BUREAU, at=at(day), passed=passed, reasons=reasons, policy=POLICY)

        e = refused(z, errors.IllegalTransitionError, lambda: decide("2024-12-01"))  # due 2024-11-30, not recorded
        assert "once it submits its rectification." in e.message
        z.record_deadline(
            actor=SYSTEM_ACTOR, at=at("2024-12-01"), key="rectification_overdue:2024-08-31", policy=POLICY
        )
        e = refused(z, errors.IllegalTransitionError, lambda: decide("2024-12-02", passed=True))
        assert "decided as failed" in e.message
        refused(z, errors.InvalidValueError, lambda: decide("2024-12-02", reasons=""))
        refused(
            z,
            errors.NotPermittedError,
            lambda: z.decide_review(actor=LEADING, at=at("2024-12-02"), passed=False, reasons="x", policy=POLICY),
        )
        decide("2024-12-02")
        assert z.status == "revoked"
        assert z.state()["revocation"] == {
            "cause": "rectification_not_submitted",
            "details": "The rectification period ended with nothing submitted (整改期满未提交整改, §6.4).",
            "revoked_on": "2024-12-02",
            "reasons": "Nothing was submitted.",
        }

    def test_a_late_rectification_is_still_reviewed(self) -> None:
        z = granted()
        z.request_review(actor=SONGSHAN, at=at("2024-08-01"))
        z.decide_review(actor=BUREAU, at=at("2024-09-01"), passed=False, reasons="x", policy=POLICY)
        z.record_deadline(
            actor=SYSTEM_ACTOR, at=at("2025-03-02"), key="rectification_overdue:2024-09-01", policy=POLICY
        )
        z.submit_rectification(actor=SONGSHAN, at=at("2025-03-05"), summary="Late, but done.")
        assert z.status == "in_review" and z.review.rectification.submitted.late  # type: ignore[union-attr]
        z.decide_review(actor=BUREAU, at=at("2025-03-10"), passed=False, reasons="Still short.", policy=POLICY)
        assert z.revocation is not None and z.revocation.cause == "review_failed_after_rectification"

    def test_rectification_months_are_configurable_per_order(self) -> None:
        z = granted()
        z.request_review(actor=SONGSHAN, at=at("2024-08-01"))
        z.decide_review(
            actor=BUREAU, at=at("2024-08-31"), passed=False, reasons="x", policy=POLICY, rectification_months=3
        )
        assert z.review.rectification.due_on == date(2024, 11, 30)  # type: ignore[union-attr]

    def test_revocation_for_fraud(self) -> None:
        z = granted()
        refused(z, errors.NotPermittedError, lambda: z.revoke(actor=LEADING, at=at("2022-05-01"), **revocation()))
        z.revoke(actor=BUREAU, at=at("2022-05-01"), **revocation())
        assert z.status == "revoked"
        assert z.state()["revocation"] == {
            "cause": "fraud",
            "circular": {**CIRCULAR, "text_sha256": hashlib.sha256(CIRCULAR["text"].encode()).hexdigest()},
            "details": "Falsified statistics (§6.6).",
            "evidence": [doc("statistics-audit.pdf")],
            "revoked_on": "2022-05-01",
            "scope": "title",  # after the grant: the title (撤销称号)
            "reasons": "Falsified statistics (§6.6).",
        }

    @pytest.mark.parametrize("reason", ["statistics_duty", "concealment", "fraud"])
    def test_revocation_only_on_the_grounds_of_6_6(self, reason: str) -> None:
        z = granted()
        for bad in ("other", "dislike", None):
            e = refused(
                z,
                errors.InvalidValueError,
                lambda bad=bad: z.revoke(actor=BUREAU, at=at("2022-05-01"), **revocation(bad)),
            )
            assert e.details["errors"][0]["loc"] == ["reason"]
        z.revoke(actor=BUREAU, at=at("2022-05-01"), **revocation(reason))
        assert z.revocation is not None and z.revocation.cause == reason

    @pytest.mark.parametrize(
        ("given", "loc"),
        [
            ({"evidence": []}, "evidence"),
            ({"evidence": None}, "evidence"),
            ({"evidence": [{"sha256": "nope", "name": "x.pdf"}]}, "evidence"),
            ({"circular": None}, "circular"),
            ({"circular": {"number": "", "text": "通报"}}, "circular.number"),
            ({"circular": {"number": "5号"}}, "circular.text"),
            ({"details": " "}, "details"),
        ],
    )
    def test_revocation_needs_evidence_and_a_circular(self, given: dict[str, Any], loc: str) -> None:
        z = granted()
        e = refused(
            z, errors.InvalidValueError, lambda: z.revoke(actor=BUREAU, at=at("2022-05-01"), **revocation(**given))
        )
        assert e.details["errors"][0]["loc"][0] == loc

    def test_revocation_before_a_grant_cancels_the_creation_qualification(self) -> None:
        z = assessed()
        z.revoke(actor=BUREAU, at=at("2021-09-10"), **revocation("concealment"))
        assert z.status == "revoked"
        assert z.revocation is not None and z.revocation.scope == "creation_qualification"  # 取消创建资格

    @pytest.mark.parametrize("outcome", ["applied", "returned"])
    def test_no_revocation_before_formal_acceptance(self, outcome: str) -> None:
        z = applied() if outcome == "applied" else reviewed(applied(), "returned", "Add the plan.")
        e = refused(
            z, errors.IllegalTransitionError, lambda: z.revoke(actor=BUREAU, at=at("2021-07-22"), **revocation())
        )
        assert "formally accepted" in e.message and "rejection" in e.message

    def test_an_entry_cannot_be_dated_before_the_latest(self) -> None:
        z = granted()
        refused(z, errors.OutOfOrderError, lambda: report(z, 2021, "2021-10-10"))


# --- deadlines ---------------------------------------------------------------------------------


def keys(z: Zone, day: str) -> list[str]:
    return [d.key for d in z.due_deadlines(at(day), POLICY)]


def record_due(z: Zone, key: str, day: str, actor: Actor = SYSTEM_ACTOR) -> None:
    """The scheduler (or, to be refused, another ``actor``) records the deadline ``key`` on ``day``."""
    z.record_deadline(actor=actor, at=at(day), key=key, policy=POLICY)


class TestDeadlines:
    def test_notice_end_is_due_the_day_after_and_recorded_once(self) -> None:
        z = in_notice()
        assert keys(z, "2021-10-08") == []
        assert keys(z, "2021-10-09") == ["notice_ended:1"]
        record_due(z, "notice_ended:1", "2021-10-09")
        event = z.pending_events[-1]
        assert event.data["due_at"] == "2021-10-08T16:00:00+00:00"  # type: ignore[attr-defined]
        assert event.data["lag_seconds"] == 10 * 3600  # type: ignore[attr-defined]
        refused(z, errors.AlreadyRecordedError, lambda: record_due(z, "notice_ended:1", "2021-10-10"))
        assert keys(z, "2021-10-10") == []

    def test_only_the_scheduler_records_deadlines(self) -> None:
        z = in_notice()
        refused(z, errors.NotPermittedError, lambda: record_due(z, "notice_ended:1", "2021-10-09", BUREAU))

    def test_a_deadline_not_yet_due_is_refused(self) -> None:
        z = in_notice()
        refused(z, errors.IllegalTransitionError, lambda: record_due(z, "notice_ended:1", "2021-10-08"))

    def test_annual_report_overdue_unless_filed(self) -> None:
        z = granted()
        report(z, 2021, "2022-01-15")
        assert keys(z, "2022-02-01") == []
        assert keys(z, "2023-02-01") == ["annual_report_overdue:2022"]

    def test_review_window_and_expiry_without_request_revokes(self) -> None:
        z = granted()
        for y, day in ((2021, "2022-01-15"), (2022, "2023-01-15"), (2023, "2024-01-15")):
            report(z, y, day)
        assert keys(z, "2024-07-10") == []
        assert keys(z, "2024-07-11") == ["review_window_opened:1"]
        record_due(z, "review_window_opened:1", "2024-07-11")
        assert keys(z, "2024-10-12") == ["title_expired:1"]
        record_due(z, "title_expired:1", "2024-10-12")
        assert z.status == "revoked"
        assert z.revocation.cause == "no_review_request"  # type: ignore[union-attr]
        assert [type(e).__name__ for e in z.pending_events[-2:]] == ["TitleExpired", "Revoked"]

    def test_expiry_with_a_review_pending_does_not_revoke(self) -> None:
        z = granted()
        z.request_review(actor=SONGSHAN, at=at("2024-08-01"))
        assert "review_window_opened:1" not in keys(z, "2024-10-12")  # moot once requested
        record_due(z, "title_expired:1", "2024-10-12")
        assert z.status == "in_review"

    def test_rectification_overdue(self) -> None:
        z = granted()
        z.request_review(actor=SONGSHAN, at=at("2024-08-01"))
        z.decide_review(actor=BUREAU, at=at("2024-09-01"), passed=False, reasons="x", policy=POLICY)
        assert "rectification_overdue:2024-09-01" in keys(z, "2025-03-02")
        assert "rectification_overdue:2024-09-01" not in keys(z, "2025-03-01")


def test_every_event_links_to_its_predecessor() -> None:
    z = granted()
    events = z.collect_events()
    # applied, accepted, assessment application filed and accepted, panel, 3 sheets, assessed, notice,
    # recommended, granted
    assert len(events) == 12
    prev = GENESIS_HASH
    for e in events:
        assert e.prev_hash == prev  # type: ignore[attr-defined]
        prev = e.hash  # type: ignore[attr-defined]
    assert z.last_hash == prev


def test_the_notice_period_dates_are_plain_iso_dates() -> None:
    z = in_notice()
    assert z.notice.starts_on == date(2021, 9, 27)  # type: ignore[union-attr]
    assert date.fromisoformat(z.state()["notice"]["starts_on"]) == date(2021, 9, 27)  # shown as plain ISO dates


@pytest.mark.parametrize(
    ("role", "said"),
    [("expert", "An expert"), ("applicant", "An applicant"), ("bureau", "A bureau"), ("public", "The public")],
)
def test_a_refusal_names_the_role_in_plain_english(role: str, said: str) -> None:
    with pytest.raises(errors.NotPermittedError) as info:
        permit(role, ("inspector", "leading_group"))
    assert str(info.value) == f"{said} may not do this; it is for: inspector, leading group."
