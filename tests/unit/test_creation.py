"""The approval to start, the creation period and the assessment application (PROCESS.md v2, steps 2–4)."""

from __future__ import annotations

from typing import Any

import pytest

from domain import errors
from domain.values import SYSTEM as SYSTEM_ACTOR
from domain.zone import Zone

from ..helpers import ASSESSMENT_STATISTICS
from ..helpers import BUREAU
from ..helpers import EXPERTS
from ..helpers import GOOD_PLAN
from ..helpers import GOOD_STATISTICS
from ..helpers import LEADING
from ..helpers import NANCHENG
from ..helpers import SONGSHAN
from ..helpers import at
from ..helpers import doc
from .case import POLICY
from .case import SYSTEM
from .case import accepted
from .case import applied
from .case import assessing
from .case import assessment_accepted
from .case import assessment_requested
from .case import granted
from .case import reviewed
from .test_zone import refused

SMALL = {**GOOD_STATISTICS, "revenue": 900_000_000, "base_revenue": 900_000_000}  # below §4.3's 10亿元
WAIVER = {"rule": "§4.3", "reasons": "规模接近10亿元，互联网和相关服务业规模较大，原则上可予放宽。"}


def rules(checks: Any) -> list[str]:
    return [c["rule"].split()[0] for c in checks]


def deadline_keys(z: Zone, day: str) -> list[str]:
    return [d.key for d in z.due_deadlines(at(day, 0), POLICY)]


def record(z: Zone, key: str, day: str) -> None:
    z.record_deadline(actor=SYSTEM_ACTOR, at=at(day), key=key, policy=POLICY)


def decide(z: Zone, day: str, outcome: str, actor: Any = BUREAU, **given: Any) -> None:
    z.decide_creation_period(actor=actor, at=at(day), outcome=outcome, **{"reasons": "创建期满。", **given})


# --- the approval to start (批复同意启动) and the creation period (创建期) --------------------------


class TestApprovalToStart:
    def test_acceptance_opens_the_creation_period_until_the_end_of_the_calls_years(self) -> None:
        z = reviewed(applied(), "accepted", day="2021-07-20", approval=doc("批复.pdf"))
        assert z.creation_period.as_dict() == {
            "end_year": 2023,
            "start_year": 2021,
            "ends_on": "2023-12-31",  # the first batch: 2021–2023 (§1.3)
            "starts_on": "2021-07-20",
        }
        assert z.formal_decision is not None and z.formal_decision.approval is not None
        assert z.formal_decision.approval.as_dict() == doc("批复.pdf")
        assert z.pending_events[-1].data["creation_period"] == {"starts_on": "2021-07-20", "ends_on": "2023-12-31"}  # type: ignore[attr-defined]

    def test_accepted_after_the_calls_years_the_period_is_three_years_less_a_day(self) -> None:
        z = accepted(applied(day="2024-03-04"), day="2024-03-11")
        assert (z.creation_period.starts_on, z.creation_period.ends_on) == (
            at("2024-03-11").date(),
            at("2027-03-10").date(),
        )

    def test_returning_or_rejecting_carries_no_approval_or_waiver(self) -> None:
        z = applied()
        refused(z, errors.InvalidValueError, lambda: reviewed(z, "returned", "More.", approval=doc("批复.pdf")))
        refused(z, errors.InvalidValueError, lambda: reviewed(z, "rejected", "No.", waivers=[WAIVER]))

    def test_a_zone_accepted_before_v2_has_no_creation_period_to_end(self) -> None:
        z = applied()
        z._record(Zone.FormallyAccepted, actor=BUREAU, at=at("2021-07-20"), reason="", outcome="accepted", checks=[])
        assert z.creation_period.as_dict() == {"end_year": 2023, "start_year": 2021}
        assert "creation_period_ended" not in {d.kind for d in z.deadlines(POLICY)}
        refused(z, errors.IllegalTransitionError, lambda: decide(z, "2024-02-01", "cancelled"))
        assessment_requested(z, day="2024-02-01")  # no period to be outside of
        assert z.status == "assessment_requested"


