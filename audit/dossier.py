"""The dispute dossier (争议卷宗): everything a dispute after a public notice is judged on, with a proof
that each event is in the signed log."""

from __future__ import annotations

import html
from typing import Any
from uuid import UUID

from application.objectors import revealed
from application.objectors import with_objectors
from application.representation import zone_document
from application.service import ZoneApplication
from audit.checkpoints import Checkpointer
from domain.records import as_plain
from domain.zone import Zone
from projections.assessments import zone_assessments
from projections.history import zone_history
from projections.runner import ViewRunner


def build_dossier(app: ZoneApplication, views: ViewRunner, checkpointer: Checkpointer, zone_id: UUID) -> dict[str, Any]:
    """The dossier as data (objector identity included: it is for the bureau and inspectors only)."""
    zone = app.get_zone(zone_id)
    views.wait_for(app.recorder.max_notification_id(), timeout=30)
    with views.read("history") as tx:
        timeline = zone_history(tx, zone_id, app.events.get(zone_id))
    with views.read("assessments") as tx:
        rounds = zone_assessments(tx, str(zone_id))
    checkpoint = checkpointer.sign("dossier")
    by_type: dict[str, list[dict[str, Any]]] = {}
    for e in timeline:
        by_type.setdefault(e["type"], []).append(e)

    def head_for(position: int) -> dict[str, Any] | None:
        index = checkpointer.leaf_index(position)
        found = app.side_tables.get_checkpoints(since=index + 1, limit=1)
        return found[0].as_dict() if found else None

    notices = []
    for number, (notice, event) in enumerate(zip(zone.notices, by_type.get("Publicized", []), strict=False), 1):
        notices.append(
            {
                **notice.as_dict(),
                "number": number,
                "published_by": event["actor"],
                "published_under": head_for(event["position"]),
            }
        )
    resolved = {e["data"]["objection_id"]: e for e in by_type.get("ObjectionResolved", [])}
    raised = {e["data"]["objection_id"]: e for e in by_type.get("ObjectionRaised", [])}
    objections = []
    for oid, o in zone.objections.items():
        resolution = resolved.get(oid)
        registration = raised.get(oid)
        objections.append(
            {
                "objection_id": oid,
                "notice": o.notice,
                "objector_name": o.objector_name,
                "contact": o.contact,
                **({} if o.objector_ref is None else {"objector_ref": o.objector_ref}),
                **({} if o.objector_commitment is None else {"objector_commitment": o.objector_commitment}),
                "text": o.text,
                "evidence": as_plain(o.evidence),
                "raised_at": o.raised_at,
                # registered by the bureau (v2): how and when it was received, and who registered it
                "channel": o.channel,
                "received_at": o.received_at,
                "registered_by": registration["actor"] if registration and o.channel else None,
                "status": o.status,
                "superseded_by": o.superseded_by,
                "resolution": None
                if resolution is None
                else {
                    "outcome": resolution["data"]["outcome"],
                    "consequence": resolution["data"]["consequence"],
                    "reasons": resolution["reason"],
                    "resolved_at": resolution["at"],
                    "resolved_by": resolution["actor"],
                },
            }
        )
    objections = revealed(app, objections)  # since v3 the identities are decrypted, or "erased on …"
    timeline = with_objectors(app, timeline)
    system = app.systems.get(zone.indicator_system)
    proofs = [{"seq": e["seq"], **checkpointer.inclusion(e["position"], checkpoint.tree_size)} for e in timeline]
    return {
        "zone": zone_document(zone, app.policy),
        "notices": notices,
        "objections": objections,
        "formal_review": _formal_review(zone, by_type),
        "recommendations": _recommendations(zone, by_type),
        "announcements": _announcements(zone, by_type),
        "revocation": _revocation(zone, next(reversed(by_type.get("Revoked", [])), None)),
        "assessments": rounds,
        "recusals": _recusals(rounds),
        "conclusions": [_conclusion(r) for r in rounds if r["state"] == "concluded"],
        "indicator_system": {
            "version": zone.indicator_system,
            "maximum": system.maximum if system else None,
            "discrepancies": [str(d) for d in system.discrepancies] if system else [],
        },
        "timeline": timeline,
        "integrity": {
            "checkpoint": checkpoint.as_dict(),
            "key_id": checkpointer.key.key_id,
            "public_key": "/checkpoints/public-key",
            "inclusion_proofs": proofs,
            "how_to_check": "Each inclusion proof's audit path, applied to the leaf hash SHA-256(0x00 || "
            "event hash) by RFC 9162 §2.1.3.2, yields the checkpoint's root, whose "
            "Ed25519 signature the public key verifies.",
        },
    }


