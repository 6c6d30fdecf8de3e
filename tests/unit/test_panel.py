"""Panel integrity (PROCESS.md step 5, v2): no expert from the applicant, members added, recusals (回避),
re-filings that say why, and a conclusion with its subtotals that answers to the call's pass mark."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from domain import errors
from domain.values import Actor
from domain.zone import Zone

from ..helpers import BUREAU
from ..helpers import EXPERTS
from ..helpers import OUTSIDER_EXPERT
from ..helpers import RESERVE_EXPERTS
from ..helpers import SONGSHAN
from ..helpers import at
from ..helpers import doc
from ..helpers import full_scores
from .case import BATCHES
from .case import POLICY
from .case import SYSTEM
from .case import assessed
from .case import assessing
from .case import scored
from .test_zone import refused

RESERVE, RESERVE_2 = RESERVE_EXPERTS


def score(z: Zone, expert: Actor, day: str, sheet: dict[str, float] | None = None, reason: str = "") -> None:
    z.file_scores(actor=expert, at=at(day), scores=sheet or full_scores(), comment="", system=SYSTEM, reason=reason)


def add(z: Zone, *experts: dict[str, Any], day: str = "2021-08-10") -> None:
    z.add_panel_members(actor=BUREAU, at=at(day), experts=list(experts), reason="Too few may score.")


def recuse(z: Zone, expert: str, day: str = "2021-08-11", reasons: str = "Advised the applicant in 2020.") -> None:
    z.recuse_expert(actor=BUREAU, at=at(day), expert=expert, reasons=reasons)


def conclude(z: Zone, passed: bool = True, pass_mark: float | None = None, **extra: Any) -> None:
    batch = replace(BATCHES[z.batch], pass_mark=pass_mark)
    z.conclude_assessment(
        actor=BUREAU,
        at=at("2021-09-01"),
        passed=passed,
        report=doc("panel-report.pdf"),
        reasons="Panel report confirmed.",
        system=SYSTEM,
        policy=POLICY,
        batch=batch,
        **extra,
    )


def member(sub: str, org: str | None = None) -> dict[str, Any]:
    return {"sub": sub, "name": sub.upper(), **({"org": org} if org is not None else {})}


class TestNoExpertFromTheApplicant:
    def test_a_panel_with_an_expert_of_the_applicant_is_refused(self) -> None:
        z = assessing()  # a panel sits; a new one would replace it
        experts = [member("a", "univ-a"), member("b", SONGSHAN.org), member("c")]
        e = refused(
            z,
            errors.InvalidValueError,
            lambda: z.appoint_panel(
                actor=BUREAU, at=at("2021-08-03"), experts=experts, methods=["site_visit"], policy=POLICY
            ),
        )
        assert e.details["errors"] == [{"loc": ["experts", 1, "org"], "msg": "the applicant organisation"}]
        assert "§3.2" in e.message and "applicant" in e.message

    def test_the_experts_organisations_are_recorded_when_given(self) -> None:
        z = assessing()
        experts = [member("a", "univ-a"), member("b"), member("c", "univ-c")]
        z.appoint_panel(actor=BUREAU, at=at("2021-08-03"), experts=experts, methods=["site_visit"], policy=POLICY)
        assert z.pending_events[-1].data["experts"] == [  # type: ignore[attr-defined]
            {"sub": "a", "name": "A", "org": "univ-a"},
            {"sub": "b", "name": "B"},
            {"sub": "c", "name": "C", "org": "univ-c"},
        ]
        assert [e.org for e in z.panel.experts] == ["univ-a", None, "univ-c"]  # type: ignore[union-attr]

    def test_an_expert_whose_token_is_of_the_applicant_may_not_score(self) -> None:
        z = assessing()
        insider = Actor(EXPERTS[0].sub, "expert", SONGSHAN.org, "Expert 1")
        refused(z, errors.ExpertFromApplicantError, lambda: score(z, insider, "2021-08-20"))


class TestMembersAdded:
    def test_the_bureau_adds_members_who_must_then_score(self) -> None:
        z = scored()
        add(z, member(RESERVE.sub, RESERVE.org), day="2021-08-21")
        event = z.pending_events[-1]
        assert type(event).__name__ == "PanelMembersAdded"
        assert event.data["experts"] == [{"sub": RESERVE.sub, "name": "U-EXP4", "org": RESERVE.org}]  # type: ignore[attr-defined]
        assert event.reason == "Too few may score."  # type: ignore[attr-defined]
        added = z.panel.member(RESERVE.sub)  # type: ignore[union-attr]
        assert added is not None and added.added_at == at("2021-08-21").isoformat()
        e = refused(z, errors.IllegalTransitionError, lambda: assessed(z))
        assert RESERVE.sub in e.message  # the added member has not scored
        score(z, RESERVE, "2021-08-25")
        assessed(z)
        assert z.assessment.result["experts_counted"] == 4  # type: ignore[union-attr]

    @pytest.mark.parametrize(
        ("experts", "error", "loc"),
        [
            ([member(EXPERTS[1].sub)], errors.AlreadyOnPanelError, None),
            ([member("new"), member("new")], errors.InvalidValueError, ["experts"]),
            ([member("new", SONGSHAN.org)], errors.InvalidValueError, ["experts", 0, "org"]),
            ([], errors.InvalidValueError, ["experts"]),
        ],
    )
    def test_refused_for_a_member_already_on_it_a_duplicate_the_applicant_or_nobody(
        self, experts: list[dict[str, Any]], error: type[errors.ZoneError], loc: list[Any] | None
    ) -> None:
        z = assessing()
        e = refused(z, error, lambda: add(z, *experts))
        if loc is not None:
            assert loc in [x["loc"] for x in e.details["errors"]]
        else:
            assert e.code == "already_on_panel" and EXPERTS[1].sub in e.message

    def test_a_recused_member_is_not_added_again(self) -> None:
        z = assessing()
        recuse(z, EXPERTS[2].sub, day="2021-08-05")
        refused(z, errors.AlreadyOnPanelError, lambda: add(z, member(EXPERTS[2].sub)))

    def test_only_the_bureau_adds_and_only_while_the_panel_sits(self) -> None:
        z = assessing()
        refused(
            z,
            errors.NotPermittedError,
            lambda: z.add_panel_members(actor=EXPERTS[0], at=at("2021-08-10"), experts=[member("new")]),
        )
        done = assessed()
        e = refused(done, errors.IllegalTransitionError, lambda: add(done, member("new"), day="2021-09-02"))
        assert "增补专家" in e.message and "§3.2" in e.message


class TestRecusal:
    def test_a_recused_expert_may_not_score(self) -> None:
        z = assessing()
        recuse(z, EXPERTS[1].sub, day="2021-08-05")
        event = z.pending_events[-1]
        assert type(event).__name__ == "ExpertRecused"
        assert event.reason == "Advised the applicant in 2020."  # type: ignore[attr-defined]
        assert event.data["scored_before"] is False  # type: ignore[attr-defined]
        e = refused(z, errors.ExpertRecusedError, lambda: score(z, EXPERTS[1], "2021-08-20"))
        assert e.code == "expert_recused" and "回避" in e.message
        assert z.panel.counted() == [EXPERTS[0].sub, EXPERTS[2].sub]  # type: ignore[union-attr]

    def test_a_sheet_filed_before_the_recusal_is_not_counted(self) -> None:
        z = assessing()
        score(z, EXPERTS[0], "2021-08-20", full_scores(1))
        score(z, EXPERTS[1], "2021-08-20", full_scores(1))
        score(z, EXPERTS[2], "2021-08-20", full_scores(0))  # then found to have advised the applicant
        recuse(z, EXPERTS[2].sub, day="2021-08-21")
        e = refused(z, errors.PanelTooSmallError, lambda: conclude(z))  # two unconflicted of three
        assert e.code == "panel_too_small" and "Add members" in e.message and "§3.2" in e.message
        add(z, member(RESERVE.sub), day="2021-08-22")
        score(z, RESERVE, "2021-08-23", full_scores(1))
        conclude(z)
        a = z.assessment
        assert a is not None
        assert a.counted == (EXPERTS[0].sub, EXPERTS[1].sub, RESERVE.sub)
        assert a.result["scores"]["1"] == 1.0  # the recused expert's zeros are not in the mean
        assert EXPERTS[2].sub in a.sheets  # the sheet stays on the record
        assert a.recusals is not None and a.recusals[EXPERTS[2].sub].reasons == "Advised the applicant in 2020."

    @pytest.mark.parametrize(
        ("expert", "error", "code"),
        [
            (OUTSIDER_EXPERT.sub, errors.ExpertNotOnPanelError, "expert_not_on_panel"),
            (EXPERTS[2].sub, errors.AlreadyRecusedError, "already_recused"),  # declared a conflict
            (EXPERTS[1].sub, errors.AlreadyRecusedError, "already_recused"),  # recused already
        ],
    )
    def test_refused_for_one_not_on_the_panel_conflicted_or_recused(
        self, expert: str, error: type[errors.ZoneError], code: str
    ) -> None:
        z = assessing()
        z.declare_conflict(actor=EXPERTS[2], at=at("2021-08-03"), reason="Former employee.")
        recuse(z, EXPERTS[1].sub, day="2021-08-04")
        e = refused(z, error, lambda: recuse(z, expert, day="2021-08-05"))
        assert e.code == code and expert in e.message

    def test_a_recusal_needs_reasons_and_the_bureau(self) -> None:
        z = assessing()
        e = refused(z, errors.InvalidValueError, lambda: recuse(z, EXPERTS[0].sub, reasons=" "))
        assert e.details["errors"][0]["loc"] == ["reasons"]
        refused(
            z,
            errors.NotPermittedError,
            lambda: z.recuse_expert(actor=EXPERTS[1], at=at("2021-08-05"), expert=EXPERTS[0].sub, reasons="x"),
        )

    def test_the_experts_own_declaration_stays_as_it_is(self) -> None:
        z = assessing()
        recuse(z, EXPERTS[0].sub, day="2021-08-04")
        z.declare_conflict(actor=EXPERTS[0], at=at("2021-08-05"), reason="I advised them too.")
        assert EXPERTS[0].sub in z.panel.conflicts  # type: ignore[union-attr]


class TestRefiling:
    def test_a_refiling_says_why_and_the_reason_is_recorded(self) -> None:
        z = assessing()
        score(z, EXPERTS[0], "2021-08-20", full_scores(1))
        e = refused(z, errors.InvalidValueError, lambda: score(z, EXPERTS[0], "2021-08-21", full_scores(2), "  "))
        assert e.details["errors"] == [{"loc": ["reason"], "msg": "required when re-filing"}]
        score(z, EXPERTS[0], "2021-08-21", full_scores(2), "Read the audited accounts again.")
        event = z.pending_events[-1]
        assert event.reason == "Read the audited accounts again."  # type: ignore[attr-defined]
        assert event.data["replaces_earlier"] is True  # type: ignore[attr-defined]
        sheet = z.panel.sheets[EXPERTS[0].sub]  # type: ignore[union-attr]
        assert (sheet.filings, sheet.reason) == (2, "Read the audited accounts again.")

    def test_a_first_filing_needs_no_reason(self) -> None:
        z = assessing()
        score(z, EXPERTS[0], "2021-08-20")
        assert z.pending_events[-1].reason == ""  # type: ignore[attr-defined]
        assert z.panel.sheets[EXPERTS[0].sub].reason is None  # type: ignore[union-attr]


def sheet_at_60_percent() -> dict[str, float]:
    """58.8 of 98: exactly 60 %."""
    sheet = full_scores(0)
    for n in range(11, 17):  # 创建目标 in full: 40
        sheet[str(n)] = SYSTEM.indicators[n].weight
    sheet.update({"1": 5, "2": 3, "3": 3, "4": 2, "5": 3, "6": 2, "7": 0.8})  # 18.8
    return sheet


def scored_with(sheet: dict[str, float]) -> Zone:
    z = assessing()
    for i, e in enumerate(EXPERTS):
        z.file_scores(actor=e, at=at("2021-08-20", 9 + i), scores=sheet, comment="", system=SYSTEM)
    return z


class TestConclusion:
    def test_the_conclusion_records_total_maximum_percentage_and_the_three_subtotals(self) -> None:
        z = scored_with(full_scores(1))
        conclude(z)
        a = z.assessment
        assert a is not None
        assert (a.total, a.max, a.percentage) == (25, 98, 0.2551)  # 25 of 98, not renormalised to 100
        assert [dict(g) for g in a.groups or ()] == [
            {"name": "创建基础", "declared": 25, "max": 26, "score": 10},
            {"name": "创建目标", "declared": 40, "max": 40, "score": 6},
            {"name": "创建措施", "declared": 35, "max": 32, "score": 9},
        ]
        assert (a.pass_mark, a.against_pass_mark, a.override_reasons) == (None, False, None)

    def test_subtotals_are_rounded_as_people_write_them(self) -> None:
        z = scored()  # each indicator at 0.8 of its weight
        conclude(z)
        a = z.assessment
        assert a is not None
        assert [g["score"] for g in a.groups or ()] == [20.8, 32, 25.6]
        assert a.total == 78.4 and a.percentage == 0.8

    @pytest.mark.parametrize(
        ("sheet", "passed", "against"),
        [
            (full_scores(share=0.5), True, True),  # 50 % passed against a mark of 60 %
            (full_scores(share=0.5), False, False),
            (sheet_at_60_percent(), True, False),  # at the mark passes
            (sheet_at_60_percent(), False, True),  # not passed at the mark
            (full_scores(share=0.8), False, True),
            (full_scores(share=0.8), True, False),
        ],
    )
    def test_against_the_calls_pass_mark_only_with_override_reasons(
        self, sheet: dict[str, float], passed: bool, against: bool
    ) -> None:
        z = scored_with(sheet)
        if against:
            e = refused(z, errors.InvalidValueError, lambda: conclude(z, passed, pass_mark=60))
            assert e.details["errors"][0]["loc"] == ["override_reasons"] and "60 %" in e.message
            conclude(z, passed, pass_mark=60, override_reasons="The site visit outweighs the sheets.")
            assert z.assessment.override_reasons == "The site visit outweighs the sheets."  # type: ignore[union-attr]
        else:
            conclude(z, passed, pass_mark=60)
        a = z.assessment
        assert a is not None and (a.pass_mark, a.against_pass_mark, a.passed) == (60, against, passed)
        assert z.status == ("assessed" if passed else "not_passed")

    def test_all_zero_sheets_passed_without_a_pass_mark_carry_their_numbers(self) -> None:
        # The document leaves the conclusion to the bureau (§3.2.3 审核确认…形成评估结论) and sets no pass mark;
        # what the conclusion must do is show the numbers it went against.
        z = scored_with(full_scores(0))
        conclude(z, True)
        a = z.assessment
        assert a is not None and a.passed
        assert (a.total, a.percentage, [g["score"] for g in a.groups or ()]) == (0, 0, [0, 0, 0])
        assert a.pass_mark is None and a.against_pass_mark is False

    def test_a_v1_conclusion_replays_without_subtotals(self) -> None:
        z = scored()
        panel = z.panel
        assert panel is not None
        result = SYSTEM.panel_result([dict(panel.sheets[s].scores) for s in panel.counted()])
        z._record(  # as v1 recorded it: no total, max, percentage, groups of its own
            Zone.Assessed,
            actor=BUREAU,
            at=at("2021-09-01"),
            reason="Confirmed.",
            passed=True,
            report=doc("r.pdf"),
            result=result,
            **{k: v for k, v in panel.as_concluded().items() if k not in ("appointed_at", "appointed_by")},
        )
        a = z.assessment
        assert a is not None and a.groups is None and not a.concluded_v2 and a.total is None
        assert "groups" not in z.state()["assessment"]
        replayed: Any = None
        for event in z.collect_events():
            replayed = event.mutate(replayed)
        assert replayed.state() == z.state()
