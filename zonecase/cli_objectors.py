"""``zonecase objectors``: erasing objectors' personal data (PIPL), one on request or all whose retention ran out."""

from __future__ import annotations

import json
from typing import Annotated
from uuid import UUID

import typer
from rich.console import Console

from application.settings import Settings
from zonecase.sweep_clock import Now
from zonecase.sweep_clock import clock_at

objectors_cli = typer.Typer(no_args_is_help=True, help="Objectors' personal data (PIPL): erasure and retention.")
console = Console(stderr=True)


@objectors_cli.command("erase")
def erase_one(
    zone: Annotated[str, typer.Option("--zone", help="the zone's id")],
    objection: Annotated[str, typer.Option("--objection", help="the objection's id")],
    reason: Annotated[str, typer.Option("--reason", help="why (a lawful request, its reference …)")],
    by: Annotated[str, typer.Option("--by", help="who erases: the bureau user's id")] = "bureau-cli",
) -> None:
    """Erases one objector's name and contact (their key and ciphertext); the erasure is recorded (who, when, why)
    and printed as JSON. The events stay as they are: the log still verifies."""
    from application.objectors import erase
    from domain.errors import ZoneError
    from domain.values import Actor
    from zonecase.wiring import build

    try:
        zone_id = UUID(zone)
    except ValueError:
        console.print("[red]--zone must be a zone's id (a UUID)[/red]")
        raise typer.Exit(2) from None
    container = build(Settings.from_env())
    try:
        erased = erase(container.app, zone_id, objection, Actor(by, "bureau", "", ""), reason)
    except ZoneError as e:
        console.print(f"[red]{e.code}: {e.message}[/red]")
        raise typer.Exit(1) from None
    finally:
        container.close()
    typer.echo(json.dumps(erased, ensure_ascii=False))


@objectors_cli.command("sweep")
def sweep(
    now: Now = "",
) -> None:
    """Erases every objector whose retention (ZONECASE_POLICY_OBJECTOR_RETENTION_YEARS, default 3, after the case
    closed) has run out, one JSON line per erasure. The scheduler runs the same sweep hourly."""
    from application.objectors import retention_sweep
    from zonecase.wiring import build

    container = build(Settings.from_env(), clock=clock_at(now, "2028-01-01T00:00:00+08:00", console))
    try:
        for erased in retention_sweep(container.app):
            typer.echo(json.dumps(erased, ensure_ascii=False))
    finally:
        container.close()
