"""Property: any sequence of commands, by any actor at any time, is either refused with nothing
recorded, or leaves a state that a replay of the stored events reproduces exactly — on SQLite and
PostgreSQL."""

from __future__ import annotations

import shutil
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from hypothesis import HealthCheck
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle
from hypothesis.stateful import RuleBasedStateMachine
from hypothesis.stateful import initialize
from hypothesis.stateful import invariant
from hypothesis.stateful import multiple
from hypothesis.stateful import rule
from hypothesis.stateful import run_state_machine_as_test

from application.settings import Settings
from audit.integrity import verify_store
from domain.errors import ZoneError
from domain.values import Actor
from scheduler.sweep import sweep
from zonecase.wiring import build

from ..conftest import StoreFactory
from ..helpers import ANNUAL_STATISTICS
from ..helpers import BUREAU
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
from ..helpers import file_first_batch
from ..helpers import full_scores
from ..helpers import revocation

TEST_BATCHES = str(Path(__file__).parent.parent / "data" / "batches-test.json")
ACTORS = [SONGSHAN, NANCHENG, OTHER_TOWN, BUREAU, LEADING, INSPECTOR, PUBLIC, OUTSIDER_EXPERT, *EXPERTS]
actors = st.sampled_from(ACTORS)


def mostly(right: Actor) -> st.SearchStrategy[Actor]:
    """The right actor half of the time, anyone otherwise."""
    return st.one_of(st.just(right), actors)


texts = st.sampled_from(["", "  ", "Reasons given.", "理由：材料齐全。"])


