"""Assessment scores: each panel round, each expert's sheets and the panel result."""

from __future__ import annotations

import json
from typing import Any

from domain.zone import Zone
from projections.base import Tx, ViewProjection, ViewSpec, dumps


class AssessmentsProjection(ViewProjection):
    """``GET /zones/{id}/assessment``."""

    spec = ViewSpec(
        name="view_assessments",
        tables={
            "view_assessments": "zone_id TEXT, round INTEGER, state TEXT, appointed_at TEXT, document TEXT, "
            "PRIMARY KEY (zone_id, round)",
        },
    )

    def handle(self, event: Any, tx: Tx) -> None:
        if not isinstance(event, Zone.Event):
            return
        zone_id, d = str(event.originator_id), event.data
        if isinstance(event, Zone.PanelAppointed):
            tx.execute(
                "UPDATE {view_assessments} SET state = 'superseded' WHERE zone_id = %s AND state = 'open'", (zone_id,)
            )
            doc = {
                "round": d["round"],
                "experts": d["experts"],
                "methods": d["methods"],
                "conflicts": {},
                "sheets": {},
                "filings": [],
                "result": None,
                "appointed_by": event.actor,
                "appointed_at": event.timestamp.isoformat(),
            }
            tx.execute(
                "INSERT INTO {view_assessments} (zone_id, round, state, appointed_at, document) "
                "VALUES (%s, %s, 'open', %s, %s) ON CONFLICT (zone_id, round) DO NOTHING",
                (zone_id, d["round"], event.timestamp.isoformat(), dumps(doc)),
            )
        elif isinstance(event, (Zone.ConflictDeclared, Zone.ScoresFiled, Zone.Assessed)):
            row = tx.one(
                "SELECT round, document FROM {view_assessments} WHERE zone_id = %s AND state = 'open'", (zone_id,)
            )
            if row is None:
                return
            doc = json.loads(row["document"])
            state = "open"
            if isinstance(event, Zone.ConflictDeclared):
                doc["conflicts"][d["expert"]] = {"reason": event.reason, "declared_at": d["declared_at"]}
            elif isinstance(event, Zone.ScoresFiled):
                doc["sheets"][d["expert"]] = {
                    "scores": d["scores"],
                    "comment": d["comment"],
                    "filed_at": d["filed_at"],
                    "indicator_system": d["indicator_system"],
                }
                doc["filings"].append({"expert": d["expert"], "filed_at": d["filed_at"], "scores": d["scores"]})
            else:
                state = "concluded"
                doc["result"] = {
                    **d["result"],
                    "passed": d["passed"],
                    "report": d["report"],
                    "reasons": event.reason,
                    "counted": d["counted"],
                    "conflicted": d["conflicted"],
                    "concluded_by": event.actor,
                    "concluded_at": event.timestamp.isoformat(),
                }
            tx.execute(
                "UPDATE {view_assessments} SET state = %s, document = %s WHERE zone_id = %s AND round = %s",
                (state, dumps(doc), zone_id, row["round"]),
            )


def zone_assessments(tx: Tx, zone_id: str) -> list[dict[str, Any]]:
    """Every panel round of a zone, oldest first."""
    rows = tx.all("SELECT state, document FROM {view_assessments} WHERE zone_id = %s ORDER BY round", (zone_id,))
    return [{"state": r["state"], **json.loads(r["document"])} for r in rows]
