"""The scenario vocabulary shared by the tests: the package's sample cases, and a zone's stored history."""

from __future__ import annotations

from typing import Any

from application.sample import ANNUAL_STATISTICS
from application.sample import ASSESSMENT_STATISTICS
from application.sample import BUREAU
from application.sample import EXPERTS
from application.sample import FIRST_BATCH_MATERIALS
from application.sample import FULL_MATERIALS
from application.sample import GOOD_PLAN
from application.sample import GOOD_STATISTICS
from application.sample import LEADING
from application.sample import NANCHENG
from application.sample import PUBLIC
from application.sample import SONGSHAN
from application.sample import at
from application.sample import doc
from application.sample import file_first_batch
from application.sample import full_scores
from domain.objectors import Objector
from domain.values import Actor


def objector(name: str, contact: str) -> Objector:
    """An objector as the aggregate takes them, with a salt and reference fixed by the name (tests only: the service
    draws both at random)."""
    import hashlib

    return Objector.given(name, contact, salt=hashlib.sha256(f"{name}|{contact}".encode()).digest(), ref=f"ref-{name}")


OTHER_TOWN = Actor("u-ch", "applicant", "changan", "Chang'an IT office")
INSPECTOR = Actor("u-insp", "inspector", "dg-audit", "Inspector")
OUTSIDER_EXPERT = Actor("u-exp9", "expert", "univ-9", "Expert 9")
# experts the bureau adds to a sitting panel (增补专家) when conflicts or recusals leave too few
RESERVE_EXPERTS = [Actor(f"u-exp{i}", "expert", f"univ-{i}", f"Expert {i}") for i in (4, 5)]

__all__ = [
    "ANNUAL_STATISTICS",
    "ASSESSMENT_STATISTICS",
    "BUREAU",
    "CIRCULAR",
    "EXPERTS",
    "FIRST_BATCH_MATERIALS",
    "FULL_MATERIALS",
    "GOOD_PLAN",
    "GOOD_STATISTICS",
    "INSPECTOR",
    "LEADING",
    "NANCHENG",
    "OTHER_TOWN",
    "OUTSIDER_EXPERT",
    "PUBLIC",
    "RESERVE_EXPERTS",
    "SONGSHAN",
    "admit",
    "at",
    "doc",
    "event_history",
    "file_first_batch",
    "full_scores",
    "objector",
    "revocation",
]

CIRCULAR = {"number": "东工信通〔2022〕5号", "text": "关于撤销松山湖软件和信息技术服务业集聚区称号的通报"}


def revocation(reason: str = "fraud", details: str = "Falsified statistics (§6.6).", **extra: Any) -> dict[str, Any]:
    """A revocation on §6.6's grounds as the bureau gives it: the ground, its details, the evidence, the circular."""
    return {
        "reason": reason,
        "details": details,
        "evidence": [doc("statistics-audit.pdf")],
        "circular": CIRCULAR,
        **extra,
    }


def admit(app: Any, zone_id: Any, actor: Actor = SONGSHAN) -> Any:
    """The applicant files its assessment application (评估申请) and the bureau accepts it (受理), at the clock's
    now: the zone is then ready for its panel."""
    app.request_assessment(
        zone_id,
        actor,
        summary="创建目标已达成，申请评估。",
        statistics=ASSESSMENT_STATISTICS,
        documents=[doc("assessment-application.pdf")],
    )
    return app.decide_assessment_request(zone_id, BUREAU, outcome="accepted", reasons="材料齐全，予以受理。")


def event_history(app: Any, zone_id: Any) -> list[dict[str, Any]]:
    """Every stored event of a zone in order: seq, type, time, actor, reason, data and hash links."""
    return [
        {
            "seq": e.originator_version,
            "type": type(e).__name__,
            "at": e.timestamp.isoformat(),
            "actor": e.actor,
            "reason": e.reason,
            "data": e.data,
            "hash": e.hash,
            "prev_hash": e.prev_hash,
        }
        for e in app.events.get(zone_id)
    ]
