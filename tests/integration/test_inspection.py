"""The inspector's report finds each violation written past the aggregate's rules, and nothing on a
clean log."""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from application.settings import Settings
from audit.inspection import inspect
from domain.deadlines import new_term
from domain.policy import Policy
from domain.values import SYSTEM
from domain.zone import Zone
from zonecase.wiring import build

from ..conftest import StoreFactory
from ..conftest import make_container
from ..helpers import ANNUAL_STATISTICS
from ..helpers import BUREAU
from ..helpers import EXPERTS
from ..helpers import LEADING
from ..helpers import OUTSIDER_EXPERT
from ..helpers import PUBLIC
from ..helpers import RESERVE_EXPERTS as RESERVE
from ..helpers import SONGSHAN
from ..helpers import at
from ..helpers import full_scores
from ..helpers import objector
from ..helpers import revocation
from ..unit import case
from .tamper import edit_stored_state
from .tamper import flip_byte_at
from .test_application import walk_to_grant
from .test_stored_v1 import STORE as V1_STORE

DAY = timedelta(days=1)


def report(c: Any, to: str) -> dict[str, Any]:
    return inspect(c.app, start=None, end=at(to), lag_tolerance=DAY).as_dict()


def v1_store(tmp_path: Path) -> Any:
    """The application over a copy of the store v1 wrote (its documents were never uploaded here)."""
    store = tmp_path / "v1-store.sqlite"
    shutil.copyfile(V1_STORE, store)
    return build(Settings(database_url=f"sqlite:///{store}", data_dir=tmp_path / "data"), check_documents=False)


def test_a_clean_log_has_no_findings_and_says_what_it_checked(persistent_store: StoreFactory, tmp_path: Path) -> None:
    c = make_container(persistent_store.new_url(), tmp_path)
    z = walk_to_grant(c)
    c.clock.set(at("2022-01-20"))  # type: ignore[attr-defined]
    c.app.file_annual_report(z.id, SONGSHAN, year=2021, statistics=ANNUAL_STATISTICS, summary="2021")
    result = report(c, "2022-06-01")
    c.close()
    assert result["clean"] is True and result["findings"] == []
    # every event's chain is checked, the first batch's two (published, the case) too; they are not a zone's
    assert result["checked"]["events"] == 2 + 15 and result["checked"]["grants"] == 1
    assert result["checked"]["score_filings"] == 3 and result["checked"]["decisions"] == 3  # + the recommendation
    assert result["checked"]["conclusions"] == 1
    assert result["summary"] == "No findings: 17 events of 1 zones checked."


def test_revocations_with_evidence_and_circular_or_by_the_process_are_no_finding(
    persistent_store: StoreFactory, tmp_path: Path
) -> None:
    c = make_container(persistent_store.new_url(), tmp_path)
    z = walk_to_grant(c)
    c.clock.set(at("2022-01-20"))  # type: ignore[attr-defined]
    c.app.file_annual_report(z.id, SONGSHAN, year=2021, statistics=ANNUAL_STATISTICS, summary="2021")
    c.clock.set(at("2022-05-01"))  # type: ignore[attr-defined]
    c.app.revoke(z.id, BUREAU, **revocation())  # §6.6, with evidence and circular
    expired = case.granted()
    expired.record_deadline(actor=SYSTEM, at=at("2024-10-11"), key="title_expired:1", policy=Policy())  # §6.5
    assert expired.revocation is not None and expired.revocation.cause == "no_review_request"
    c.app.save(expired)
    result = report(c, "2025-06-01")
    c.close()
    assert result["clean"] is True, result["findings"]
    assert result["checked"]["revocations"] == 2


