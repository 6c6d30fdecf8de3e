"""The sweeps' ``--now``: run as at a given instant instead of the clock's now (to catch up, or to try a date)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING
from typing import Annotated

import typer
from rich.console import Console

if TYPE_CHECKING:
    from application.clock import SettableClock

Now = Annotated[str, typer.Option(help="sweep as at this instant (ISO 8601 with offset); default: now")]


def clock_at(now: str, example: str, console: Console) -> SettableClock | None:
    """A clock set to ``now``, or None (the system's clock) when it is empty; a bad instant exits 2, saying so on
    ``console`` with ``example``."""
    from application.clock import SettableClock

    if not now:
        return None
    try:
        instant: datetime | None = datetime.fromisoformat(now)
    except ValueError:
        instant = None
    if instant is None or instant.tzinfo is None:
        console.print(f"[red]--now must be an ISO 8601 instant with offset, e.g. {example}[/red]")
        raise typer.Exit(2)
    return SettableClock(instant)