def machine_for(url_factory: StoreFactory) -> type[RuleBasedStateMachine]:
    class ZoneCommands(RuleBasedStateMachine):
        zones = Bundle("zones")

        def __init__(self) -> None:
            super().__init__()
            self.tmp = Path(tempfile.mkdtemp())
            s = Settings(database_url=url_factory.new_url(), data_dir=self.tmp, batches_file=TEST_BATCHES)
            from application.clock import SettableClock

            self.clock = SettableClock(at("2021-07-01"))
            self.c = build(s, clock=self.clock, check_documents=False)
            self.app = self.c.app
            self.app.import_calls()
            self.known: dict[UUID, dict[str, Any]] = {}

        def teardown(self) -> None:
            self.c.close()
            shutil.rmtree(self.tmp, ignore_errors=True)

        # --- the property ---------------------------------------------------------------------

        def attempt(self, zone_id: UUID | None, command: Any) -> Any:
            """Runs a command; refused → nothing recorded; accepted → replay reproduces the result."""
            before = self.app.recorder.max_notification_id()
            try:
                result = command()
            except ZoneError:
                assert self.app.recorder.max_notification_id() == before
                if zone_id is not None:
                    assert self.app.get_zone(zone_id).state() == self.known[zone_id]
                return None
            zone = result[0] if isinstance(result, tuple) else result
            if zone is not None and hasattr(zone, "state"):
                replayed = self.app.get_zone(zone.id).state()
                assert replayed == zone.state()
                self.known[zone.id] = replayed
            return result

        @invariant()
        def store_verifies(self) -> None:
            assert verify_store(self.app).ok

        @invariant()
        def no_objection_is_open_on_a_granted_zone(self) -> None:
            for state in self.known.values():
                if state["status"] in ("recommended", "granted"):
                    assert [o for o in state["objections"].values() if o["status"] == "open"] == []

        @invariant()
        def no_conclusion_rests_on_fewer_than_the_minimum(self) -> None:
            minimum = self.c.settings.policy.min_panel_size
            for state in self.known.values():
                for conclusion in state["assessments"]:
                    assert len(conclusion["counted"]) >= minimum, conclusion

        # --- time -----------------------------------------------------------------------------

        @rule(days=st.integers(min_value=0, max_value=120), hours=st.integers(min_value=0, max_value=23))
        def time_passes(self, days: int, hours: int) -> None:
            self.clock.set(self.clock.now() + timedelta(days=days, hours=hours))

        @rule(years=st.integers(min_value=1, max_value=3))
        def years_pass(self, years: int) -> None:
            self.clock.set(self.clock.now() + timedelta(days=365 * years - 100))

        # --- commands -------------------------------------------------------------------------

        @initialize(target=zones)
        def songshan_lake_applies(self) -> UUID:
            z = file_first_batch(self.app)
            self.known[z.id] = self.app.get_zone(z.id).state()
            return z.id

        @rule(target=zones, actor=actors, later=st.booleans(), complete=st.booleans())
        def someone_applies(self, actor: Actor, later: bool, complete: bool) -> Any:
            if len(self.known) >= 3:
                return multiple()
            materials = [*FULL_MATERIALS, doc("x.pdf", "other")] if complete else FIRST_BATCH_MATERIALS
            result = self.attempt(
                None,
                lambda: self.app.apply(
                    actor,
                    name="集聚区",
                    area_type="town",
                    sites=[{"name": "a"}],
                    batch="2024-second" if later else "2021-first",
                    materials=materials,
                    self_assessment={"statistics": GOOD_STATISTICS},
                    plan=GOOD_PLAN,
                ),
            )
            return result.id if result is not None else multiple()

        @rule(
            zone=zones,
            actor=mostly(BUREAU),
            outcome=st.sampled_from(["accepted", "returned", "rejected", "maybe"]),
            reasons=texts,
        )
        def formal_review(self, zone: UUID, actor: Actor, outcome: str, reasons: str) -> None:
            self.attempt(zone, lambda: self.app.formal_review(zone, actor, outcome=outcome, reasons=reasons))

        @rule(zone=zones, actor=mostly(SONGSHAN))
        def supplement(self, zone: UUID, actor: Actor) -> None:
            self.attempt(zone, lambda: self.app.supplement(zone, actor, materials=FULL_MATERIALS))

        @rule(zone=zones, actor=mostly(SONGSHAN))
        def report_progress(self, zone: UUID, actor: Actor) -> None:
            self.attempt(zone, lambda: self.app.report_progress(zone, actor, summary="创建进展。"))

        @rule(zone=zones, actor=mostly(BUREAU), kind=st.sampled_from(["supervision", "evaluation", "visit"]))
        def record_supervision(self, zone: UUID, actor: Actor, kind: str) -> None:
            day = self.clock.now().date().isoformat()
            self.attempt(
                zone,
                lambda: self.app.record_supervision(zone, actor, kind=kind, visited_on=day, findings="按方案推进。"),
            )

        @rule(
            zone=zones,
            actor=mostly(BUREAU),
            outcome=st.sampled_from(["extended", "cancelled", "maybe"]),
            months=st.integers(min_value=-2, max_value=12),
            reasons=texts,
        )
        def decide_creation_period(self, zone: UUID, actor: Actor, outcome: str, months: int, reasons: str) -> None:
            ends_on = (self.clock.now() + timedelta(days=30 * months)).date().isoformat()
            self.attempt(
                zone,
                lambda: self.app.decide_creation_period(
                    zone, actor, outcome=outcome, ends_on=ends_on if outcome != "cancelled" else None, reasons=reasons
                ),
            )

        @rule(zone=zones, actor=mostly(SONGSHAN), with_documents=st.booleans())
        def request_assessment(self, zone: UUID, actor: Actor, with_documents: bool) -> None:
            documents = [doc("assessment-application.pdf")] if with_documents else []
            self.attempt(
                zone,
                lambda: self.app.request_assessment(
                    zone, actor, summary="目标已达成。", statistics=ANNUAL_STATISTICS, documents=documents
                ),
            )

        @rule(
            zone=zones, actor=mostly(BUREAU), outcome=st.sampled_from(["accepted", "refused", "later"]), reasons=texts
        )
        def decide_assessment_request(self, zone: UUID, actor: Actor, outcome: str, reasons: str) -> None:
            self.attempt(
                zone, lambda: self.app.decide_assessment_request(zone, actor, outcome=outcome, reasons=reasons)
            )

        @rule(zone=zones, actor=mostly(BUREAU), size=st.integers(min_value=2, max_value=3))
        def appoint_panel(self, zone: UUID, actor: Actor, size: int) -> None:
            experts = [{"sub": e.sub, "name": e.name} for e in EXPERTS[:size]]
            self.attempt(zone, lambda: self.app.appoint_panel(zone, actor, experts=experts, methods=["site_visit"]))

        @rule(zone=zones, actor=mostly(BUREAU), own=st.booleans())
        def add_panel_members(self, zone: UUID, actor: Actor, own: bool) -> None:
            # ``own``: one of them from the applicant organisation (refused, §3.2)
            org = self.known[zone]["applicant_org"] if own else RESERVE_EXPERTS[0].org
            experts = [{"sub": RESERVE_EXPERTS[0].sub, "name": RESERVE_EXPERTS[0].name, "org": org}]
            self.attempt(zone, lambda: self.app.add_panel_members(zone, actor, experts=experts, reason="增补专家"))

        @rule(zone=zones, actor=mostly(BUREAU), expert=st.sampled_from([*EXPERTS, *RESERVE_EXPERTS]), reasons=texts)
        def recuse_expert(self, zone: UUID, actor: Actor, expert: Actor, reasons: str) -> None:
            self.attempt(zone, lambda: self.app.recuse_expert(zone, actor, expert=expert.sub, reasons=reasons))

        @rule(zone=zones, actor=mostly(EXPERTS[2]), reason=texts)
        def declare_conflict(self, zone: UUID, actor: Actor, reason: str) -> None:
            self.attempt(zone, lambda: self.app.declare_conflict(zone, actor, reason=reason))

        @rule(zone=zones, actor=mostly(EXPERTS[0]), value=st.sampled_from([0, 1, 1.5, 2, 7.5]), reason=texts)
        def file_scores(self, zone: UUID, actor: Actor, value: float, reason: str) -> None:
            self.attempt(zone, lambda: self.app.file_scores(zone, actor, scores=full_scores(value), reason=reason))

        @rule(zone=zones, actor=mostly(BUREAU), passed=st.booleans(), reasons=texts)
        def conclude(self, zone: UUID, actor: Actor, passed: bool, reasons: str) -> None:
            self.attempt(
                zone,
                lambda: self.app.conclude_assessment(
                    zone, actor, passed=passed, report=doc("report.pdf"), reasons=reasons
                ),
            )

        @rule(zone=zones, actor=mostly(BUREAU), offset=st.integers(min_value=-1, max_value=3))
        def publish_notice(self, zone: UUID, actor: Actor, offset: int) -> None:
            starts = (self.clock.now() + timedelta(days=offset)).date()
            self.attempt(zone, lambda: self.app.publish_notice(zone, actor, text="公示", starts_on=starts))

        @rule(zone=zones, actor=mostly(PUBLIC))
        def raise_objection(self, zone: UUID, actor: Actor) -> None:
            self.attempt(
                zone,
                lambda: self.app.raise_objection(
                    zone, actor, objector_name="Li", contact="li@example.org", text="Objection."
                ),
            )

        @rule(zone=zones, actor=mostly(BUREAU), hours_ago=st.integers(min_value=-2, max_value=24 * 12))
        def register_objection(self, zone: UUID, actor: Actor, hours_ago: int) -> None:
            received = self.clock.now() - timedelta(hours=hours_ago)
            self.attempt(
                zone,
                lambda: self.app.raise_objection(
                    zone,
                    actor,
                    objector_name="Wang",
                    contact="a letter",
                    text="Received by letter.",
                    channel="letter",
                    received_at=received,
                ),
            )

        @rule(
            zone=zones,
            actor=mostly(BUREAU),
            outcome=st.sampled_from(["dismissed", "upheld"]),
            consequence=st.sampled_from([None, "reassess", "reject"]),
            reasons=texts,
        )
        def resolve_objection(
            self, zone: UUID, actor: Actor, outcome: str, consequence: str | None, reasons: str
        ) -> None:
            objections = self.known.get(zone, {}).get("objections", {})
            oid = next((o for o, v in objections.items() if v["status"] == "open"), "unknown")
            self.attempt(
                zone,
                lambda: self.app.resolve_objection(
                    zone, actor, objection_id=oid, outcome=outcome, consequence=consequence, reasons=reasons
                ),
            )

        @rule(zone=zones, actor=mostly(BUREAU))
        def recommend(self, zone: UUID, actor: Actor) -> None:
            self.attempt(
                zone, lambda: self.app.recommend(zone, actor, document=doc("rec.pdf"), reasons="No objection.")
            )

        @rule(zone=zones, actor=mostly(LEADING))
        def grant(self, zone: UUID, actor: Actor) -> None:
            self.attempt(zone, lambda: self.app.grant(zone, actor, announcement_no="No. 1"))

        @rule(zone=zones, actor=mostly(LEADING), reasons=texts)
        def refuse_grant(self, zone: UUID, actor: Actor, reasons: str) -> None:
            self.attempt(zone, lambda: self.app.refuse_grant(zone, actor, reasons=reasons))

        @rule(zone=zones, actor=mostly(SONGSHAN), back=st.integers(min_value=0, max_value=4))
        def annual_report(self, zone: UUID, actor: Actor, back: int) -> None:
            year = self.clock.now().year - back
            self.attempt(
                zone,
                lambda: self.app.file_annual_report(
                    zone, actor, year=year, statistics=ANNUAL_STATISTICS, summary="Year's work."
                ),
            )

        @rule(
            zone=zones,
            actor=mostly(BUREAU),
            back=st.integers(min_value=0, max_value=4),
            rating=st.sampled_from(["good", "fail", "so-so"]),
        )
        def evaluate(self, zone: UUID, actor: Actor, back: int, rating: str) -> None:
            year = self.clock.now().year - back
            self.attempt(
                zone,
                lambda: self.app.evaluate_annual_report(zone, actor, year=year, rating=rating, comments="Tracked."),
            )

        @rule(zone=zones, actor=mostly(SONGSHAN))
        def request_review(self, zone: UUID, actor: Actor) -> None:
            self.attempt(zone, lambda: self.app.request_review(zone, actor))

        @rule(zone=zones, actor=mostly(BUREAU), passed=st.booleans(), reasons=texts)
        def decide_review(self, zone: UUID, actor: Actor, passed: bool, reasons: str) -> None:
            self.attempt(zone, lambda: self.app.decide_review(zone, actor, passed=passed, reasons=reasons))

        @rule(zone=zones, actor=mostly(SONGSHAN))
        def rectify(self, zone: UUID, actor: Actor) -> None:
            self.attempt(zone, lambda: self.app.submit_rectification(zone, actor, summary="Done."))

        @rule(
            zone=zones,
            actor=mostly(BUREAU),
            reason=st.sampled_from(["fraud", "statistics_duty", "concealment", "other", "whim", "-"]),
            details=texts,
            evidence=st.sampled_from([[doc("statistics-audit.pdf")], [], None]),
            circular=st.sampled_from([{"number": "5号", "text": "通报"}, {"number": "5号"}, None]),
        )
        def revoke(self, zone: UUID, actor: Actor, reason: str, details: str, evidence: Any, circular: Any) -> None:
            given = revocation(reason, details, evidence=evidence, circular=circular)
            self.attempt(zone, lambda: self.app.revoke(zone, actor, **given))

        @rule(zone=zones, passed=st.booleans())
        def the_right_person_takes_the_next_step(self, zone: UUID, passed: bool) -> None:
            """Biases the walk toward the deep states: the step the process expects next."""
            app, status = self.app, self.known[zone]["status"]
            steps: dict[str, Any] = {
                "applied": lambda: app.formal_review(
                    zone, BUREAU, outcome="accepted" if passed else "returned", reasons="Checked."
                ),
                "returned": lambda: app.supplement(zone, SONGSHAN, materials=FULL_MATERIALS),
                "accepted": lambda: app.request_assessment(
                    zone, SONGSHAN, summary="目标已达成。", statistics=ANNUAL_STATISTICS, documents=[doc("a.pdf")]
                ),
                "assessment_requested": lambda: app.decide_assessment_request(
                    zone, BUREAU, outcome="accepted" if passed else "refused", reasons="受理。"
                ),
                "assessment_accepted": lambda: app.appoint_panel(
                    zone, BUREAU, experts=[{"sub": e.sub, "name": e.name} for e in EXPERTS], methods=["site_visit"]
                ),
                "assessing": lambda: self._score_or_conclude(zone, passed),
                "assessed": lambda: app.publish_notice(zone, BUREAU, text="公示"),
                "in_notice": lambda: self._after(
                    self.known[zone]["notice"]["ends_on"],
                    1,
                    lambda: app.recommend(zone, BUREAU, document=doc("rec.pdf"), reasons="No objection."),
                ),
                "recommended": lambda: app.grant(zone, LEADING, announcement_no="No. 2"),
                "review_passed": lambda: app.recommend(zone, BUREAU, document=doc("renewal.pdf"), reasons="Passed."),
                "granted": lambda: self._after(
                    self.known[zone]["terms"][-1]["review_window_opens_on"],
                    0,
                    lambda: app.request_review(zone, SONGSHAN),
                ),
                "in_review": lambda: app.decide_review(zone, BUREAU, passed=passed, reasons="Reviewed."),
                "rectifying": lambda: app.submit_rectification(zone, SONGSHAN, summary="Rectified."),
            }
            if status in steps:
                self.attempt(zone, steps[status])

        @rule(zone=zones, outcomes=st.lists(st.sampled_from([True, True, True, True, False]), min_size=1, max_size=12))
        def the_process_moves_on(self, zone: UUID, outcomes: list[bool]) -> None:
            """Several right steps in a row (mostly favourable): the deep states (recommended, granted, review,
            rectification) lie a dozen steps or more from the application."""
            for passed in outcomes:
                if self.known[zone]["status"] == "revoked":
                    return
                self.the_right_person_takes_the_next_step(zone, passed)

        @rule(zone=zones, outcomes=st.lists(st.booleans(), min_size=1, max_size=6))
        def the_case_proceeds(self, zone: UUID, outcomes: list[bool]) -> None:
            """The same, favourable or not."""
            for passed in outcomes:
                self.the_right_person_takes_the_next_step(zone, passed)

        def _after(self, day: str, days: int, command: Any) -> Any:
            """Lets time pass to ``day`` + ``days`` (if it has not yet), then runs the command."""
            from datetime import date

            target = at((date.fromisoformat(day) + timedelta(days=days)).isoformat())
            if self.clock.now() < target:
                self.clock.set(target)
            return command()

        def _score_or_conclude(self, zone: UUID, passed: bool) -> Any:
            panel = self.known[zone]["panel"]
            for e in EXPERTS:
                if (
                    e.sub not in panel["sheets"]
                    and e.sub not in panel["conflicts"]
                    and any(x["sub"] == e.sub for x in panel["experts"])
                ):
                    return self.app.file_scores(zone, e, scores=full_scores())
            return self.app.conclude_assessment(zone, BUREAU, passed=passed, report=doc("r.pdf"), reasons="Done.")

        @rule()
        def deadlines_sweep(self) -> None:
            before = {z: self.app.get_zone(z).version for z in self.known}
            fired = sweep(self.app)
            assert sweep(self.app) == []  # a second sweep finds nothing left to fire
            for z in self.known:
                replayed = self.app.get_zone(z).state()
                count = sum(1 for f in fired if f["zone_id"] == str(z))
                assert replayed["version"] >= before[z] + count
                self.known[z] = replayed

    return ZoneCommands


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_commands_are_refused_cleanly_or_replay_exactly(kind: str, tmp_path: Path) -> None:
    factory = StoreFactory(kind, tmp_path)
    try:
        run_state_machine_as_test(
            machine_for(factory),
            settings=settings(
                max_examples=25,
                stateful_step_count=120,
                deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            ),
        )
    finally:
        factory.cleanup()
