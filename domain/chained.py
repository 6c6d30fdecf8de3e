"""The base of every aggregate here: events that carry who, why and what, chained by SHA-256."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from typing import TYPE_CHECKING
from typing import Any
from typing import TypeVar
from typing import cast
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.errors import InvalidValueError
from domain.integrity import GENESIS_HASH
from domain.integrity import HASH_SCHEME
from domain.integrity import event_hash
from domain.integrity import plain
from domain.integrity import recorded
from domain.integrity import values_of
from domain.values import Actor

T = TypeVar("T", bound="Chained")

Data = dict[str, Any]  # an event's recorded data: JSON values, as they read back from the store


def topic_of(cls: type) -> str:
    """The topic the event store records for a class (module:qualified name)."""
    return f"{cls.__module__}:{cls.__qualname__}"


def body_of(actor: Actor, reason: str, data: dict[str, Any], prev_hash: str, **extra: Any) -> dict[str, Any]:
    """What an event records besides its identity and time, as it will read back from the store (no float:
    the current hash scheme records each as a decimal string, read back as a float by ``apply``)."""
    body = {"actor": actor.as_dict(), "reason": reason, "data": data, "prev_hash": prev_hash, **extra}
    try:
        return cast(dict[str, Any], {**recorded(plain(body)), "hash_scheme": HASH_SCHEME})
    except (TypeError, ValueError) as e:  # only JSON values are recorded
        raise InvalidValueError(f"A value cannot be recorded: {e}") from None


class Chained(Aggregate):
    """An aggregate whose events each store their predecessor's hash and their own."""

    class Event(Aggregate.Event):
        """Every event: who, why, what, and its place in the hash chain."""

        actor: dict[str, Any]
        reason: str
        data: dict[str, Any]
        prev_hash: str
        hash: str
        hash_scheme: str | None = None  # None: stored before the scheme was recorded (docs/record-format.md)

        @property
        def values(self) -> Data:
            """The data as the values it records (a recorded decimal read back as a float)."""
            return cast(Data, values_of(self.data, self.hash_scheme))

        def apply(self, aggregate: Any) -> None:
            aggregate.last_hash = self.hash
            self.assign(aggregate, self.values)

        def assign(self, aggregate: Any, d: Data) -> None:
            """Sets the state this event implies (overridden per event)."""

    if TYPE_CHECKING:  # set by the events' apply (a class annotation would become a dataclass field)
        last_hash: str

    @classmethod
    def _start(
        cls: type[T],
        created: type[Any],
        *,
        aggregate_id: UUID,
        actor: Actor,
        at: datetime,
        reason: str = "",
        **data: Any,
    ) -> T:
        """Records the first event of a new aggregate."""
        at = at.astimezone(UTC)
        body = body_of(actor, reason, data, GENESIS_HASH, originator_topic=topic_of(cls))
        digest = event_hash(topic_of(created), aggregate_id, 1, at, body)
        return cls._create(created, id=aggregate_id, timestamp=at, hash=digest, **body)

    def _record(self, event_class: type[Any], *, actor: Actor, at: datetime, reason: str = "", **data: Any) -> None:
        """Records the next event, chained to the last one."""
        at = at.astimezone(UTC)
        body = body_of(actor, reason, data, self.last_hash)
        digest = event_hash(topic_of(event_class), self.id, self.version + 1, at, body)
        self.trigger_event(event_class, timestamp=at, hash=digest, **body)
