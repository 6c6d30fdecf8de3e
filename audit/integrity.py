"""Verifies the stored events themselves: every hash recomputed, every link to the predecessor checked."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import StoredEvent

from domain.integrity import GENESIS_HASH
from domain.integrity import UnknownHashSchemeError
from domain.integrity import event_hash


@dataclass
class Problem:
    """One stored event that fails verification."""

    originator_id: str
    originator_version: int
    problem: str
    position: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """As returned by ``/audit/verify``."""
        where = {"position": self.position, "zone_id": self.originator_id, "seq": self.originator_version}
        return {**where, "problem": self.problem}


@dataclass
class Verification:
    """The outcome: ok, how many events were checked, and the problems in log order."""

    events_checked: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether every event verified."""
        return not self.problems

    @property
    def first_bad(self) -> dict[str, Any] | None:
        """The first event that failed, or None."""
        return self.problems[0].as_dict() if self.problems else None


class StreamChain:
    """Walks one zone's stream in version order."""

    def __init__(self) -> None:
        self.version = 0
        self.hash = GENESIS_HASH

    def check(self, app: Application[UUID], stored: StoredEvent) -> str | None:
        """The problem with the next stored event of the stream, or None (``self.state``: its decoded state)."""
        problem = None
        self.state: dict[str, Any] | None = None
        try:
            state: dict[str, Any] = app.mapper.transcoder.decode(stored.state)
            body = {k: v for k, v in state.items() if k not in ("hash", "timestamp")}
            recomputed = event_hash(
                stored.topic, _uuid(stored.originator_id), stored.originator_version, state["timestamp"], body
            )
            recorded, prev = state["hash"], state["prev_hash"]
            self.state = state
        except UnknownHashSchemeError as e:
            recorded = prev = recomputed = None
            problem = f"{e} (the event was altered, or recorded by newer code)"
        except Exception as e:  # a flipped byte may leave no readable event at all
            recorded = prev = recomputed = None
            problem = f"the stored event cannot be read ({type(e).__name__})"
        if problem is None and stored.originator_version != self.version + 1:
            problem = (
                f"expected event {self.version + 1} of this zone, found {stored.originator_version} "
                "(an event is missing)"
            )
        elif problem is None and prev != self.hash:
            problem = "its prev_hash does not match the hash of the event before it"
        elif problem is None and recomputed != recorded:
            problem = "its content does not match its recorded hash (the event was altered)"
        self.version = stored.originator_version
        self.hash = recorded if isinstance(recorded, str) else ""
        return problem


def _uuid(value: Any) -> UUID:
    return value if isinstance(value, UUID) else UUID(str(value))


def verify_zone(app: Application[UUID], zone_id: UUID) -> Verification:
    """Checks one zone's stored stream, event by event."""
    result = Verification()
    chain = StreamChain()
    for stored in app.recorder.select_events(zone_id):
        result.events_checked += 1
        problem = chain.check(app, stored)
        if problem:
            result.problems.append(Problem(str(zone_id), stored.originator_version, problem))
    return result


def verify_store(app: Application[UUID], page: int = 1000) -> Verification:
    """Checks every stored event of every zone, in log order (memory grows with zones, not events)."""
    result = Verification()
    chains: dict[UUID, StreamChain] = {}
    start = 1
    while True:
        notifications = app.recorder.select_notifications(start=start, limit=page)
        for n in notifications:
            result.events_checked += 1
            chain = chains.setdefault(_uuid(n.originator_id), StreamChain())
            problem = chain.check(app, n)
            if problem:
                result.problems.append(Problem(str(n.originator_id), n.originator_version, problem, position=n.id))
        if len(notifications) < page:
            return result
        start = notifications[-1].id + 1