def test_the_v1_stores_grants_are_named_as_recorded_before_the_recommendation(tmp_path: Path) -> None:
    c = v1_store(tmp_path)
    result = report(c, "2025-06-01")
    grants = {
        z.id: [e for e in c.app.events.get(z.id) if type(e).__name__ in ("Granted", "ReviewPassed")]
        for z in (c.app.get_zone(i) for i in c.app.zone_ids())
    }
    c.close()
    found = [f for f in result["findings"] if f["rule"] == "grant_without_recommendation"]
    assert found and all(f["v1_era"] for f in found)
    assert all("recorded before v2's rules" in f["detail"] for f in found)
    # every grant and renewal of the store, and nothing else
    expected = {
        (str(i), e.originator_version)
        for i, events in grants.items()
        for e in events
        if type(e).__name__ == "Granted" or "term" in e.data
    }  # type: ignore[attr-defined]
    assert {(f["zone_id"], f["seq"]) for f in found} == expected
    assert not [f for f in result["findings"] if f["rule"] == "objection_open_at_grant"]


def test_a_v1_revocation_for_fraud_is_found_without_evidence_or_circular(tmp_path: Path) -> None:
    c = v1_store(tmp_path)
    result = report(c, "2025-06-01")
    c.close()
    found = [f for f in result["findings"] if f["rule"] == "revocation_without_evidence_or_circular"]
    assert [(f["zone_id"], f["cause"], f["missing"]) for f in found] == [
        ("cf4a7b83-eb7d-5cd4-9d74-997b098a8294", "fraud", ["evidence", "circular"])
    ]  # the store's two revocations by the process (§6.4, §6.5) need neither
    assert result["checked"]["revocations"] == 3


def test_a_v1_refiling_is_found_without_a_reason_and_no_v1_conclusion_had_too_few(tmp_path: Path) -> None:
    # v1 asked no reason for a re-filing; the inspector reads the log by v2's rules, as for v1's revocations
    c = v1_store(tmp_path)
    result = report(c, "2025-06-01")
    c.close()
    found = {f["rule"]: f for f in result["findings"]}
    refiled = [f for f in result["findings"] if f["rule"] == "score_sheet_refiled_without_reason"]
    assert [(f["zone_id"], f["expert"], f["seq"]) for f in refiled] == [
        ("c243bb00-3894-5124-8e80-89bc5de97312", "u-exp1", 6)
    ]
    assert "conclusion_with_too_few_experts" not in found and result["checked"]["conclusions"] == 8


