"""The deadline calendar (期限): terms, annual report dates, and the deadlines a zone's history implies."""

from __future__ import annotations

from collections.abc import Collection
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import timedelta
from typing import Any

from domain.policy import Policy
from domain.state import ZoneState
from domain.state_term import Rectification
from domain.state_term import Term
from domain.values import add_months
from domain.values import add_years
from domain.values import day_after
from domain.values import local_date
from domain.values import start_of_day


@dataclass(frozen=True, kw_only=True)
class Deadline:
    """A deadline the history implies, recorded or not."""

    # day: the date in the rule; fires_on: the day it becomes due; due_at: that day's start in
    # Asia/Shanghai, as a UTC instant; year or term: what it concerns.

    kind: str
    key: str
    day: date
    fires_on: date
    due_at: datetime
    recorded: bool
    year: int | None = None
    term: int | None = None

    def event_data(self, at: datetime) -> dict[str, Any]:
        """What the deadline's event records when the scheduler records it at ``at``."""
        recorded_at = at.astimezone(UTC)
        data: dict[str, Any] = {
            "kind": self.kind,
            "key": self.key,
            "due_on": self.day.isoformat(),
            "due_at": self.due_at.isoformat(),
            "recorded_at": recorded_at.isoformat(),
            "lag_seconds": max(0, int((recorded_at - self.due_at).total_seconds())),
        }
        if self.year is not None:
            data["year"] = self.year
        return data


def new_term(number: int, start: date, policy: Policy, *, announcement_no: str, years: int | None = None) -> Term:
    """A term of the title from ``start`` through the day before the same date ``years`` (by default the
    policy's ``term_years``) later (2026-10-13 → last day 2029-10-12, expiry 2029-10-13); the review window
    opens the policy's months before the expiry."""
    expires = add_years(start, policy.term_years if years is None else years)
    return Term(
        announcement_no=announcement_no,
        expires_on=expires,
        granted_on=start,
        number=number,
        review_window_opens_on=add_months(expires, -policy.review_window_months),
        valid_until=expires - timedelta(days=1),
    )


def held_years(terms: Sequence[Term]) -> list[int]:
    """Calendar years in which the title was held (each owes an annual report by January 31 after)."""
    years: set[int] = set()
    for t in terms:
        years.update(range(t.granted_on.year, t.valid_until.year + 1))
    return sorted(years)


def report_due_on(year: int, policy: Policy) -> date:
    """The last day to file the report on ``year`` (January 31 of the year after)."""
    return date(year + 1, policy.annual_report_month, policy.annual_report_day)


def implied(zone: ZoneState, policy: Policy) -> list[Deadline]:
    """Every deadline the history implies and has not made moot, recorded or not, in due order."""
    if zone.status == "revoked":
        return []
    recorded = set(zone.deadlines_recorded)
    found: list[Deadline] = []
    if zone.status == "in_notice" and zone.notice is not None:
        key = f"notice_ended:{zone.notice.number}"
        found.append(_deadline("notice_ended", key, zone.notice.ends_on, recorded))
    for year in held_years(zone.terms):
        if str(year) not in zone.annual_reports:
            key = f"annual_report_overdue:{year}"
            found.append(_deadline("annual_report_overdue", key, report_due_on(year, policy), recorded, year=year))
    current = zone.current_term
    if current is not None and zone.status == "granted":
        key = f"review_window_opened:{current.number}"
        day = current.review_window_opens_on
        found.append(_deadline("review_window_opened", key, day, recorded, opens=True, term=current.number))
    # the title stays in force while a timely review is pending, or passed and awaiting its renewal (§6.4)
    if current is not None and zone.status in ("granted", "in_review", "rectifying", "review_passed", "recommended"):
        key = f"title_expired:{current.number}"
        if current.expires_on is not None:  # the title expires at the start of the day after the last day
            found.append(_deadline("title_expired", key, current.expires_on, recorded, opens=True, term=current.number))
        else:  # a term recorded before v2: due, as then, at the end of its valid_until
            found.append(_deadline("title_expired", key, current.valid_until, recorded, term=current.number))
    rectification = zone.review.rectification if zone.review is not None else None
    if zone.status == "rectifying" and rectification is not None:
        key = _rectification_key(rectification)
        found.append(_deadline("rectification_overdue", key, rectification.due_on, recorded))
    period = zone.creation_period
    if period.ends_on is not None and not zone.terms and zone.status not in CREATION_CLOSED:
        key = creation_period_key(period.ends_on)
        found.append(_deadline("creation_period_ended", key, period.ends_on, recorded))
    return sorted(found, key=lambda d: (d.due_at, d.key))


# A case that ended so: no creation period runs on to end (revoked zones imply no deadline at all).
CREATION_CLOSED = ("rejected", "not_passed", "revoked")


def creation_period_key(ends_on: date) -> str:
    """The key of the deadline the creation period's last day sets (a new last day, a new deadline)."""
    return f"creation_period_ended:{ends_on.isoformat()}"


def creation_period_bounds(accepted_on: date, end_year: int, years: int) -> tuple[date, date]:
    """The creation period an approval to start on ``accepted_on`` opens: from that day to the last day of the
    call's period (first batch 2021–2023 → 2023-12-31; it starts with the approval, whatever year the call names
    first) — or, when the call's period has ended by then, for
    ``years`` years less a day (§1.1: 创建期限为3年; 2024-03-11 → 2027-03-10)."""
    call_end = date(end_year, 12, 31)
    if accepted_on <= call_end:
        return accepted_on, call_end
    return accepted_on, add_years(accepted_on, years) - timedelta(days=1)


def rectification_lapsed(zone: ZoneState) -> bool:
    """Whether the rectification period ended with nothing submitted: its overdue deadline is recorded."""
    rectification = zone.review.rectification if zone.review is not None else None
    if zone.status != "rectifying" or rectification is None:
        return False
    return _rectification_key(rectification) in zone.deadlines_recorded


def _rectification_key(rectification: Rectification) -> str:
    return f"rectification_overdue:{rectification.ordered_on.isoformat()}"


def due(zone: ZoneState, at: datetime, policy: Policy) -> list[Deadline]:
    """The deadlines the history has made due by ``at`` and not yet recorded, in due order."""
    today = local_date(at)
    return [d for d in implied(zone, policy) if d.fires_on <= today and not d.recorded]


def _deadline(
    kind: str,
    key: str,
    day: date,
    recorded: Collection[str],
    *,
    opens: bool = False,
    year: int | None = None,
    term: int | None = None,
) -> Deadline:
    # A window opens (and a title expires) at the start of its day; the others pass at the end of theirs.
    fires_on = day if opens else day_after(day)
    return Deadline(
        kind=kind,
        key=key,
        day=day,
        fires_on=fires_on,
        due_at=start_of_day(fires_on),
        recorded=key in recorded,
        year=year,
        term=term,
    )
