"""How a zone is shown: one document built from the aggregate's state, redacted per reader at the edge."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domain.deadlines import Deadline
from domain.policy import Policy
from domain.records import as_plain
from domain.state_assessment import Assessment
from domain.state_assessment import Panel
from domain.state_case import STATUS_WORDS
from domain.zone import Zone

# What only the bureau and inspectors see of an objector: the name and contact (recorded in the event before v3),
# and since v3 the reference and the salted commitment (shown to no one else: nothing to guess against).
OBJECTOR_FIELDS = ("objector_name", "contact", "objector_ref", "objector_commitment")
SEES_OBJECTORS = ("bureau", "inspector")


def zone_document(zone: Zone, policy: Policy, deadlines: list[Deadline] | None = None) -> dict[str, Any]:
    """The zone as the API returns it (before redaction): current state, dates, deadlines, latest scores
    (``deadlines``: ``zone.deadlines(policy)`` when the caller has it already)."""
    term = zone.current_term
    assessment = zone.assessment
    panel = zone.panel
    document = {
        "id": str(zone.id),
        "name": zone.name,
        "status": zone.status,
        "status_text": STATUS_WORDS[zone.status],
        "version": zone.version,
        "applicant_org": zone.applicant_org,
        "area_type": zone.area_type,
        "sites": as_plain(zone.sites),
        "batch": zone.batch,
        "creation_period": as_plain(zone.creation_period),
        "indicator_system": zone.indicator_system,
        "applied_on": zone.applied_on,
        "created_at": zone.created_on.isoformat(),
        "updated_at": zone.modified_on.isoformat(),
        "materials": as_plain(zone.materials),
        "self_assessment": as_plain(zone.self_assessment),
        "plan": as_plain(zone.plan),
        "formal_review": as_plain(zone.formal_decision),
        "panel": None if panel is None else _panel(panel),
        "assessment": None if assessment is None else _assessment(assessment),
        "notice": as_plain(zone.notice),
        "objections": [o.as_dict() for o in zone.objections.values()],
        # since v2; shown only once there is one, so that a zone recorded by v1 is shown as it was
        **({"recommendations": as_plain(zone.recommendations)} if zone.recommendations else {}),
        "term": as_plain(term),
        "valid_until": term.valid_until.isoformat() if term else None,
        "terms": as_plain(zone.terms),
        "annual_reports": [
            {
                "year": r.year,
                "filed_at": r.filed_at,
                "due_on": r.due_on.isoformat(),
                "late": r.late,
                "statistics": as_plain(r.statistics),
                "summary": r.summary,
                "documents": as_plain(r.documents),
                "evaluation": as_plain(r.evaluation),
            }
            for _, r in sorted(zone.annual_reports.items())
        ],
        "review": as_plain(zone.review),
        "reviews": as_plain(zone.reviews),
        "revocation": as_plain(zone.revocation),
        "deadlines": [
            {
                "kind": d.kind,
                "key": d.key,
                "due_on": d.day.isoformat(),
                "due_at": d.due_at.isoformat(),
                "recorded": d.recorded,
            }
            for d in (zone.deadlines(policy) if deadlines is None else deadlines)
        ],
    }
    # The creation period's records (v2), shown once there is one: a zone recorded before shows as it did.
    for key, records in (
        ("progress_reports", zone.progress_reports),
        ("supervision", zone.supervisions),
        ("assessment_requests", zone.assessment_requests),
    ):
        if records:
            document[key] = as_plain(records)
    return document


def _panel(panel: Panel) -> dict[str, Any]:
    """The panel as the zone document shows it: members, methods, who declared a conflict, who scored."""
    return {
        "round": panel.round,
        "experts": as_plain(panel.experts),
        "methods": as_plain(panel.methods),
        "conflicted": sorted(panel.conflicts),
        "scored": sorted(panel.sheets),
        # v2: shown once the bureau recused someone (a panel of v1 shows what it showed)
        **({} if panel.recusals is None else {"recused": sorted(panel.recusals), "counted": panel.counted()}),
    }


def _assessment(assessment: Assessment) -> dict[str, Any]:
    """The latest conclusion: passed or not, on which report and why, and the panel's result."""
    result = assessment.result
    return {
        "round": assessment.round,
        "passed": assessment.passed,
        "report": as_plain(assessment.report),
        "reasons": assessment.reasons,
        **{key: result[key] for key in ("indicator_system", "total", "maximum", "percentage")},
        "scores": as_plain(result["scores"]),
        **conclusion_figures(assessment),
        **({"recused": sorted(assessment.recusals or {})} if assessment.concluded_v2 else {}),
    }


