"""Assessment scores: each panel round, each expert's sheet, conflicts and the panel result."""

from __future__ import annotations

import json
from typing import Any

from domain.zone import Zone
from projections.base import ZoneStateProjection
from projections.storage import Tx, ViewSpec, dumps


def rounds_of(zone: Zone) -> list[dict[str, Any]]:
    """The concluded rounds, and the open one if a panel is at work."""
    rounds = [
        {
            "round": a["round"],
            "state": "concluded",
            "experts": a["experts"],
            "methods": a["methods"],
            "appointed_at": a.get("appointed_at"),
            "appointed_by": a.get("appointed_by"),
            "conflicts": a.get("conflicts", {e: {} for e in a["conflicted"]}),
            "sheets": {s: {"scores": scores, **a.get("filed", {}).get(s, {})} for s, scores in a["sheets"].items()},
            "result": {
                **a["result"],
                "passed": a["passed"],
                "report": a["report"],
                "reasons": a["reasons"],
                "counted": a["counted"],
            },
        }
        for a in zone.assessments
    ]
    panel = zone.panel
    if panel is not None and panel["round"] not in {r["round"] for r in rounds}:
        rounds.append(
            {
                "round": panel["round"],
                "state": "open",
                "experts": panel["experts"],
                "methods": panel["methods"],
                "appointed_at": panel.get("appointed_at"),
                "appointed_by": panel.get("appointed_by"),
                "conflicts": panel["conflicts"],
                "sheets": panel["sheets"],
                "result": None,
            }
        )
    return rounds


class AssessmentsProjection(ZoneStateProjection):
    """``GET /zones/{id}/assessment``."""

    spec = ViewSpec(
        name="view_assessments",
        tables={
            "view_assessments": "zone_id TEXT, round INTEGER, state TEXT, document TEXT, PRIMARY KEY (zone_id, round)",
        },
    )

    def write_zones(self, tx: Tx, zones: list[Zone]) -> None:
        assessed = [(z, rounds_of(z)) for z in zones if z.panel is not None or z.assessments]
        tx.replace_rows(
            "view_assessments",
            "zone_id",
            [str(z.id) for z, _ in assessed],
            ("zone_id", "round", "state", "document"),
            [(str(z.id), r["round"], r["state"], dumps(r)) for z, rounds in assessed for r in rounds],
        )


def zone_assessments(tx: Tx, zone_id: str) -> list[dict[str, Any]]:
    """Every panel round of a zone, oldest first."""
    rows = tx.all("SELECT document FROM {view_assessments} WHERE zone_id = %s ORDER BY round", (zone_id,))
    return [json.loads(r["document"]) for r in rows]
