"""Clocks: the domain never reads the time itself; the application is handed one of these."""

from __future__ import annotations

import threading
from datetime import UTC
from datetime import datetime
from typing import Protocol


class Clock(Protocol):
    """Gives the current instant (timezone-aware, UTC)."""

    def now(self) -> datetime:
        """The current instant."""
        ...


class SystemClock:
    """The machine's clock."""

    def now(self) -> datetime:
        """The current instant."""
        return datetime.now(UTC)


class SettableClock:
    """A clock tests and demos set (``ZONECASE_ALLOW_TIME_TRAVEL``); it stands still until moved."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = (start or datetime.now(UTC)).astimezone(UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """The instant the clock was last set to."""
        with self._lock:
            return self._now

    def set(self, instant: datetime) -> None:
        """Moves the clock to ``instant``."""
        if instant.tzinfo is None:
            raise ValueError("an instant needs a time zone offset")
        with self._lock:
            self._now = instant.astimezone(UTC)
