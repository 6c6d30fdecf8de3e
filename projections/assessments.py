"""Assessment scores: each panel round, each expert's sheet, conflicts and the panel result."""

from __future__ import annotations

import json
from typing import Any

from application.representation import conclusion_figures
from domain.records import as_plain
from domain.zone import Zone
from projections.base import ZoneStateProjection
from projections.storage import Tx
from projections.storage import ViewSpec
from projections.storage import dumps


def rounds_of(zone: Zone) -> list[dict[str, Any]]:
    """The concluded rounds, and the open one if a panel is at work."""
    rounds = [
        {
            "round": a.round,
            "state": "concluded",
            "experts": as_plain(a.experts),
            "methods": as_plain(a.methods),
            "appointed_at": a.appointed_at,
            "appointed_by": as_plain(a.appointed_by),
            "conflicts": as_plain(a.conflicts) if a.conflicts is not None else {e: {} for e in a.conflicted},
            "sheets": {
                s: {"scores": as_plain(scores), **as_plain(a.filed or {}).get(s, {})} for s, scores in a.sheets.items()
            },
            "result": {
                **as_plain(a.result),
                "passed": a.passed,
                "report": as_plain(a.report),
                "reasons": a.reasons,
                "counted": as_plain(a.counted),
                **conclusion_figures(a),
            },
            **({} if a.recusals is None else {"recusals": as_plain(a.recusals)}),
        }
        for a in zone.assessments
    ]
    panel = zone.panel
    if panel is not None and panel.round not in {r["round"] for r in rounds}:
        rounds.append(
            {
                "round": panel.round,
                "state": "open",
                "experts": as_plain(panel.experts),
                "methods": as_plain(panel.methods),
                "appointed_at": panel.appointed_at,
                "appointed_by": as_plain(panel.appointed_by),
                "conflicts": as_plain(panel.conflicts),
                "sheets": as_plain(panel.sheets),
                "result": None,
                **({} if panel.recusals is None else {"recusals": as_plain(panel.recusals)}),
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
