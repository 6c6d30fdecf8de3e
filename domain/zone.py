"""The Zone aggregate (集聚区): one designation case, from application to grant, review or revocation."""

from __future__ import annotations

from domain.zone_application import ApplicationActs
from domain.zone_assessment import AssessmentActs
from domain.zone_creation import CreationActs
from domain.zone_grant import GrantActs
from domain.zone_notice import NoticeActs
from domain.zone_term import TermActs


class Zone(ApplicationActs, CreationActs, AssessmentActs, NoticeActs, GrantActs, TermActs):
    """A software and IT services industry cluster zone's designation case.

    Its events and state are declared once in ``ZoneRecord``; each base adds the acts of one stage of the
    process. eventsourcing redefines every event on this class, so the stored topics read ``domain.zone:Zone.…``.
    """