class TestWaiversAndCommitments:
    def test_a_failing_scale_not_waived_still_blocks_acceptance_and_quotes_the_document(self) -> None:
        z = applied(self_assessment={"statistics": SMALL})
        e = refused(z, errors.ConditionsNotMetError, lambda: accepted(z))
        assert [c["rule"] for c in e.details["checks"]] == ["§4.3 集聚区软件产业规模原则上不低于10亿元"]
        assert "集聚区软件产业规模原则上不低于10亿元" in e.message

    def test_the_bureau_waives_the_in_principle_scale_with_reasons(self) -> None:
        z = reviewed(applied(self_assessment={"statistics": SMALL}), "accepted", waivers=[WAIVER])
        assert z.status == "accepted"
        decision = z.formal_decision
        assert decision is not None and decision.waivers is not None
        assert [w.as_dict() for w in decision.waivers] == [{"reasons": WAIVER["reasons"], "rule": "§4.3"}]
        (scale,) = [c for c in decision.checks if c["rule"].startswith("§4.3")]
        assert (scale["passed"], scale["waived"], scale["value"]) == (False, True, 900_000_000)

    def test_a_waiver_needs_reasons(self) -> None:
        z = applied(self_assessment={"statistics": SMALL})
        e = refused(
            z, errors.InvalidValueError, lambda: reviewed(z, "accepted", waivers=[{"rule": "§4.3", "reasons": " "}])
        )
        assert e.errors[0]["loc"] == ["waivers", 0, "reasons"]

    @pytest.mark.parametrize("rule", ["§4.1", "§4.7", "§5", "§4.2"])
    def test_only_an_in_principle_condition_may_be_waived(self, rule: str) -> None:
        z = applied(self_assessment={"statistics": {**GOOD_STATISTICS, "platforms": 2}})
        e = refused(
            z, errors.ConditionsNotMetError, lambda: reviewed(z, "accepted", waivers=[{"rule": rule, "reasons": "x"}])
        )
        assert e.code == "conditions_not_met" and "原则上" in e.message and "§4.3" in e.message

    def test_a_condition_that_is_met_needs_no_waiver(self) -> None:
        z = applied()
        refused(z, errors.InvalidValueError, lambda: reviewed(z, "accepted", waivers=[WAIVER]))

    def test_a_waived_scale_does_not_excuse_another_failing_condition(self) -> None:
        z = applied(self_assessment={"statistics": {**SMALL, "platforms": 2}})
        e = refused(z, errors.ConditionsNotMetError, lambda: reviewed(z, "accepted", waivers=[WAIVER]))
        assert rules(e.details["checks"]) == ["§4.7"]

    def test_the_matching_of_city_funds_is_a_commitment_not_funds_already_there(self) -> None:
        no_funds_yet = {**GOOD_STATISTICS, "local_funds": 0, "city_funds": 0}
        z = accepted(applied(self_assessment={"statistics": no_funds_yet}))
        (matching,) = [c for c in z.formal_decision.checks if c["rule"].startswith("§4.2")]  # type: ignore[union-attr]
        assert (matching["value"], matching["threshold"], matching["passed"]) == (0.6, 0.5, True)

    @pytest.mark.parametrize("ratio", [0.4, None])
    def test_a_plan_committing_less_than_1_to_05_or_nothing_blocks_acceptance(self, ratio: float | None) -> None:
        plan = {k: v for k, v in GOOD_PLAN.items() if k != "matching_ratio"}
        z = applied(plan=plan if ratio is None else {**plan, "matching_ratio": ratio})
        e = refused(z, errors.ConditionsNotMetError, lambda: accepted(z))
        assert rules(e.details["checks"]) == ["§4.2"]
        assert e.details["checks"][0]["value"] == ratio

    def test_a_matching_ratio_must_be_a_number(self) -> None:
        with pytest.raises(errors.InvalidValueError) as info:
            applied(plan={**GOOD_PLAN, "matching_ratio": "half"})
        assert info.value.errors[0]["loc"] == ["plan", "matching_ratio"]


class TestRevenueScopes:
    def test_indicator_1_counts_internet_revenue_and_section_4_3_does_not(self) -> None:
        stats = {**SMALL, "internet_revenue": 200_000_000}
        (scale,) = [c for c in SYSTEM.threshold_checks(stats) if c["indicator"] == 1]
        assert (scale["value"], scale["passed"]) == (1_100_000_000, True)
        z = applied(self_assessment={"statistics": stats})
        e = refused(z, errors.ConditionsNotMetError, lambda: accepted(z))
        assert rules(e.details["checks"]) == ["§4.3"] and e.details["checks"][0]["value"] == 900_000_000

    def test_indicator_12_counts_software_revenue_only(self) -> None:
        stats = {"revenue": 15, "internet_revenue": 100, "base_revenue": 10}
        (doubling,) = [c for c in SYSTEM.threshold_checks(stats) if c["indicator"] == 12]
        assert (doubling["value"], doubling["passed"]) == (1.5, False)

    def test_internet_revenue_alone_counts_for_indicator_1_and_is_a_statistic_like_the_others(self) -> None:
        (scale,) = [c for c in SYSTEM.threshold_checks({"internet_revenue": 2_000_000_000}) if c["indicator"] == 1]
        assert scale["passed"] is True
        with pytest.raises(errors.InvalidValueError):
            applied(self_assessment={"statistics": {**GOOD_STATISTICS, "internet_revenue": -1}})