def conclusion_figures(assessment: Assessment) -> dict[str, Any]:
    """What a conclusion records since v2 (none for one of v1): total and percentage as people write them, the
    version's maximum, the group subtotals against their declared weights, the call's pass mark and any
    override."""
    if not assessment.concluded_v2:
        return {}
    return {
        "total": assessment.total,
        "max": assessment.max,
        "percentage": assessment.percentage,
        "groups": as_plain(assessment.groups),
        "pass_mark": assessment.pass_mark,
        "against_pass_mark": assessment.against_pass_mark,
        "override_reasons": assessment.override_reasons,
    }


def redact(document: dict[str, Any], role: str) -> dict[str, Any]:
    """Hides an objector's identity from everyone but the bureau and inspectors."""
    if role in SEES_OBJECTORS:
        return document
    out = dict(document)
    out["objections"] = [{k: v for k, v in o.items() if k not in OBJECTOR_FIELDS} for o in document["objections"]]
    return out


HIDDEN_ACTOR = {"sub": "", "role": "", "org": "", "name": ""}  # who objected: not even whether public or a town


def redacted_history(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The history as readers other than the bureau and inspectors see it: an objection without its objector
    (name and contact, or reference and commitment) and without who raised it, not even the role.

    The hash links stay: an event's hash is public anyway (the log's Merkle leaves, ``/audit/proofs``), and since
    v3 it covers a commitment salted with 32 random bytes that no reader but the bureau and inspectors sees, so no
    guess of a name, a phone number or an objecting town can be checked against it. An objection recorded before v3
    has the name and contact in its hashed data: its hash can be attacked, whatever this view hides (README)."""
    out = []
    for e in entries:
        if e["type"] == "ObjectionRaised":
            e = {**e, "data": {k: v for k, v in e["data"].items() if k not in OBJECTOR_FIELDS}, "actor": HIDDEN_ACTOR}
        out.append(e)
    return out


def flag_overdue(document: dict[str, Any], now: datetime) -> dict[str, Any]:
    """Marks each deadline overdue when its due instant has passed."""
    document["deadlines"] = [
        {**d, "overdue": datetime.fromisoformat(d["due_at"]) <= now} for d in document["deadlines"]
    ]
    return document


def objection_counts(document: dict[str, Any]) -> dict[str, Any]:
    """The zone as it is answered: its objections counted (``objection_counts``: total and per status), not
    embedded — they are paged under ``/zones/{id}/objections``, so that a flood of them cannot swell every answer."""
    out = {k: v for k, v in document.items() if k != "objections"}
    counts: dict[str, int] = {"total": len(document.get("objections") or [])}
    for o in document.get("objections") or []:
        counts[o["status"]] = counts.get(o["status"], 0) + 1
    out["objection_counts"] = counts
    return out


def objection_page(document: dict[str, Any], role: str, *, limit: int, offset: int) -> dict[str, Any]:
    """One page of the zone's objections in the order raised, as a reader with ``role`` may see them."""
    objections = document.get("objections") or []
    shown = redact({"objections": objections[offset : offset + limit]}, role)["objections"]
    return {"zone_id": document["id"], "total": len(objections), "limit": limit, "offset": offset, "items": shown}


def shown_zone(zone: Zone, policy: Policy, role: str, now: datetime) -> dict[str, Any]:
    """The zone document as a reader with ``role`` may see it, deadlines flagged overdue against ``now``."""
    return flag_overdue(objection_counts(redact(zone_document(zone, policy), role)), now)


def objection_receipt(zone: Zone, objection_id: str) -> dict[str, Any]:
    """What the objector is told: the objection's id and the notice it was raised on (no zone state)."""
    number = zone.objections[objection_id].notice if objection_id in zone.objections else 0
    return {"objection_id": objection_id, "zone_id": str(zone.id), "notice": number}


def zone_summary(zone: Zone) -> dict[str, Any]:
    """One line of the zone list."""
    return {
        "id": str(zone.id),
        "name": zone.name,
        "applicant_org": zone.applicant_org,
        "status": zone.status,
        "version": zone.version,
        "batch": zone.batch,
        "applied_on": zone.applied_on,
        "updated_at": zone.modified_on.isoformat(),
    }