@pytest.fixture
def seeded(persistent_store: StoreFactory, tmp_path: Path) -> Any:
    """A log with one of each violation, written below the aggregate's rules (its guards bypassed)."""
    c = make_container(persistent_store.new_url(), tmp_path)
    app = c.app
    policy = Policy()
    refs: dict[str, Any] = {}

    # a grant with no notice at all
    z = case.assessed()
    case.forge_v1_grant(z, "2021-09-05")
    app.save(z)
    refs["grant_without_notice"] = z.id
    # a grant while an objection is open, before the notice ended
    z = case.in_notice()
    z.raise_objection(actor=PUBLIC, at=at("2021-09-28"), objection_id="o1", objector=objector("Li", "li@x"), text="?")
    case.forge_v1_grant(z, "2021-10-01")
    app.save(z)
    refs["grant_with_objection"] = refs["grant_before_notice_ended"] = refs["objection_open_at_grant"] = z.id
    # a grant as v2 records it (by announcement), but with no recommendation before it
    z = case.in_notice()
    z.register_objection(
        actor=BUREAU,
        at=at("2021-10-09"),
        objection_id="l1",
        objector=objector("Wang", "a letter"),
        text="?",
        channel="letter",
        received_at=at("2021-10-08"),
    )
    z.resolve_objection(
        actor=BUREAU, at=at("2021-10-11"), objection_id="l1", outcome="dismissed", consequence=None, reasons="No."
    )
    term = new_term(1, at("2021-10-11").date(), policy, announcement_no="No. 5")
    z._record(
        Zone.Granted,
        actor=LEADING,
        at=at("2021-10-11"),
        reason="",
        **replace(term, announced_on=term.granted_on, term_years=3).as_dict(),
        granted_at=at("2021-10-11").isoformat(),
    )
    app.save(z)
    refs["grant_without_recommendation"] = z.id
    # scores by an expert not on the panel, and by a conflicted one
    z = case.assessing()
    z.declare_conflict(actor=EXPERTS[2], at=at("2021-08-03"), reason="related")
    for expert in (OUTSIDER_EXPERT, EXPERTS[2]):
        z._record(
            Zone.ScoresFiled,
            actor=expert,
            at=at("2021-08-05"),
            reason="",
            expert=expert.sub,
            round=1,
            scores=full_scores(),
            comment="",
            indicator_system="2021",
            filed_at=at("2021-08-05").isoformat(),
            replaces_earlier=False,
        )
    app.save(z)
    refs["scores_by_expert_not_on_panel"] = refs["scores_by_conflicted_expert"] = z.id
    # a conclusion on two unconflicted sheets of three (one expert declared a conflict, none was added)
    z = case.assessing()
    z.declare_conflict(actor=EXPERTS[2], at=at("2021-08-03"), reason="related")
    for i, expert in enumerate(EXPERTS[:2]):
        z.file_scores(actor=expert, at=at("2021-08-20", 9 + i), scores=full_scores(), comment="", system=case.SYSTEM)
    case.forge_conclusion(z, "2021-09-01")
    app.save(z)
    refs["conclusion_with_too_few_experts"] = z.id
    # a score sheet re-filed without a reason
    z = case.assessing()
    z.file_scores(actor=EXPERTS[0], at=at("2021-08-20"), scores=full_scores(), comment="", system=case.SYSTEM)
    z._record(
        Zone.ScoresFiled,
        actor=EXPERTS[0],
        at=at("2021-08-21"),
        reason="",
        expert=EXPERTS[0].sub,
        round=1,
        scores=full_scores(1),
        comment="",
        indicator_system="2021",
        filed_at=at("2021-08-21").isoformat(),
        replaces_earlier=True,
    )
    app.save(z)
    refs["score_sheet_refiled_without_reason"] = z.id
    # a rejection without a reason
    z = case.applied()
    z._record(Zone.ApplicationRejected, actor=BUREAU, at=at("2021-07-20"), reason="", outcome="rejected", checks=[])
    app.save(z)
    refs["decision_without_reason"] = z.id
    # a granted zone: a late report, a missing one, a deadline recorded ten days late, left past expiry
    z = case.granted()
    z.file_annual_report(
        actor=SONGSHAN,
        at=at("2022-03-01"),
        year=2021,
        statistics=ANNUAL_STATISTICS,
        summary="late",
        documents=None,
        policy=policy,
    )
    z.record_deadline(actor=SYSTEM, at=at("2023-02-11"), key="annual_report_overdue:2022", policy=policy)
    app.save(z)
    refs["late_annual_report"] = refs["missing_annual_report"] = refs["deadline_recorded_late"] = z.id
    refs["left_past_expiry"] = z.id
    # a revocation for fraud with neither evidence nor circular
    z = case.granted()
    z._record(
        Zone.Revoked,
        actor=BUREAU,
        at=at("2022-05-01"),
        reason="Falsified statistics.",
        cause="fraud",
        details="Falsified statistics.",
        revoked_on="2022-05-01",
        scope="title",
    )
    app.save(z)
    refs["revocation_without_evidence_or_circular"] = z.id
    # an acceptance that waived §4.1 (not "in principle"), and §4.3 without reasons
    z = case.applied()
    waivers = [{"rule": "§4.1", "reasons": "Close enough."}, {"rule": "§4.3", "reasons": " "}]
    z._record(
        Zone.FormallyAccepted,
        actor=BUREAU,
        at=at("2021-07-20"),
        reason="",
        outcome="accepted",
        checks=[],
        waivers=waivers,
    )
    app.save(z)
    refs["waiver_of_unwaivable_condition"] = refs["waiver_without_reasons"] = z.id
    # a broken hash link
    z = case.accepted()
    app.save(z)
    edit_stored_state(c.settings.database_url, z.id, 2, flip_byte_at(lambda s: s.index(b'"outcome":"accepted"') + 12))
    refs["broken_hash_link"] = z.id
    yield c, refs
    c.close()


