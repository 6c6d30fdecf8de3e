"""Read models projected from the event log: one view per question the API answers."""

from __future__ import annotations

from projections.assessments import AssessmentsProjection
from projections.base import ViewProjection
from projections.deadlines import DeadlinesProjection
from projections.history import HistoryProjection
from projections.notices import NoticesProjection
from projections.zones import ZonesProjection

VIEWS: dict[str, type[ViewProjection]] = {
    "zones": ZonesProjection,
    "history": HistoryProjection,
    "assessments": AssessmentsProjection,
    "deadlines": DeadlinesProjection,
    "notices": NoticesProjection,
}
