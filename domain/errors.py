"""The domain's errors: each has a stable ``code`` and a sentence an officer understands."""

from __future__ import annotations

from typing import Any


class ZoneError(Exception):
    """A command the zone's rules refuse; nothing was recorded."""

    code = "zone_error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class IllegalTransitionError(ZoneError):
    """The zone's history does not allow this step now."""

    code = "illegal_transition"


class DeadlinePassedError(ZoneError):
    """The period in which this step was allowed has ended."""

    code = "deadline_passed"


class TooEarlyError(ZoneError):
    """The period in which this step is allowed has not begun."""

    code = "too_early"


class ConditionsNotMetError(ZoneError):
    """Formal acceptance refused: materials incomplete or a basic condition fails."""

    code = "conditions_not_met"


class NotPermittedError(ZoneError):
    """The acting person's role or organisation may not take this step."""

    code = "forbidden"


class NotOnPanelError(NotPermittedError):
    """The expert is not on this zone's assessment panel."""

    code = "not_on_panel"


class ConflictOfInterestError(NotPermittedError):
    """The expert declared a conflict of interest and may not score."""

    code = "conflict_of_interest"


class InvalidValueError(ZoneError):
    """A value given with the command is malformed or out of range."""

    code = "validation_failed"

    def __init__(self, message: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message, errors=errors or [{"loc": [], "msg": message}])
        self.errors = errors or [{"loc": [], "msg": message}]


class ObjectionOpenError(IllegalTransitionError):
    """An objection to the zone's notice is still open: nothing may be recommended or granted over it."""

    code = "objection_open"


class AlreadyRecordedError(IllegalTransitionError):
    """A deadline event this zone already has; recording it again would count it twice."""

    code = "already_recorded"


class OutOfOrderError(IllegalTransitionError):
    """The step is dated before the zone's latest recorded step."""

    code = "out_of_order"


class ZoneNotFoundError(ZoneError):
    """No zone with this id exists (or existed at the instant asked about)."""

    code = "not_found"


class VersionConflictError(ZoneError):
    """The zone moved on: it is no longer at the version the caller expected."""

    code = "version_conflict"


class DuplicateApplicationError(ZoneError):
    """The organisation already holds an open case in this call for applications."""

    code = "duplicate_application"


class AlreadyExistsError(ZoneError):
    """A record with this id exists already (a second one would stand for the first)."""

    code = "already_exists"


class CallNotFoundError(ZoneNotFoundError):
    """No call for applications with this id has been published."""

    code = "not_found"


class CalendarDataMissingError(ZoneError):
    """The working-day calendar has no data for a date needed to count a period."""

    code = "calendar_data_missing"


# --- assessment: panel integrity (v2) ---------------------------------------------------------------


class PanelTooSmallError(IllegalTransitionError):
    """Too few unconflicted experts have scored to conclude: the bureau must add members first."""

    code = "panel_too_small"


class ExpertNotOnPanelError(IllegalTransitionError):
    """The expert the bureau names is not on this zone's assessment panel."""

    code = "expert_not_on_panel"


class AlreadyOnPanelError(IllegalTransitionError):
    """An expert the bureau would add is on the panel already."""

    code = "already_on_panel"


class AlreadyRecusedError(IllegalTransitionError):
    """The expert is recused already, or declared a conflict: they do not score either way."""

    code = "already_recused"


class ExpertRecusedError(ConflictOfInterestError):
    """The bureau recused the expert (回避); they may not score."""

    code = "expert_recused"


class ExpertFromApplicantError(NotPermittedError):
    """The expert belongs to the applicant organisation and may not assess its zone."""

    code = "expert_from_applicant"


# --- objectors' personal data (PIPL) ----------------------------------------------------------------


class ObjectorNotErasableError(IllegalTransitionError):
    """The objection was recorded with the objector's name in the event (before v3): the record keeps it."""

    code = "objector_not_erasable"


class AlreadyErasedError(IllegalTransitionError):
    """The objector's personal data has been erased already."""

    code = "already_erased"