def test_each_injected_violation_is_found(seeded: Any) -> None:
    c, refs = seeded
    result = report(c, "2025-06-01")
    assert not result["clean"]
    found: dict[str, list[dict[str, Any]]] = {}
    for f in result["findings"]:
        found.setdefault(f["rule"], []).append(f)
    for rule, zone_id in refs.items():
        assert rule in found, f"{rule} not found: {sorted(found)}"
        assert str(zone_id) in {f["zone_id"] for f in found[rule]}, rule
    late = found["deadline_recorded_late"][0]
    assert late["lag_seconds"] == 10 * 86400 + 10 * 3600 and late["event_type"] == "AnnualReportOverdue"
    assert found["late_annual_report"][0]["days_late"] == 29
    assert {f["year"] for f in found["missing_annual_report"] if f["zone_id"] == str(refs["left_past_expiry"])} == {
        2022,
        2023,
        2024,
    }
    (revocation,) = found["revocation_without_evidence_or_circular"]
    assert revocation["missing"] == ["evidence", "circular"] and revocation["event_type"] == "Revoked"
    assert revocation["cause"] == "fraud" and revocation["seq"] == 13
    unrecommended = [
        f for f in found["grant_without_recommendation"] if f["zone_id"] == str(refs["grant_without_recommendation"])
    ]
    assert [(f["v1_era"], f["event_type"], f["seq"]) for f in unrecommended] == [(False, "Granted", 13)]
    assert "no recommendation (提请" in unrecommended[0]["detail"]
    # the forged v1 grants (nothing of v2 before them) are named as recorded before v2's rules
    v1 = {f["zone_id"] for f in found["grant_without_recommendation"] if f["v1_era"]}
    assert v1 == {str(refs["grant_without_notice"]), str(refs["grant_with_objection"])}
    (left_open,) = found["objection_open_at_grant"]
    assert (left_open["objection_id"], left_open["zone_id"]) == ("o1", str(refs["objection_open_at_grant"]))
    (few,) = found["conclusion_with_too_few_experts"]
    assert (few["counted"], few["minimum"], few["event_type"]) == ([EXPERTS[0].sub, EXPERTS[1].sub], 3, "Assessed")
    (refiled,) = found["score_sheet_refiled_without_reason"]
    assert (refiled["expert"], refiled["event_type"]) == (EXPERTS[0].sub, "ScoresFiled") and refiled["position"]
    (unwaivable,) = found["waiver_of_unwaivable_condition"]
    assert (unwaivable["condition"], unwaivable["event_type"]) == ("§4.1", "FormallyAccepted")
    (unexplained,) = found["waiver_without_reasons"]
    assert unexplained["condition"] == "§4.3" and unexplained["zone_id"] == str(refs["waiver_without_reasons"])
    broken = found["broken_hash_link"][0]
    assert broken["seq"] == 2 and broken["position"] is not None
    assert all(f["position"] for f in found["grant_without_notice"])  # findings point at events


def test_a_panel_made_good_by_added_members_with_a_recusal_and_a_refiling_that_says_why_is_no_finding(
    persistent_store: StoreFactory, tmp_path: Path
) -> None:
    c = make_container(persistent_store.new_url(), tmp_path)
    z = case.assessing()
    z.declare_conflict(actor=EXPERTS[2], at=at("2021-08-03"), reason="Former employee.")
    z.add_panel_members(actor=BUREAU, at=at("2021-08-04"), experts=[{"sub": e.sub, "name": e.name} for e in RESERVE])
    z.file_scores(actor=RESERVE[1], at=at("2021-08-05"), scores=full_scores(0), comment="", system=case.SYSTEM)
    z.recuse_expert(actor=BUREAU, at=at("2021-08-06"), expert=RESERVE[1].sub, reasons="Advised the applicant.")
    for i, expert in enumerate((EXPERTS[0], EXPERTS[1], RESERVE[0])):
        z.file_scores(actor=expert, at=at("2021-08-20", 9 + i), scores=full_scores(), comment="", system=case.SYSTEM)
    z.file_scores(
        actor=EXPERTS[0], at=at("2021-08-21"), scores=full_scores(1), comment="", system=case.SYSTEM, reason="Revised."
    )
    case.assessed(z, day="2021-09-01")
    c.app.save(z)
    result = report(c, "2021-12-01")
    c.close()
    assert result["clean"] is True, result["findings"]
    assert result["checked"]["conclusions"] == 1 and result["checked"]["score_filings"] == 5
