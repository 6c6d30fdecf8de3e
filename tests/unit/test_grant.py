"""Objections registered by the bureau, the recommendation (提请), the grant by announcement or its refusal, the
renewal after a passed review (继续授予) — the zone alone, every refusal recording nothing."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from domain import errors
from domain.values import SYSTEM as SYSTEM_ACTOR
from domain.zone import Zone

from ..helpers import BUREAU
from ..helpers import EXPERTS
from ..helpers import LEADING
from ..helpers import PUBLIC
from ..helpers import SONGSHAN
from ..helpers import at
from ..helpers import doc
from ..helpers import objector
from .case import POLICY
from .case import assessed
from .case import assessing
from .case import granted
from .case import in_notice
from .case import objected
from .case import recommended
from .case import report
from .case import resolved
from .case import scored
from .test_zone import refused

REC = doc("recommendation.pdf")


def registered(z: Zone, oid: str, received: Any, day: str = "2021-10-09", channel: str = "letter") -> Zone:
    """The bureau registers an objection it received (by letter, by default) at ``received``."""
    z.register_objection(
        actor=BUREAU,
        at=at(day),
        objection_id=oid,
        objector=objector("Wang", "No. 1 Road"),
        text="Employees counted twice.",
        channel=channel,
        received_at=received,
    )
    return z


def recommend(z: Zone, day: str) -> None:
    z.recommend(actor=BUREAU, at=at(day), document=REC, reasons="经公示无异议。")


def grant(z: Zone, day: str, **given: Any) -> None:
    z.grant(actor=LEADING, at=at(day), policy=POLICY, **{"announcement_no": "东制造〔2021〕8号", **given})


# --- objections registered by the bureau ---------------------------------------------------------


class TestRegisteredObjections:
    def test_a_letter_received_within_the_notice_is_registered_after_its_last_day(self) -> None:
        z = in_notice()  # 2021-09-27 … 2021-10-08
        registered(z, "l1", at("2021-10-08", 23), day="2021-10-11")  # nothing recommended yet
        o = z.objections["l1"]
        assert (o.status, o.channel, o.notice) == ("open", "letter", 1)
        assert o.received_at == "2021-10-08T15:00:00+00:00" and o.raised_at == at("2021-10-11").isoformat()
        assert z.pending_events[-1].actor == BUREAU.as_dict()  # type: ignore[attr-defined]

    @pytest.mark.parametrize(
        ("received", "error", "said"),
        [
            (at("2021-09-26", 23), errors.TooEarlyError, "before the public notice (公示) started on 2021-09-27"),
            (at("2021-10-09", 0), errors.DeadlinePassedError, "after the public notice (公示) ended on 2021-10-08"),
        ],
    )
    def test_one_received_outside_the_notice_is_refused(self, received: Any, error: Any, said: str) -> None:
        z = in_notice()
        e = refused(z, error, lambda: registered(z, "l1", received, day="2021-10-11"))
        assert said in e.message and "§3.3" in e.message

    def test_the_channel_the_time_and_the_role_are_checked(self) -> None:
        z = in_notice()
        e = refused(z, errors.InvalidValueError, lambda: registered(z, "l1", at("2021-09-28"), channel="fax"))
        assert e.errors[0]["loc"] == ["channel"]  # type: ignore[attr-defined]
        e = refused(z, errors.InvalidValueError, lambda: registered(z, "l1", None))
        assert e.errors[0]["loc"] == ["received_at"]  # type: ignore[attr-defined]
        e = refused(z, errors.InvalidValueError, lambda: registered(z, "l1", at("2021-10-10"), day="2021-10-09"))
        assert "later than now" in e.message
        for actor in (PUBLIC, SONGSHAN, LEADING, EXPERTS[0]):
            refused(
                z,
                errors.NotPermittedError,
                lambda a=actor: z.register_objection(
                    actor=a,
                    at=at("2021-09-28"),
                    objection_id="x",
                    objector=objector("x", "x"),
                    text="x",
                    channel="phone",
                    received_at=at("2021-09-28"),
                ),
            )

    def test_none_is_registered_once_the_grant_is_recommended(self) -> None:
        z = recommended(in_notice(), day="2021-10-11")
        e = refused(z, errors.IllegalTransitionError, lambda: registered(z, "l1", at("2021-10-08"), day="2021-10-12"))
        assert "提请" in e.message and "recommended" in e.message


# --- the changed resolution: upheld, superseded -------------------------------------------------


class TestResolution:
    def test_upholding_one_supersedes_the_notices_other_open_objections_and_reassesses(self) -> None:
        z = in_notice()
        objected(z, "Platforms counted twice.", objection_id="o1")
        objected(z, "Revenue overstated.", objection_id="o2")
        objected(z, "Dismissed one.", objection_id="o3")
        resolved(z, "dismissed", objection_id="o3")
        resolved(z, "upheld", "reassess")
        assert z.status == "assessment_accepted" and z.panel is None
        assert {k: o.status for k, o in z.objections.items()} == {
            "o1": "upheld",
            "o2": "superseded",
            "o3": "dismissed",
        }
        assert z.objections["o2"].superseded_by == "o1"
        assert z.objections["o1"].resolution.superseded == ("o2",)  # type: ignore[union-attr]
        data = z.pending_events[-1].data  # type: ignore[attr-defined]
        assert (data["returns_to"], data["superseded"]) == ("assessment_accepted", ["o2"])  # replay reads these
        e = refused(
            z, errors.IllegalTransitionError, lambda: resolved(z, "dismissed", day="2021-10-12", objection_id="o2")
        )
        assert "superseded" in e.message and "o1" in e.message
        assert not [o for o in z.objections.values() if o.status == "open"]  # none is ever left open
        # a new panel, a new conclusion, a new notice, and then the recommendation and the grant
        assessing(z, day="2021-10-13")
        scored(z, day="2021-10-20")
        assessed(z, day="2021-10-25")
        in_notice(z, day="2021-10-25", starts="2021-10-25", ends="2021-10-29")
        granted(z, day="2021-11-01")
        assert z.status == "granted" and z.recommendations[-1].considered == ()

    def test_upheld_and_rejected_supersedes_the_others_too(self) -> None:
        z = in_notice()
        objected(z, "a", objection_id="o1")
        registered(z, "l1", at("2021-09-29"))
        resolved(z, "upheld", "reject")
        assert z.status == "rejected" and z.objections["l1"].status == "superseded"


# --- the recommendation (提请) -------------------------------------------------------------------


class TestRecommendation:
    def test_after_the_notice_with_dismissed_objections_it_lists_them(self) -> None:
        z = in_notice()
        objected(z, "Revenue overstated.", objection_id="o1")
        e = refused(z, errors.TooEarlyError, lambda: recommend(z, "2021-10-08"))
        assert "2021-10-09" in e.message and "§3.3" in e.message
        e = refused(z, errors.ObjectionOpenError, lambda: recommend(z, "2021-10-11"))
        assert e.code == "objection_open" and "o1" in e.message
        registered(z, "l1", at("2021-10-08", 18), day="2021-10-11")
        resolved(z, "dismissed")
        e = refused(z, errors.ObjectionOpenError, lambda: recommend(z, "2021-10-11"))  # the letter is open
        assert "l1" in e.message
        resolved(z, "dismissed", objection_id="l1")
        recommend(z, "2021-10-12")
        r = z.recommendation
        assert z.status == "recommended" and r is not None
        assert (r.kind, r.notice, r.considered, r.document.as_dict(), r.outcome) == (
            "grant",
            1,
            ("o1", "l1"),
            REC,
            None,
        )

    @pytest.mark.parametrize("make", [assessing, scored, assessed, granted])
    def test_refused_before_a_notice_ended_or_once_granted(self, make: Any) -> None:
        z = make()
        e = refused(z, errors.IllegalTransitionError, lambda: recommend(z, "2021-10-12"))
        assert "提请, §3.3" in e.message and "经公示无异议" in e.message

    def test_only_the_bureau_recommends_with_its_document_and_reasons(self) -> None:
        z = in_notice()
        for actor in (LEADING, SONGSHAN, PUBLIC):
            refused(
                z,
                errors.NotPermittedError,
                lambda a=actor: z.recommend(actor=a, at=at("2021-10-11"), document=REC, reasons="x"),
            )
        refused(
            z,
            errors.InvalidValueError,
            lambda: z.recommend(actor=BUREAU, at=at("2021-10-11"), document={"name": "x"}, reasons="x"),
        )
        refused(
            z,
            errors.InvalidValueError,
            lambda: z.recommend(actor=BUREAU, at=at("2021-10-11"), document=REC, reasons=""),
        )


# --- the grant by announcement (公告授予) and its refusal ------------------------------------------


class TestGrant:
    def test_the_grant_needs_the_recommendation(self) -> None:
        z = in_notice()
        e = refused(z, errors.IllegalTransitionError, lambda: grant(z, "2021-10-11"))
        assert "提请" in e.message and "ended with no objection open" in e.message
        recommend(z, "2021-10-11")
        for actor in (BUREAU, SONGSHAN, EXPERTS[0]):
            refused(
                z,
                errors.NotPermittedError,
                lambda a=actor: z.grant(actor=a, at=at("2021-10-11"), announcement_no="x", policy=POLICY),
            )

    def test_by_announcement_its_date_document_and_a_term_of_three_years_less_a_day(self) -> None:
        z = recommended(in_notice(), day="2026-10-09")  # a notice of 2021 ended long ago: the dates are the test's
        grant(z, "2026-10-20", announced_on=date(2026, 10, 13), document=doc("announcement.pdf"))
        term = z.current_term
        assert term is not None and z.status == "granted"
        assert (term.granted_on, term.valid_until, term.expiry) == (
            date(2026, 10, 13),
            date(2029, 10, 12),
            date(2029, 10, 13),
        )
        assert (term.announced_on, term.term_years, term.renewal) == (date(2026, 10, 13), 3, None)
        assert term.announcement_document is not None and term.announcement_document.name == "announcement.pdf"
        r = z.recommendation
        assert r is not None and (r.outcome, r.announcement_no) == ("granted", "东制造〔2021〕8号")

    def test_another_term_needs_reasons_and_the_announcement_a_plausible_date(self) -> None:
        z = recommended(in_notice(), day="2021-10-11")
        e = refused(z, errors.InvalidValueError, lambda: grant(z, "2021-10-12", term_years=2))
        assert "原则上三年, §6.4" in e.message and e.errors[0]["loc"] == ["term_reasons"]  # type: ignore[attr-defined]
        refused(z, errors.InvalidValueError, lambda: grant(z, "2021-10-12", term_years=0, term_reasons="x"))
        refused(z, errors.InvalidValueError, lambda: grant(z, "2021-10-12", announced_on=date(2021, 10, 13)))
        refused(z, errors.InvalidValueError, lambda: grant(z, "2021-10-12", announced_on=date(2021, 10, 10)))
        refused(z, errors.InvalidValueError, lambda: grant(z, "2021-10-12", document={"sha256": "x", "name": "a"}))
        grant(z, "2021-10-12", term_years=2, term_reasons="A shorter first term while the statistics settle.")
        term = z.current_term
        assert term is not None and (term.valid_until, term.term_years) == (date(2023, 10, 11), 2)
        assert term.term_reasons == "A shorter first term while the statistics settle."

    def test_a_refusal_sends_the_case_back_to_the_bureau_to_recommend_again_or_not(self) -> None:
        z = recommended(in_notice(), day="2021-10-11")
        refused(z, errors.NotPermittedError, lambda: z.refuse_grant(actor=BUREAU, at=at("2021-10-12"), reasons="x"))
        refused(z, errors.InvalidValueError, lambda: z.refuse_grant(actor=LEADING, at=at("2021-10-12"), reasons=" "))
        z.refuse_grant(actor=LEADING, at=at("2021-10-12"), reasons="The audited accounts first.")
        assert z.status == "assessed" and z.recommendation.outcome == "refused"  # type: ignore[union-attr]
        assert z.recommendation.decision_reasons == "The audited accounts first."  # type: ignore[union-attr]
        refused(z, errors.IllegalTransitionError, lambda: grant(z, "2021-10-13"))
        refused(
            z, errors.IllegalTransitionError, lambda: z.refuse_grant(actor=LEADING, at=at("2021-10-13"), reasons="x")
        )
        recommend(z, "2021-10-20")  # again, on the same notice
        grant(z, "2021-10-21")
        assert z.status == "granted" and [r.outcome for r in z.recommendations] == ["refused", "granted"]


# --- review (复核) and renewal (继续授予) -----------------------------------------------------------


def reviewed_passed(day: str = "2024-09-01") -> Zone:
    z = granted()  # 2021-10-11: last day 2024-10-10, expires 2024-10-11
    for year, filed in ((2021, "2022-01-20"), (2022, "2023-01-20"), (2023, "2024-01-20")):
        report(z, year, filed)
    z.request_review(actor=SONGSHAN, at=at("2024-08-01"))
    z.decide_review(actor=BUREAU, at=at(day), passed=True, reasons="Targets met.", policy=POLICY)
    return z


class TestRenewal:
    def test_the_review_records_its_checks_against_the_plans_goals(self) -> None:
        z = reviewed_passed()
        assert z.status == "review_passed" and len(z.terms) == 1
        review = z.review
        assert review is not None and review.passed is True and review.checks is not None
        checks = {c["field"]: c for c in review.checks}
        # the plan's goals for its final year (2023) against the latest annual statistics (2023's)
        assert set(checks) == {"revenue", "firms_over_20m", "new_firms_over_20m", "new_platforms"}
        assert {c["statistics_year"] for c in checks.values()} == {2023}
        assert (checks["revenue"]["value"], checks["revenue"]["threshold"], checks["revenue"]["passed"]) == (
            16_000_000_000,
            25_000_000_000,
            False,
        )
        assert checks["firms_over_20m"]["passed"] is True

    def test_a_passed_review_keeps_the_title_in_force_past_expiry_until_the_renewal(self) -> None:
        z = reviewed_passed()
        z.record_deadline(actor=SYSTEM_ACTOR, at=at("2024-10-11"), key="title_expired:1", policy=POLICY)
        assert z.status == "review_passed"  # not revoked: the review was timely and passed
        report(z, 2024, "2025-01-20")  # the title is held: the year's report is owed and taken
        recommend(z, "2025-02-01")
        assert z.recommendation.kind == "renewal" and z.recommendation.term == 1  # type: ignore[union-attr]
        assert [d.kind for d in z.due_deadlines(at("2025-02-02"), POLICY)] == []
        grant(z, "2025-03-01", announcement_no="东制造〔2025〕3号")
        term = z.current_term
        assert term is not None and z.status == "granted" and term.number == 2 and term.renewal is True
        # 继续授予: from the old term's end, whatever the decision's date
        assert (term.granted_on, term.valid_until, term.announced_on) == (
            date(2024, 10, 11),
            date(2027, 10, 10),
            date(2025, 3, 1),
        )
        assert z.review is None and z.reviews[-1].passed is True

    def test_a_refused_renewal_goes_back_to_review(self) -> None:
        z = reviewed_passed()
        recommend(z, "2024-09-02")
        z.refuse_grant(actor=LEADING, at=at("2024-09-10"), reasons="Revenue is far from the plan's goal.")
        assert z.status == "in_review" and z.review is not None and z.review.passed is None
        refused(z, errors.IllegalTransitionError, lambda: recommend(z, "2024-09-11"))
        z.decide_review(actor=BUREAU, at=at("2024-09-12"), passed=False, reasons="Not met.", policy=POLICY)
        assert z.status == "rectifying" and z.review.checks is not None  # type: ignore[union-attr]

    def test_the_grant_of_a_renewal_needs_its_recommendation(self) -> None:
        z = reviewed_passed()
        e = refused(z, errors.IllegalTransitionError, lambda: grant(z, "2024-09-02"))
        assert "recommends the renewal first" in e.message
