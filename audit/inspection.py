"""The inspector's report: the whole log checked independently of the aggregate's own rules.

It reads the stored events in log order and keeps its own small account of each zone, so that a
violation written past the rules (a bug, a direct write into the store) is found all the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from datetime import date
from datetime import datetime
from datetime import timedelta
from typing import Any

from audit.integrity import StreamChain
from domain.conditions import WAIVABLE_CONDITIONS
from domain.errors import InvalidValueError
from domain.intake import PROCESS_REVOCATIONS
from domain.integrity import values_of
from domain.values import local_date
from domain.values import local_minute
from domain.values import span_in_english

DECISIONS_NEEDING_REASONS = {
    "ApplicationReturned": "returning an application",
    "ApplicationRejected": "rejecting an application",
    "Assessed": "the assessment conclusion",
    "ObjectionResolved": "resolving an objection",
    "RectificationOrdered": "ordering rectification",
    "ReviewPassed": "passing a review",
    "Revoked": "revoking the title",
    "AnnualEvaluated": "the annual evaluation",
    "Recommended": "the recommendation of a grant",
    "GrantRefused": "declining a recommended grant",
    "AssessmentRequestRefused": "refusing an assessment application",
    "CreationPeriodExtended": "extending the creation period",
    "ExpertRecused": "recusing an expert",
}
DEADLINE_EVENTS = {
    "NoticeEnded",
    "AnnualReportOverdue",
    "ReviewWindowOpened",
    "TitleExpired",
    "RectificationOverdue",
    "CreationPeriodEnded",
}


@dataclass
class _Zone:
    name: str = ""
    experts: set[str] = field(default_factory=set)
    conflicted: set[str] = field(default_factory=set)
    recused: set[str] = field(default_factory=set)
    scored: set[str] = field(default_factory=set)  # who filed a sheet on the sitting panel
    notice: dict[str, Any] | None = None
    objections: dict[str, dict[str, Any]] = field(default_factory=dict)
    terms: list[dict[str, Any]] = field(default_factory=list)
    reports: set[int] = field(default_factory=set)
    review_requested_terms: set[int] = field(default_factory=set)
    revoked: bool = False
    recommended: bool = False  # a recommendation (提请) stands, not yet granted or declined
    v2: bool = False  # an event with what only v2 records was seen: a later grant answers to v2's rules
    chain: StreamChain = field(default_factory=StreamChain)
    is_zone: bool = False  # a stream of zone events (the calendar's and the calls' are chained too)


@dataclass
class Inspection:
    """Findings with event references, and what was checked."""

    start: datetime | None
    end: datetime
    lag_tolerance: timedelta
    findings: list[dict[str, Any]] = field(default_factory=list)
    checked: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(
            (
                "events",
                "zones",
                "grants",
                "score_filings",
                "conclusions",
                "decisions",
                "deadline_events",
                "annual_reports",
                "terms",
                "revocations",
            ),
            0,
        )
    )

    def in_window(self, at: datetime) -> bool:
        """Whether an event falls in the period inspected."""
        return (self.start is None or at >= self.start) and at <= self.end

    def find(
        self,
        rule: str,
        detail: str,
        *,
        zone_id: str,
        position: int | None = None,
        seq: int | None = None,
        event_type: str | None = None,
        **extra: Any,
    ) -> None:
        """Records a finding."""
        self.findings.append(
            {
                "rule": rule,
                "detail": detail,
                "zone_id": zone_id,
                "position": position,
                "seq": seq,
                "event_type": event_type,
                **extra,
            }
        )

    def as_dict(self) -> dict[str, Any]:
        """The report."""
        clean = not self.findings
        summary = (
            f"No findings: {self.checked['events']} events of {self.checked['zones']} zones checked."
            if clean
            else f"{len(self.findings)} findings in {self.checked['events']} events of {self.checked['zones']} zones."
        )
        return {
            "from": self.start.isoformat() if self.start else None,
            "to": self.end.isoformat(),
            "lag_tolerance_seconds": int(self.lag_tolerance.total_seconds()),
            "clean": clean,
            "summary": summary,
            "checked": self.checked,
            "findings": self.findings,
        }


def inspect(app: Any, *, start: datetime | None, end: datetime, lag_tolerance: timedelta) -> Inspection:
    """Reads the whole log (streaming) and reports every violation found; a period that starts after it ends is
    refused (it would report no finding where the log may hold some)."""
    if start is not None and start > end:
        raise InvalidValueError(
            "The period starts after it ends (from 晚于 to): nothing would be inspected.",
            [{"loc": ["query", "from"], "msg": "after to"}],
        )
    report = Inspection(start, end, lag_tolerance)
    zones: dict[str, _Zone] = {}
    position = 0
    while True:
        page = app.recorder.select_notifications(start=position + 1, limit=1000)
        for n in page:
            _check(app, report, zones, n)
        if len(page) < 1000:
            break
        position = page[-1].id
    _check_terms(report, zones)
    report.checked["zones"] = sum(z.is_zone for z in zones.values())
    return report


def _check(app: Any, report: Inspection, zones: dict[str, _Zone], n: Any) -> None:
    zone_id, seq = str(n.originator_id), n.originator_version
    z = zones.setdefault(zone_id, _Zone())
    kind = n.topic.rsplit(".", 1)[-1]
    problem = z.chain.check(app, n)  # the same check as /audit/verify
    if problem:
        report.find("broken_hash_link", problem, zone_id=zone_id, position=n.id, seq=seq, event_type=kind)
    state = z.chain.state
    if state is None:
        return
    at: datetime = state["timestamp"]
    report.checked["events"] += 1
    if ":Zone." not in n.topic:  # the calendar's entries and the calls are chained too, but are not a zone's
        return
    z.is_zone = True
    d, reason, actor = values_of(state["data"], state.get("hash_scheme")), state["reason"], state["actor"]
    ref = {"zone_id": zone_id, "position": n.id, "seq": seq, "event_type": kind}
    window = report.in_window(at)

    if kind in DECISIONS_NEEDING_REASONS:
        report.checked["decisions"] += 1
        if window and not str(reason).strip():
            report.find("decision_without_reason", f"{DECISIONS_NEEDING_REASONS[kind]} records no reason", **ref)
    if kind == "Applied":
        z.name = d.get("name", "")
    elif kind == "FormallyAccepted":
        _check_waivers(report, d.get("waivers", ()), ref, window)
    elif kind == "PanelAppointed":
        z.experts, z.conflicted = {e["sub"] for e in d.get("experts", [])}, set()
        z.recused, z.scored = set(), set()
    elif kind == "PanelMembersAdded":
        z.experts.update(e["sub"] for e in d.get("experts", []))
    elif kind == "ConflictDeclared":
        z.conflicted.add(d.get("expert", actor.get("sub")))
    elif kind == "ExpertRecused":
        z.recused.add(d.get("expert"))
    elif kind == "ScoresFiled":
        report.checked["score_filings"] += 1
        _check_sheet(report, z, d.get("expert", actor.get("sub")), str(reason), ref, window)
    elif kind == "Assessed":
        report.checked["conclusions"] += 1
        _check_conclusion(report, z, app.policy.min_panel_size, ref, window)
    elif kind == "Publicized":
        z.notice = d
    elif kind == "ObjectionRaised":
        z.objections[d["objection_id"]] = {"notice": d.get("notice"), "status": "open"}
        z.v2 = z.v2 or "channel" in d
    elif kind == "ObjectionResolved":
        if d["objection_id"] in z.objections:
            z.objections[d["objection_id"]]["status"] = d.get("outcome")
        for other in d.get("superseded", ()):  # v2 closes the notice's other open objections with an upheld one
            if other in z.objections:
                z.objections[other]["status"] = "superseded"
        z.v2 = z.v2 or "returns_to" in d
        if d.get("outcome") == "upheld":
            z.notice = None  # the notice no longer stands: a grant needs a new one
    elif kind in ("Recommended", "GrantRefused"):
        z.recommended, z.v2 = kind == "Recommended", True
    elif kind == "Granted":
        report.checked["grants"] += 1
        _check_grant(report, z, d, at, ref, window)
        _check_recommendation(report, z, d, ref, window, renewal=bool(d.get("renewal")))
        z.terms.append({"valid_until": d.get("valid_until"), "number": d.get("number", 1), "granted_at": at})
    elif kind == "ReviewPassed":
        if "term" in d:  # v1: the pass itself granted the new term
            report.checked["grants"] += 1
            _check_recommendation(report, z, d, ref, window, renewal=True)
            term = d.get("term", {})
            z.terms.append({"valid_until": term.get("valid_until"), "number": term.get("number"), "granted_at": at})
        z.v2 = z.v2 or "checks" in d
    elif kind == "ReviewRequested":
        z.review_requested_terms.add(int(d.get("term", 0)))
        if z.terms and local_date(at) > date.fromisoformat(z.terms[-1]["valid_until"]) and window:
            report.find("review_requested_after_expiry", "the review was requested after the title expired", **ref)
    elif kind == "AnnualReported":
        report.checked["annual_reports"] += 1
        year = int(d["year"])
        z.reports.add(year)
        due = date(year + 1, 1, 31)
        if window and local_date(at) > due:
            report.find(
                "late_annual_report",
                f"the report on {year} was filed on {local_date(at)} (due {due})",
                year=year,
                days_late=(local_date(at) - due).days,
                **ref,
            )
    elif kind == "Revoked":
        z.revoked = True
        report.checked["revocations"] += 1
        _check_revocation(report, d, ref, window)
    if kind in DEADLINE_EVENTS:
        report.checked["deadline_events"] += 1
        due_at = datetime.fromisoformat(d["due_at"])
        lag = at - due_at
        if window and lag > report.lag_tolerance:
            report.find(
                "deadline_recorded_late",
                f"{d.get('key')} fell due at {local_minute(due_at)} "
                f"and was recorded {span_in_english(lag.total_seconds())} later",
                lag_seconds=int(lag.total_seconds()),
                **ref,
            )


def _check_waivers(report: Inspection, waivers: Any, ref: dict[str, Any], window: bool) -> None:
    # §4: only a condition the document states "in principle" (原则上, §4.3) may be waived, and with reasons.
    for w in waivers if window else ():
        rule = w.get("rule")
        if rule not in WAIVABLE_CONDITIONS:
            report.find(
                "waiver_of_unwaivable_condition",
                f"the acceptance waived {rule}, which the document does not state in principle (原则上); only "
                + ", ".join(WAIVABLE_CONDITIONS)
                + " may be waived",
                condition=rule,
                **ref,
            )
        if not str(w.get("reasons", "")).strip():
            report.find(
                "waiver_without_reasons", f"the acceptance waived {rule} and recorded no reasons", condition=rule, **ref
            )


def _check_sheet(report: Inspection, z: _Zone, expert: str, reason: str, ref: dict[str, Any], window: bool) -> None:
    # §3.2 as v2 keeps it: only the panel's unconflicted, unrecused experts score, and a sheet re-filed says why.
    if window and expert not in z.experts:
        report.find("scores_by_expert_not_on_panel", f"{expert} filed scores but is not on the panel", **ref)
    elif window and expert in z.conflicted:
        report.find("scores_by_conflicted_expert", f"{expert} filed scores after declaring a conflict", **ref)
    elif window and expert in z.recused:
        report.find("scores_by_conflicted_expert", f"{expert} filed scores after being recused (回避)", **ref)
    if window and expert in z.scored and not reason.strip():
        report.find(
            "score_sheet_refiled_without_reason",
            f"{expert} re-filed a score sheet that replaced an earlier one, and recorded no reason",
            expert=expert,
            **ref,
        )
    z.scored.add(expert)


def _check_conclusion(report: Inspection, z: _Zone, minimum: int, ref: dict[str, Any], window: bool) -> None:
    # Counted from the log's own account, not from what the conclusion says it counted: a sheet filed by an
    # expert later conflicted or recused does not count.
    counted = sorted((z.scored & z.experts) - z.conflicted - z.recused)
    if window and len(counted) < minimum:
        report.find(
            "conclusion_with_too_few_experts",
            f"the conclusion was reached with {len(counted)} unconflicted experts' sheets "
            f"({', '.join(counted) or 'none'}); at least {minimum} are required",
            counted=counted,
            minimum=minimum,
            **ref,
        )


def _check_revocation(report: Inspection, d: dict[str, Any], ref: dict[str, Any], window: bool) -> None:
    # §6.6 revokes "once established" (一经查实) and with a circular (通报); the revocations the process
    # records itself (§6.4, §6.5) need neither. A revocation recorded before v2 had neither: it is found too.
    cause = d.get("cause")
    missing = [name for name in ("evidence", "circular") if not d.get(name)]
    if window and cause not in PROCESS_REVOCATIONS and missing:
        report.find(
            "revocation_without_evidence_or_circular",
            f"the revocation ({cause}) records no {' and no '.join(missing)}",
            cause=cause,
            missing=missing,
            **ref,
        )


def _check_recommendation(
    report: Inspection, z: _Zone, d: dict[str, Any], ref: dict[str, Any], window: bool, *, renewal: bool
) -> None:
    # §2.1, §3.3: the leading group grants on the bureau's recommendation (提请). v1 recorded none: a grant with
    # nothing of v2 before it, and none of v2's own fields (announced_on), was recorded before v2's rules — a
    # finding all the same, named as such, not an error of the code that recorded it.
    recommended, z.recommended = z.recommended, False
    if not window or recommended:
        return
    v1_era = not z.v2 and "announced_on" not in d
    what = "renewal (继续授予)" if renewal else "grant"
    detail = (
        f"the {what} was recorded before v2's rules, which record no recommendation (提请, §3.3)"
        if v1_era
        else f"the {what} records no recommendation (提请, §2.1, §3.3) by the bureau before it"
    )
    report.find("grant_without_recommendation", detail, v1_era=v1_era, **ref)


def _check_grant(
    report: Inspection, z: _Zone, d: dict[str, Any], at: datetime, ref: dict[str, Any], window: bool
) -> None:
    if not window:
        return
    # every objection on every notice of the zone is resolved before a grant (v2): none is left open
    for oid, o in z.objections.items():
        if o["status"] == "open":
            report.find(
                "objection_open_at_grant",
                f"objection {oid} to notice {o['notice']} was left open at the grant",
                objection_id=oid,
                **ref,
            )
    if d.get("renewal"):  # a renewal follows a review, not a notice
        return
    if z.notice is None:
        report.find("grant_without_notice", "the title was granted with no public notice standing", **ref)
        return
    if local_date(at) <= date.fromisoformat(z.notice["ends_on"]):
        report.find(
            "grant_before_notice_ended",
            f"granted on {local_date(at)}; the notice ran until {z.notice['ends_on']}",
            **ref,
        )
    current = [oid for oid, o in z.objections.items() if o["notice"] == z.notice.get("number")]
    for oid in current:
        status = z.objections[oid]["status"]
        if status in ("open", "upheld"):
            report.find(
                "grant_with_objection",
                f"objection {oid} to the notice was {status} at the grant",
                objection_id=oid,
                **ref,
            )


def _check_terms(report: Inspection, zones: dict[str, _Zone]) -> None:
    """As of the end of the period: reports missing and titles left past expiry."""
    today = local_date(report.end)
    for zone_id, z in zones.items():
        if not z.terms:
            continue
        report.checked["terms"] += len(z.terms)
        if z.revoked:
            continue
        years: set[int] = set()
        for t in z.terms:
            years.update(range(local_date(t["granted_at"]).year, date.fromisoformat(t["valid_until"]).year + 1))
        for year in sorted(years - z.reports):
            due = date(year + 1, 1, 31)
            if due < today:
                report.find("missing_annual_report", f"no report on {year} (due {due})", zone_id=zone_id, year=year)
        last = z.terms[-1]
        if date.fromisoformat(last["valid_until"]) < today and int(last["number"] or 0) not in z.review_requested_terms:
            report.find(
                "left_past_expiry",
                f"the title expired on {last['valid_until']} with no review requested and no revocation",
                zone_id=zone_id,
                term=last["number"],
            )
