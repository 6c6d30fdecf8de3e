"""The checks every request's values pass at the door: text the domain accepts, JSON numbers, days in range."""

from __future__ import annotations

from datetime import date
from datetime import datetime
from typing import Annotated
from typing import Any

from pydantic import AfterValidator
from pydantic import AwareDatetime
from pydantic import BeforeValidator

from domain.intake import EARLIEST
from domain.intake import LATEST
from domain.intake import unprintable


def _a_number(value: Any) -> Any:
    """JSON numbers only: ``true`` or ``"12000000000"`` is not a number (pydantic's lax mode takes both)."""
    if isinstance(value, (bool, str, bytes)):
        raise ValueError("a JSON number is required, not true/false or text")
    return value


def _in_range(value: Any) -> Any:
    """Instants and days within the years the service computes with (deadlines years ahead must not overflow)."""
    day = value.date() if isinstance(value, datetime) else value
    if not EARLIEST <= day <= LATEST:
        raise ValueError(f"must lie between {EARLIEST.isoformat()} and {LATEST.isoformat()}")
    return value


Number = BeforeValidator(_a_number)
Day = Annotated[date, AfterValidator(_in_range)]
Instant = Annotated[AwareDatetime, AfterValidator(_in_range)]


def printable(value: Any) -> Any:
    """``value`` unless a text in it (a string, a list item, a mapping key) breaks the domain's one rule on text."""
    for text in _texts(value):
        if (found := unprintable(text)) is not None:
            raise ValueError(f"text must not contain control characters or bidirectional controls ({found})")
    return value


def _texts(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in _texts(v)]
    if isinstance(value, dict):
        return [t for k, v in value.items() for t in (*_texts(k), *_texts(v))]
    return []
