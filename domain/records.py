"""Frozen records (记录) and read-only recorded JSON: what the zone's state is built of, and its plain form."""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import fields
from datetime import date
from types import MappingProxyType
from typing import Any
from typing import TypeVar
from typing import overload

K = TypeVar("K")
V = TypeVar("V")

# A key the state shows only when set: later or optional parts of a record (older events lack them).
OMITTED_WHEN_NONE = MappingProxyType({"omitted_when_none": True})


# Most values in the state are JSON scalars: checking their exact type first keeps replay fast.
SCALARS = frozenset({str, int, float, bool, type(None)})


class JsonObject(Mapping[str, Any]):
    """A recorded JSON object behind a read-only view (so are the objects and arrays inside it)."""

    __slots__ = ("_raw",)

    def __init__(self, raw: dict[str, Any]) -> None:
        self._raw = raw

    def __getitem__(self, key: str) -> Any:
        return frozen(self._raw[key])

    def __iter__(self) -> Iterator[str]:
        return iter(self._raw)

    def __len__(self) -> int:
        return len(self._raw)

    def __contains__(self, key: object) -> bool:
        return key in self._raw

    def __eq__(self, other: object) -> bool:
        return bool(self._raw == (other._raw if isinstance(other, JsonObject) else other))

    def __repr__(self) -> str:
        return repr(self._raw)


class JsonArray(Sequence[Any]):
    """A recorded JSON array behind a read-only view (so are the objects and arrays inside it)."""

    __slots__ = ("_raw",)

    def __init__(self, raw: list[Any]) -> None:
        self._raw = raw

    @overload
    def __getitem__(self, index: int) -> Any: ...

    @overload
    def __getitem__(self, index: slice) -> JsonArray: ...

    def __getitem__(self, index: int | slice) -> Any:
        return JsonArray(self._raw[index]) if isinstance(index, slice) else frozen(self._raw[index])

    def __iter__(self) -> Iterator[Any]:
        return map(frozen, self._raw)

    def __len__(self) -> int:
        return len(self._raw)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, JsonArray):
            return self._raw == other._raw
        return isinstance(other, list | tuple) and self._raw == list(other)

    def __repr__(self) -> str:
        return repr(self._raw)


def frozen(value: Any) -> Any:
    """A recorded JSON value, read-only: objects and arrays behind views (the recorded data is not copied)."""
    if isinstance(value, dict):
        return JsonObject(value)
    if isinstance(value, list):
        return JsonArray(value)
    return value


def mapping(items: Mapping[K, V] | Iterable[tuple[K, V]]) -> Mapping[K, V]:
    """A read-only mapping of ``items``, in their order."""
    return MappingProxyType(dict(items))


def with_item(m: Mapping[K, V], key: K, value: V) -> Mapping[K, V]:
    """``m`` with ``key`` set to ``value`` (a key already there keeps its place)."""
    return MappingProxyType({**m, key: value})


def as_plain(value: Any) -> Any:
    """State as plain JSON-like values: records and mappings become dicts, tuples lists, days ISO dates.

    Recorded JSON is shown as recorded, shared rather than copied: nothing changes it (the state holds
    it behind read-only views), and what is shown is serialized. ``Zone.state()`` is a copy.
    """
    kind = type(value)
    if kind in SCALARS:
        return value
    if kind is JsonObject or kind is JsonArray:
        return value._raw
    if kind is tuple:
        return [v if type(v) in SCALARS else as_plain(v) for v in value]
    if isinstance(value, Record):
        return value.as_dict()
    if isinstance(value, Mapping):
        return {k: v if type(v) in SCALARS else as_plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_plain(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    return value


def day(text: str) -> date:
    """A recorded ISO date."""
    return date.fromisoformat(text)


@dataclass(frozen=True, kw_only=True)
class Record:
    """A frozen piece of the zone's state, shown as a plain dict."""

    # Fields are declared in the order the state has always shown them: an event's data keys as
    # recorded (sorted), then what the event adds.

    def as_dict(self) -> dict[str, Any]:
        """The record as plain values."""
        out = {}
        for name, omitted_when_none in _shown(type(self)):
            value = getattr(self, name)
            if value is not None or not omitted_when_none:
                out[name] = value if type(value) in SCALARS else as_plain(value)
        return out


_SHOWN: dict[type[Record], tuple[tuple[str, bool], ...]] = {}


def _shown(cls: type[Record]) -> tuple[tuple[str, bool], ...]:
    """A record class's field names, each with whether it is omitted when None (looked up once)."""
    if cls not in _SHOWN:
        _SHOWN[cls] = tuple((f.name, bool(f.metadata.get("omitted_when_none"))) for f in fields(cls))
    return _SHOWN[cls]