def _formal_review(zone: Zone, by_type: dict[str, list[dict[str, Any]]]) -> dict[str, Any] | None:
    """The formal review (形式审查) that decided the application: the approval to start and its document, the
    waivers with their reasons, the checks that failed or were waived, and the creation period it opened."""
    decision = zone.formal_decision
    events = [e for t in ("FormallyAccepted", "ApplicationReturned", "ApplicationRejected") for e in by_type.get(t, [])]
    if decision is None or not events:
        return None
    event = max(events, key=lambda e: e["seq"])
    return {
        "outcome": decision.outcome,
        "reasons": decision.reasons,
        "decided_at": event["at"],
        "decided_by": event["actor"],
        "approval": as_plain(decision.approval),
        "waivers": as_plain(decision.waivers) or [],
        "checks_failed_or_waived": [dict(c) for c in decision.checks if not c["passed"] or c.get("waived")],
        "creation_period": as_plain(zone.creation_period),
    }


def _recusals(rounds: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every recusal (回避) the bureau made, round by round, with its reasons, who made it and when."""
    return [
        {"round": r["round"], "expert": expert, **recusal}
        for r in rounds
        for expert, recusal in (r.get("recusals") or {}).items()
    ]


def _conclusion(r: dict[str, Any]) -> dict[str, Any]:
    """A round's conclusion in figures: total of maximum, percentage, the group subtotals against their declared
    weights (v2; a v1 conclusion has the panel's total only), the pass mark and any override."""
    result = r["result"]
    return {
        "round": r["round"],
        "passed": result["passed"],
        "total": result["total"],
        "max": result.get("max", result["maximum"]),
        "percentage": result["percentage"],
        "groups": result.get("groups"),
        "pass_mark": result.get("pass_mark"),
        "against_pass_mark": result.get("against_pass_mark"),
        "override_reasons": result.get("override_reasons"),
        "counted": result["counted"],
    }


# The grounds in the document's words: §6.6's, those the process records (§6.4, §6.5), and v1's "other".
GROUNDS = {
    "statistics_duty": "不履行统计义务 (§6.6)",
    "concealment": "隐瞒事实 (§6.6)",
    "fraud": "弄虚作假 (§6.6)",
    "other": "其他 (v1)",
    "no_review_request": "逾期未提出复核申请 (§6.5)",
    "review_failed_after_rectification": "整改后仍不合格 (§6.4)",
    "rectification_not_submitted": "整改期满未提交整改 (§6.4)",
}
SCOPES = {"creation_qualification": "取消创建资格 creation qualification cancelled", "title": "撤销称号 title revoked"}


def _recommendations(zone: Zone, by_type: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """The bureau's recommendations (提请): document, reasons, the dismissed objections considered, who made them
    and the leading group's answer."""
    return [
        {**r.as_dict(), "recommended_by": event["actor"], "seq": event["seq"]}
        for r, event in zip(zone.recommendations, by_type.get("Recommended", []), strict=False)
    ]


def _announcements(zone: Zone, by_type: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Each term and the act that granted it: the leading group's announcement (公告) since v2; before, the grant
    (or the passed review) as v1 recorded it."""
    acts = [
        e
        for e in by_type.get("Granted", []) + by_type.get("ReviewPassed", [])
        if e["type"] == "Granted" or "term" in e["data"]
    ]
    acts.sort(key=lambda e: e["seq"])
    return [
        {
            "term": t.number,
            "announcement_no": t.announcement_no,
            "announced_on": t.announced_on.isoformat() if t.announced_on else None,
            "document": as_plain(t.announcement_document),
            "granted_on": t.granted_on.isoformat(),
            "valid_until": t.valid_until.isoformat(),
            "term_years": t.term_years,
            "term_reasons": t.term_reasons,
            "renewal": bool(t.renewal) or t.number > 1,
            "by_announcement": t.announced_on is not None,
            "granted_by": event["actor"],
            "seq": event["seq"],
        }
        for t, event in zip(zone.terms, acts, strict=False)
    ]


def _revocation(zone: Zone, event: dict[str, Any] | None) -> dict[str, Any] | None:
    """The revocation: its ground, evidence, circular and scope, who made it and when."""
    r = zone.revocation
    if r is None:
        return None
    return {
        "ground": r.cause,
        "ground_text": GROUNDS.get(r.cause, r.cause),
        "details": r.details,
        "reasons": r.reasons,
        "revoked_on": r.revoked_on.isoformat(),
        # recorded since v2; for an earlier revocation (or one by the process) what the history shows
        "scope": r.scope or ("title" if zone.terms else "creation_qualification"),
        "scope_recorded": r.scope is not None,
        "evidence": as_plain(r.evidence) if r.evidence is not None else [],
        "circular": as_plain(r.circular),
        "revoked_by": event["actor"] if event else None,
        "revoked_at": event["at"] if event else None,
        "seq": event["seq"] if event else None,
    }


def _panel_integrity_html(r: dict[str, Any], result: dict[str, Any]) -> list[str]:
    """A round's recusals with their reasons, and its conclusion's group subtotals and pass mark (v2)."""
    out = []
    recusals = r.get("recusals") or {}
    if recusals:
        out.append("<p>回避 Recusals by the bureau:</p><ul>")
        out += [
            f"<li>{_e(x)}: {_e(v.get('reasons'))} ({_e(v.get('recused_at'))}, {_actor(v.get('recused_by'))})</li>"
            for x, v in recusals.items()
        ]
        out.append("</ul>")
    groups = result.get("groups")
    if groups:
        out.append(
            "<table><tr><th>分组 Group</th><th>得分 Score</th><th>满分 Maximum</th><th>文件权重 Declared</th></tr>"
        )
        out += [
            f"<tr><td>{_e(g['name'])}</td><td>{_e(g['score'])}</td><td>{_e(g['max'])}</td>"
            f"<td>{_e(g['declared'])}</td></tr>"
            for g in groups
        ]
        mark = result.get("pass_mark")
        override = result.get("override_reasons")
        shown = f"{_e(mark)} %" if mark is not None else "申报通知未设 none set by the call"
        out.append(
            f"</table><p>及格线 Pass mark: {shown}"
            + (f" · 偏离理由 Override: {_e(override)}" if override else "")
            + "</p>"
        )
    return out


def _formal_review_html(f: dict[str, Any] | None) -> list[str]:
    if f is None:
        return []
    period = f["creation_period"] or {}
    approval = f["approval"]
    waivers = "".join(f"<li>{_e(w['rule'])}: {_e(w['reasons'])}</li>" for w in f["waivers"])
    none = "<li>无 none</li>"
    checks = "".join(
        f"<li>{_e(c['rule'])}: {_e(c.get('value'))} — {'豁免 waived' if c.get('waived') else '未通过 failed'}</li>"
        for c in f["checks_failed_or_waived"]
    )
    return [
        "<h2>形式审查与创建期 Formal review and creation period</h2><table>",
        f"<tr><th>结论 Outcome</th><td>{_e(f['outcome'])} — {_e(f['reasons'])}<br>{_e(f['decided_at'])} by "
        f"{_actor(f['decided_by'])}</td></tr>",
        "<tr><th>批复 Approval to start</th><td>"
        + (f"{_e(approval['name'])} <code>{_e(approval['sha256'])}</code>" if approval else "—")
        + "</td></tr>",
        f"<tr><th>豁免 Waivers (原则上)</th><td><ul>{waivers or none}</ul></td></tr>",
        f"<tr><th>未通过或豁免的条件 Conditions failed or waived</th><td><ul>{checks or none}</ul></td></tr>",
        f"<tr><th>创建期 Creation period</th><td>{_e(period.get('starts_on', period.get('start_year')))} – "
        f"{_e(period.get('ends_on', period.get('end_year')))}"
        + "".join(
            f"<br>延长 extended on {_e(x['extended_on'])} to {_e(x['ends_on'])}: {_e(x['reasons'])}"
            for x in period.get("extensions") or []
        )
        + "</td></tr></table>",
    ]


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _actor(a: dict[str, Any] | None) -> str:
    if not a:
        return ""
    return _e(f"{a.get('name') or a.get('sub')} ({a.get('role')}{', ' + a['org'] if a.get('org') else ''})")


def _objector_html(o: dict[str, Any]) -> str:
    """Who objected, or since when their personal data is erased (已删除)."""
    erased = o.get("objector_erased")
    if erased:
        return f"已删除 {_e(erased['text'])}"
    return f"{_e(o['objector_name'])}<br>{_e(o['contact'])}"


def render_html(d: dict[str, Any]) -> str:
    """The dossier as a printable page, in Chinese and English."""
    z = d["zone"]
    out = [
        "<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'>",
        f"<title>争议卷宗 Dispute dossier — {_e(z['name'])}</title>",
        "<style>body{font-family:sans-serif;margin:2em;max-width:60em}table{border-collapse:collapse;width:100%}"
        "td,th{border:1px solid #999;padding:.3em;vertical-align:top;font-size:90%}th{background:#eee}"
        "code{font-size:80%;word-break:break-all}h2{border-bottom:2px solid #333}"
        "@media print{h2{page-break-before:auto}}</style></head><body>",
        f"<h1>争议卷宗 Dispute dossier<br>{_e(z['name'])}</h1>",
        f"<p>集聚区 Zone <code>{_e(z['id'])}</code> · 申请单位 Applicant {_e(z['applicant_org'])} · "
        f"状态 Status {_e(z['status_text'])} · 版本 Version {_e(z['version'])}</p>",
    ]
    out += _formal_review_html(d["formal_review"])
    out.append("<h2>公示 Public notices (as published)</h2>")
    for n in d["notices"]:
        head = n["published_under"] or {}
        out += [
            f"<h3>第 {n['number']} 次公示 Notice {n['number']}: {_e(n['starts_on'])} – {_e(n['ends_on'])} "
            f"({_e(n['working_days'])} 个工作日 working days)</h3>",
            f"<pre style='white-space:pre-wrap'>{_e(n['text'])}</pre>",
            f"<p>文本哈希 Text SHA-256 <code>{_e(n['text_sha256'])}</code><br>日历 Calendar {_e(n['calendar'])}"
            f"<br>发布 Published {_e(n['published_at'])} by {_actor(n['published_by'])}<br>"
            f"树头 Tree head: size {_e(head.get('tree_size'))}, root <code>{_e(head.get('root_hash'))}</code>, "
            f"signed {_e(head.get('issued_at'))}</p>",
        ]
    out.append(
        "<h2>异议 Objections</h2><table><tr><th>异议人 Objector</th><th>内容 Text</th><th>证据 Evidence</th>"
        "<th>处理 Resolution</th></tr>"
    )
    channels = {"letter": "来信 letter", "phone": "来电 phone", "visit": "来访 visit", "email": "邮件 email"}
    for o in d["objections"]:
        r = o["resolution"]
        resolution = (
            f"被取代 superseded by {_e(o['superseded_by'])} (upheld)"
            if o["superseded_by"]
            else "待处理 open"
            if r is None
            else (
                f"{_e(r['outcome'])} {_e(r['consequence'] or '')}<br>{_e(r['reasons'])}<br>{_e(r['resolved_at'])} "
                f"by {_actor(r['resolved_by'])}"
            )
        )
        evidence = "<br>".join(f"{_e(x['name'])} <code>{_e(x['sha256'])}</code>" for x in o["evidence"])
        received = (
            f"<br>登记 registered by the bureau: {_e(channels.get(o['channel'], o['channel']))}, received "
            f"{_e(o['received_at'])} ({_actor(o['registered_by'])})"
            if o["channel"]
            else ""
        )
        out.append(
            f"<tr><td>{_objector_html(o)}<br>{_e(o['raised_at'])}{received}</td>"
            f"<td>{_e(o['text'])}</td><td>{evidence}</td><td>{resolution}</td></tr>"
        )
    out.append("</table>")
    out.append(
        "<h2>提请 Recommendations</h2><table><tr><th>#</th><th>类别 Kind</th><th>文件 Document</th>"
        "<th>理由 Reasons</th><th>已审异议 Objections considered</th><th>决定 Decision</th></tr>"
    )
    for n, rec in enumerate(d["recommendations"], 1):
        decision = (
            "待决定 pending"
            if rec["outcome"] is None
            else f"{_e(rec['outcome'])} {_e(rec.get('announcement_no') or '')}<br>{_e(rec.get('decision_reasons'))}"
            f"<br>{_e(rec.get('decided_at'))}"
        )
        out.append(
            f"<tr><td>{n}</td><td>{_e(rec['kind'])}</td><td>{_e(rec['document']['name'])} "
            f"<code>{_e(rec['document']['sha256'])}</code></td><td>{_e(rec['reasons'])}<br>{_e(rec['recommended_at'])}"
            f" by {_actor(rec['recommended_by'])}</td><td>{_e(', '.join(rec['considered']) or '—')}</td>"
            f"<td>{decision}</td></tr>"
        )
    out.append(
        "</table><h2>公告 Announcements</h2><table><tr><th>期 Term</th><th>公告 Announcement</th>"
        "<th>有效期 Valid</th><th>授予 Granted by</th></tr>"
    )
    for a in d["announcements"]:
        how = "" if a["by_announcement"] else " (v1: no announcement date recorded)"
        document = (
            f"<br>{_e(a['document']['name'])} <code>{_e(a['document']['sha256'])}</code>" if a["document"] else ""
        )
        years = f" · {_e(a['term_years'])} 年 years {_e(a['term_reasons'] or '')}" if a["term_years"] else ""
        out.append(
            f"<tr><td>{_e(a['term'])}{' 继续授予 renewal' if a['renewal'] else ''}</td><td>{_e(a['announcement_no'])} "
            f"{_e(a['announced_on'])}{how}{document}</td><td>{_e(a['granted_on'])} – {_e(a['valid_until'])}{years}"
            f"</td><td>{_actor(a['granted_by'])}</td></tr>"
        )
    out.append("</table>")
    r = d["revocation"]
    if r is not None:
        evidence = "<br>".join(f"{_e(x['name'])} <code>{_e(x['sha256'])}</code>" for x in r["evidence"]) or "—"
        c = r["circular"]
        circular = (
            "—"
            if c is None
            else f"{_e(c['number'])}<pre style='white-space:pre-wrap'>{_e(c['text'])}</pre>"
            f"文本哈希 Text SHA-256 <code>{_e(c['text_sha256'])}</code>"
        )
        scope = SCOPES.get(r["scope"], r["scope"]) + ("" if r["scope_recorded"] else " (derived: not recorded)")
        out += [
            "<h2>撤销 Revocation</h2><table>",
            f"<tr><th>理由 Ground</th><td>{_e(r['ground_text'])} <code>{_e(r['ground'])}</code><br>"
            f"{_e(r['details'])}<br>{_e(r['reasons'])}</td></tr>",
            f"<tr><th>范围 Scope</th><td>{_e(scope)}</td></tr>",
            f"<tr><th>证据 Evidence</th><td>{evidence}</td></tr>",
            f"<tr><th>通报 Circular</th><td>{circular}</td></tr>",
            f"<tr><th>决定 Decided</th><td>{_e(r['revoked_on'])} ({_e(r['revoked_at'])}) by "
            f"{_actor(r['revoked_by'])}</td></tr></table>",
        ]
    out.append("<h2>专家评估 Expert assessment</h2>")
    system = d["indicator_system"]
    out.append(
        f"<p>指标体系 Indicator system {_e(system['version'])}, 满分 maximum {_e(system['maximum'])} "
        f"({_e('; '.join(system['discrepancies']))})</p>"
    )
    for r in d["assessments"]:
        conflicts = "; ".join(f"{_e(k)}: {_e(v.get('reason'))}" for k, v in r["conflicts"].items()) or "—"
        out.append(
            f"<h3>第 {r['round']} 轮 Round {r['round']} ({_e(r['state'])})</h3><p>专家 Experts: "
            f"{_e(', '.join(x['sub'] for x in r['experts']))} · 方式 Methods: {_e(', '.join(r['methods']))}"
            f" · 回避 Conflicts: {conflicts}</p>"
        )
        experts = sorted(r["sheets"])
        result = r.get("result") or {}
        out.append(
            "<table><tr><th>#</th>" + "".join(f"<th>{_e(x)}</th>" for x in experts) + "<th>专家组 Panel</th></tr>"
        )
        for n in range(1, 26):
            cells = "".join(f"<td>{_e(r['sheets'][x]['scores'].get(str(n)))}</td>" for x in experts)
            out.append(f"<tr><td>{n}</td>{cells}<td>{_e((result.get('scores') or {}).get(str(n)))}</td></tr>")
        out.append(
            f"</table><p>总分 Total {_e(result.get('total'))} / {_e(result.get('maximum'))} = "
            f"{_e(result.get('percentage'))} · 结论 Passed {_e(result.get('passed'))} · "
            f"{_e(result.get('reasons'))}</p>"
        )
        out += _panel_integrity_html(r, result)
    out.append(
        "<h2>全部记录 Timeline</h2><table><tr><th>#</th><th>时间 At</th><th>事件 Event</th>"
        "<th>操作人 Actor</th><th>理由 Reason</th><th>哈希 Hash</th></tr>"
    )
    for e in d["timeline"]:
        out.append(
            f"<tr><td>{e['seq']}</td><td>{_e(e['at'])}</td><td>{_e(e['type'])}</td><td>{_actor(e['actor'])}"
            f"</td><td>{_e(e['reason'])}</td><td><code>{_e(e['hash'][:16])}…</code></td></tr>"
        )
    cp = d["integrity"]["checkpoint"]
    out += [
        "</table><h2>完整性证明 Integrity</h2>",
        f"<p>签名树头 Signed tree head: size {_e(cp['tree_size'])}, root <code>{_e(cp['root_hash'])}</code>, "
        f"signed {_e(cp['issued_at'])} with key <code>{_e(cp['key_id'])}</code>; signature "
        f"<code>{_e(cp['signature'])}</code>.</p>",
        f"<p>{len(d['integrity']['inclusion_proofs'])} 个包含证明 inclusion proofs (in the JSON dossier). "
        f"{_e(d['integrity']['how_to_check'])}</p>",
        "</body></html>",
    ]
    return "\n".join(out)