# --- during creation: progress reports and supervision ---------------------------------------------


def progress(z: Zone, day: str, actor: Any = SONGSHAN, **given: Any) -> None:
    z.report_progress(actor=actor, at=at(day), **{"summary": "三家平台已进驻。", **given})


def supervise(z: Zone, day: str, actor: Any = BUREAU, **given: Any) -> None:
    fields = {"kind": "supervision", "visited_on": day, "findings": "按方案推进。", "documents": [doc("督导.pdf")]}
    z.record_supervision(actor=actor, at=at(day, 16), **{**fields, **given})


class TestProgressReports:
    def test_the_applicant_reports_progress_whenever_it_chooses_during_creation(self) -> None:
        z = accepted()
        progress(
            z, "2021-09-01", statistics={"revenue": 13_000_000_000, "internet_revenue": 1}, documents=[doc("p.pdf")]
        )
        assessment_requested(z, day="2021-10-01")
        progress(z, "2021-10-02")
        assert [(p.number, p.summary) for p in z.progress_reports] == [(1, "三家平台已进驻。"), (2, "三家平台已进驻。")]
        assert dict(z.progress_reports[0].statistics) == {"revenue": 13_000_000_000, "internet_revenue": 1}
        assert z.status == "assessment_requested"  # a report changes no status

    def test_no_progress_report_before_the_approval_to_start_or_after_the_grant(self) -> None:
        z = applied()
        e = refused(z, errors.IllegalTransitionError, lambda: progress(z, "2021-07-16"))
        assert "创建期" in e.message and "§3.4.2" in e.message
        g = granted()
        refused(g, errors.IllegalTransitionError, lambda: progress(g, "2021-12-01"))

    def test_only_the_zones_own_applicant_reports_progress_with_a_summary(self) -> None:
        z = accepted()
        refused(z, errors.NotPermittedError, lambda: progress(z, "2021-09-01", actor=NANCHENG))
        refused(z, errors.NotPermittedError, lambda: progress(z, "2021-09-01", actor=BUREAU))
        refused(z, errors.InvalidValueError, lambda: progress(z, "2021-09-01", summary=""))
        refused(z, errors.InvalidValueError, lambda: progress(z, "2021-09-01", statistics={"revenu": 1}))


class TestSupervision:
    def test_the_bureau_records_visits_and_evaluations_from_acceptance_through_the_term(self) -> None:
        z = accepted()
        supervise(z, "2021-08-01")
        g = granted()
        supervise(g, "2022-03-01", kind="evaluation", documents=None)
        assert [(s.number, s.kind, s.visited_on.isoformat()) for s in g.supervisions] == [
            (1, "evaluation", "2022-03-01")
        ]
        assert z.supervisions[0].documents[0].as_dict() == doc("督导.pdf")
        assert z.supervisions[0].recorded_by["sub"] == BUREAU.sub

    def test_no_supervision_before_acceptance_or_after_rejection(self) -> None:
        z = applied()
        refused(z, errors.IllegalTransitionError, lambda: supervise(z, "2021-07-16"))
        reviewed(z, "rejected", "No.", day="2021-07-17")
        refused(z, errors.IllegalTransitionError, lambda: supervise(z, "2021-07-18"))

    @pytest.mark.parametrize(
        ("given", "loc"),
        [
            ({"kind": "lunch"}, ["kind"]),
            ({"visited_on": "2021-09-02"}, ["visited_on"]),
            ({"findings": ""}, ["findings"]),
        ],
    )
    def test_a_visit_needs_its_kind_a_past_day_and_findings(self, given: dict[str, Any], loc: list[Any]) -> None:
        z = accepted()
        e = refused(z, errors.InvalidValueError, lambda: supervise(z, "2021-09-01", **given))
        assert e.errors[0]["loc"] == loc

    def test_a_visit_cannot_predate_the_approval_to_start(self) -> None:
        z = accepted()
        refused(z, errors.InvalidValueError, lambda: supervise(z, "2021-09-01", visited_on="2021-07-19"))

    def test_only_the_bureau_records_supervision(self) -> None:
        z = accepted()
        refused(z, errors.NotPermittedError, lambda: supervise(z, "2021-09-01", actor=SONGSHAN))
        refused(z, errors.NotPermittedError, lambda: supervise(z, "2021-09-01", actor=LEADING))


