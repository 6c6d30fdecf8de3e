"""The zone's state (案件状态): what its events set, as frozen records shown as plain values."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from domain.state_assessment import Assessment
from domain.state_assessment import Panel
from domain.state_case import CreationPeriod
from domain.state_case import Document
from domain.state_case import FormalDecision
from domain.state_case import Plan
from domain.state_case import SelfAssessment
from domain.state_case import Site
from domain.state_creation import AssessmentRequest
from domain.state_creation import ProgressReport
from domain.state_creation import Supervision
from domain.state_term import AnnualReport
from domain.state_term import Notice
from domain.state_term import Objection
from domain.state_term import Recommendation
from domain.state_term import Review
from domain.state_term import Revocation
from domain.state_term import Term


class ZoneState:
    """The whole state of a zone as its events set it (a mixin: its annotations and a new zone's defaults)."""

    # In the order Zone.state() shows it. What a new zone has not had yet defaults on the class:
    # the values are frozen, so every zone can share them.
    name: str
    status: str
    applicant_org: str
    area_type: str
    sites: tuple[Site, ...]
    batch: str
    creation_period: CreationPeriod
    materials: tuple[Document, ...]
    self_assessment: SelfAssessment
    plan: Plan
    indicator_system: str
    applied_on: str
    formal_decision: FormalDecision | None = None
    progress_reports: tuple[ProgressReport, ...] = ()
    supervisions: tuple[Supervision, ...] = ()
    assessment_requests: tuple[AssessmentRequest, ...] = ()
    panel: Panel | None = None
    assessment: Assessment | None = None
    assessments: tuple[Assessment, ...] = ()
    notice: Notice | None = None
    notices: tuple[Notice, ...] = ()
    objections: Mapping[str, Objection] = MappingProxyType({})
    recommendations: tuple[Recommendation, ...] = ()
    terms: tuple[Term, ...] = ()
    annual_reports: Mapping[str, AnnualReport] = MappingProxyType({})
    review: Review | None = None
    reviews: tuple[Review, ...] = ()
    deadlines_recorded: tuple[str, ...] = ()
    revocation: Revocation | None = None
    last_hash: str

    @property
    def current_term(self) -> Term | None:
        """The term in force (or the last one), or None before the first grant."""
        return self.terms[-1] if self.terms else None

    @property
    def recommendation(self) -> Recommendation | None:
        """The bureau's latest recommendation (提请), decided or not, or None if it has made none."""
        return self.recommendations[-1] if self.recommendations else None

    @property
    def assessment_request(self) -> AssessmentRequest | None:
        """The latest assessment application (评估申请), or None."""
        return self.assessment_requests[-1] if self.assessment_requests else None