# --- the creation period's end ----------------------------------------------------------------------


class TestCreationPeriodEnd:
    def test_the_end_is_a_deadline_the_day_after_the_last_day_recorded_once(self) -> None:
        z = assessing(accepted())
        assert deadline_keys(z, "2023-12-31") == []
        assert deadline_keys(z, "2024-01-01") == ["creation_period_ended:2023-12-31"]
        record(z, "creation_period_ended:2023-12-31", "2024-01-01")
        assert type(z.pending_events[-1]).__name__ == "CreationPeriodEnded"
        assert z.status == "assessing"  # the panel's work goes on; the bureau decides on the period
        assert deadline_keys(z, "2024-01-02") == []
        refused(z, errors.AlreadyRecordedError, lambda: record(z, "creation_period_ended:2023-12-31", "2024-01-02"))

    def test_no_creation_deadline_after_a_grant_or_a_rejection(self) -> None:
        assert "creation_period_ended" not in {d.kind for d in granted().deadlines(POLICY)}
        z = applied()
        reviewed(z, "rejected", "No.")
        assert z.deadlines(POLICY) == []

    def test_nothing_is_decided_while_the_period_runs(self) -> None:
        z = accepted()
        e = refused(z, errors.TooEarlyError, lambda: decide(z, "2023-12-31", "cancelled"))
        assert "2023-12-31" in e.message

    def test_the_bureau_extends_an_ended_period_to_a_later_day_a_new_deadline(self) -> None:
        z = accepted()
        record(z, "creation_period_ended:2023-12-31", "2024-01-01")
        refused(z, errors.InvalidValueError, lambda: decide(z, "2024-01-05", "extended"))
        refused(z, errors.InvalidValueError, lambda: decide(z, "2024-01-05", "extended", ends_on="2023-12-31"))
        refused(z, errors.InvalidValueError, lambda: decide(z, "2024-01-05", "extended", ends_on="2024-01-04"))
        refused(z, errors.InvalidValueError, lambda: decide(z, "2024-01-05", "lengthened", ends_on="2024-06-30"))
        refused(
            z, errors.InvalidValueError, lambda: decide(z, "2024-01-05", "extended", ends_on="2024-06-30", reasons="")
        )
        refused(
            z, errors.NotPermittedError, lambda: decide(z, "2024-01-05", "extended", SONGSHAN, ends_on="2024-06-30")
        )
        decide(z, "2024-01-05", "extended", ends_on="2024-06-30", reasons="疫情影响，延期半年。")
        period = z.creation_period.as_dict()
        assert period["ends_on"] == "2024-06-30"
        assert period["extensions"] == [
            {
                "ends_on": "2024-06-30",
                "extended_on": "2024-01-05",
                "previous_ends_on": "2023-12-31",
                "reasons": "疫情影响，延期半年。",
            }
        ]
        assert z.status == "accepted"
        assert deadline_keys(z, "2024-07-01") == ["creation_period_ended:2024-06-30"]
        assessment_requested(z, day="2024-02-01")  # the applicant files within the extended period

    def test_cancelling_revokes_the_creation_qualification_with_a_cause_of_its_own(self) -> None:
        z = accepted()
        refused(z, errors.InvalidValueError, lambda: decide(z, "2024-01-05", "cancelled", ends_on="2024-06-30"))
        decide(z, "2024-01-05", "cancelled", reasons="创建期满未达标。", documents=[doc("决定.pdf")])
        assert z.status == "revoked"
        assert z.revocation is not None
        assert (z.revocation.scope, z.revocation.cause, z.revocation.reasons) == (
            "creation_qualification",
            "creation_period_ended",
            "创建期满未达标。",
        )
        assert "取消创建资格" in z.revocation.details
        assert z.pending_events[-1].data["documents"] == [doc("决定.pdf")]  # type: ignore[attr-defined]
        assert z.deadlines(POLICY) == []

    def test_after_the_grant_there_is_no_creation_period_to_decide(self) -> None:
        g = granted()
        refused(g, errors.IllegalTransitionError, lambda: decide(g, "2024-01-05", "cancelled"))


# --- the assessment application (评估申请) and its acceptance (受理) ------------------------------


def decide_request(z: Zone, day: str, outcome: str, actor: Any = BUREAU, reasons: str = "") -> None:
    z.decide_assessment_request(actor=actor, at=at(day), outcome=outcome, reasons=reasons)


class TestAssessmentApplication:
    def test_filed_refused_filed_again_and_accepted(self) -> None:
        z = assessment_requested(accepted(), day="2021-09-01")
        assert z.status == "assessment_requested"
        first = z.assessment_request
        assert first is not None and first.number == 1
        assert dict(first.statistics) == ASSESSMENT_STATISTICS
        assert {c["indicator"] for c in first.checks} >= {1, 6, 12}
        refused(z, errors.InvalidValueError, lambda: decide_request(z, "2021-09-05", "refused"))
        decide_request(z, "2021-09-05", "refused", reasons="缺少审计报告。")
        assert z.status == "accepted"
        assert z.assessment_requests[0].decision is not None
        assert z.assessment_requests[0].decision.as_dict()["reasons"] == "缺少审计报告。"
        assessment_requested(z, day="2021-09-10")
        decide_request(z, "2021-09-12", "accepted")
        assert z.status == "assessment_accepted"
        assert [(r.number, r.decision.outcome if r.decision else None) for r in z.assessment_requests] == [
            (1, "refused"),
            (2, "accepted"),
        ]

    def test_only_from_accepted_within_the_creation_period(self) -> None:
        z = applied()
        refused(z, errors.IllegalTransitionError, lambda: assessment_requested(z, day="2021-07-16"))
        z = assessment_requested(accepted(), day="2021-09-01")
        refused(z, errors.IllegalTransitionError, lambda: assessment_requested(z, day="2021-09-02"))
        late = accepted()
        e = refused(late, errors.DeadlinePassedError, lambda: assessment_requested(late, day="2024-01-01"))
        assert "2023-12-31" in e.message

    def test_the_application_needs_documents_statistics_and_its_own_applicant(self) -> None:
        z = accepted()

        def file(actor: Any = SONGSHAN, **given: Any) -> None:
            fields = {"summary": "s", "statistics": ASSESSMENT_STATISTICS, "documents": [doc("a.pdf")], **given}
            z.request_assessment(actor=actor, at=at("2021-09-01"), system=SYSTEM, **fields)

        refused(z, errors.InvalidValueError, lambda: file(documents=[]))
        refused(z, errors.InvalidValueError, lambda: file(statistics={"platforms": 3}))
        refused(z, errors.InvalidValueError, lambda: file(summary=" "))
        refused(z, errors.NotPermittedError, lambda: file(actor=NANCHENG))
        refused(z, errors.NotPermittedError, lambda: file(actor=BUREAU))

    def test_only_the_bureau_decides_and_only_a_pending_application(self) -> None:
        z = accepted()
        refused(z, errors.IllegalTransitionError, lambda: decide_request(z, "2021-09-01", "accepted"))
        assessment_requested(z, day="2021-09-01")
        refused(z, errors.NotPermittedError, lambda: decide_request(z, "2021-09-02", "accepted", SONGSHAN))
        refused(z, errors.InvalidValueError, lambda: decide_request(z, "2021-09-02", "maybe"))

    def test_the_panel_needs_the_accepted_application(self) -> None:
        experts = [{"sub": e.sub, "name": e.name} for e in EXPERTS]

        def appoint(z: Zone, day: str) -> None:
            z.appoint_panel(actor=BUREAU, at=at(day), experts=experts, methods=["site_visit"], policy=POLICY)

        z = accepted()
        e = refused(z, errors.IllegalTransitionError, lambda: appoint(z, "2021-08-02"))
        assert "assessment application accepted" in e.message
        assessment_requested(z, day="2021-08-02")
        refused(z, errors.IllegalTransitionError, lambda: appoint(z, "2021-08-03"))
        decide_request(z, "2021-08-03", "accepted")
        appoint(z, "2021-08-04")
        assert z.status == "assessing"
        appoint(z, "2021-08-05")  # a panel that has not concluded may be replaced
        assert z.panel is not None and z.panel.round == 2

    def test_a_replayed_zone_has_the_same_state(self) -> None:
        z = assessment_accepted(accepted(), day="2021-09-01")
        progress(z, "2021-09-02")
        supervise(z, "2021-09-03")
        replayed: Any = None
        for e in z.collect_events():
            replayed = e.mutate(replayed)
        assert replayed.state() == z.state()
