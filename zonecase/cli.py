"""The ``zonecase`` command line (typer)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from application.settings import Settings
from zonecase.cli_objectors import objectors_cli
from zonecase.sweep_clock import Now
from zonecase.sweep_clock import clock_at

if TYPE_CHECKING:
    from zonecase.wiring import Container

cli = typer.Typer(no_args_is_help=True, help="zonecase: designation case management for cluster zones (集聚区).")
deadlines_cli = typer.Typer(no_args_is_help=True, help="Deadline events (notice ended, reports overdue, expiry …).")
store_cli = typer.Typer(no_args_is_help=True, help="The event store: integrity checks.")
cli.add_typer(deadlines_cli, name="deadlines")
cli.add_typer(store_cli, name="store")
cli.add_typer(objectors_cli, name="objectors")
console = Console()


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
) -> None:
    """Runs the HTTP API on the configured store (default: an SQLite file under ./data/)."""
    import uvicorn

    from api.auth import SecretMissingError
    from application.settings import SettingsError
    from audit.checkpoints import SigningKeyMissingError
    from zonecase.wiring import create_app

    try:
        app = create_app(Settings.from_env())
    except (SecretMissingError, SigningKeyMissingError, SettingsError) as e:
        console.print(f"[red]{e}[/red]")
        raise typer.Exit(2) from None
    from zonecase.serving import uvicorn_options

    uvicorn.run(app, host=host, port=port, **uvicorn_options())


@cli.command()
def token(
    role: Annotated[str, typer.Option(help="leading_group | bureau | applicant | expert | inspector")],
    sub: Annotated[str, typer.Option(help="The user id.")],
    org: Annotated[str, typer.Option(help="Organisation id (required for applicant).")] = "",
    name: Annotated[str, typer.Option(help="Display name.")] = "",
    hours: Annotated[float, typer.Option(help="Validity in hours.")] = 12.0,
) -> None:
    """Prints a bearer token for local use, signed with ZONECASE_JWT_SECRET."""
    from api.auth import SecretMissingError
    from api.auth import mint_token
    from api.auth import resolve_jwt_secret

    try:
        settings = Settings.from_env()
        if not 0 < hours <= settings.token_max_hours:
            raise ValueError(
                f"--hours must be above 0 and at most {settings.token_max_hours:g} (ZONECASE_TOKEN_MAX_HOURS)"
            )
        secret = resolve_jwt_secret(settings)
        typer.echo(
            mint_token(
                secret,
                sub=sub,
                role=role,
                org=org,
                name=name,
                hours=hours,
                issuer=settings.jwt_issuer,
                audience=settings.jwt_audience,
            )
        )
    except (ValueError, SecretMissingError) as e:
        console.print(f"[red]{e}[/red]")
        raise typer.Exit(2) from None


@cli.command()
def indicators(
    path: Annotated[str, typer.Option(help="An indicator-system data file (default: the 2021 annex).")] = "",
) -> None:
    """Shows the indicator system and reports every group whose weights differ from its declared total."""
    from domain.indicators import load_indicator_system

    system = load_indicator_system(path or Settings.from_env().indicator_file or None)
    table = Table(title=f"Indicator system {system.version}")
    for col in ("#", "group", "first level", "indicator", "weight", "thresholds"):
        table.add_column(col)
    for n, ind in system.indicators.items():
        table.add_row(
            str(n),
            ind.group,
            ind.first_level,
            f"{ind.name} {ind.name_en}",
            f"{ind.weight:g}",
            "; ".join(r.rule for r in ind.checks),
        )
    console.print(table)
    console.print(f"maximum {system.maximum:g} (the group headings declare {system.declared_maximum:g})")
    for d in system.discrepancies:
        console.print(f"[yellow]discrepancy:[/yellow] {d}")


@deadlines_cli.command("sweep")
def deadlines_sweep(
    now: Now = "",
) -> None:
    """Records every deadline due (each at most once, in due order) and prints what fired, one JSON per line."""

    from scheduler.sweep import sweep
    from zonecase.wiring import build

    container = build(Settings.from_env(), clock=clock_at(now, "2025-02-01T00:00:00+08:00", console))
    try:
        runner = container.start_views()
        for fired in sweep(container.app, runner):
            typer.echo(json.dumps(fired, ensure_ascii=False))
    finally:
        container.close()


@cli.command("scheduler")
def run_scheduler(
    interval: Annotated[float, typer.Option(help="seconds between sweeps")] = 0.0,
) -> None:
    """Runs the deadline scheduler alone (production: beside `serve` processes started with
    ZONECASE_SCHEDULER_INTERVAL=0, or several of these — only the lock holder sweeps)."""
    import signal
    import threading

    from api.metrics import Metrics
    from audit.checkpoints import SigningKeyMissingError
    from scheduler.service import DeadlineScheduler
    from zonecase.logs import configure
    from zonecase.wiring import build

    configure()
    settings = Settings.from_env()
    container = build(settings)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    container.start_views()
    try:
        container.start_checkpoints()  # the lock holder also signs the hourly tree head
    except SigningKeyMissingError as e:
        container.close()
        console.print(f"[red]{e}[/red]")
        raise typer.Exit(2) from None
    metrics = Metrics.from_env()  # under PROMETHEUS_MULTIPROC_DIR, seen through the serving processes' /metrics
    deadlines = DeadlineScheduler(
        container, interval=interval or settings.scheduler_interval or 60.0, metrics=metrics.scheduler
    )
    deadlines.start()
    console.print(f"deadline scheduler running every {deadlines.interval:g} s (Ctrl-C to stop)")
    try:
        stop.wait()
    finally:
        deadlines.stop()
        container.close()
        metrics.close()


@cli.command()
def rebuild(
    view: Annotated[list[str] | None, typer.Argument(help="views to rebuild (default: all)")] = None,
    batch: Annotated[int, typer.Option(help="events per transaction")] = 2000,
    workers: Annotated[
        int | None,
        typer.Option(help="processes sharing out the zones, on PostgreSQL (default: one per core, at most 4)", min=1),
    ] = None,
) -> None:
    """Drops views and rebuilds them from the event log, streaming, with a progress bar.

    Stop the service first (or expect it to catch up from the rebuilt positions after a restart).
    """
    from projections import VIEWS
    from projections.rebuild import default_workers
    from zonecase.wiring import build

    names = view or list(VIEWS)
    unknown = [n for n in names if n not in VIEWS]
    if unknown:
        console.print(f"[red]Unknown view(s): {', '.join(unknown)}. Views: {', '.join(VIEWS)}[/red]")
        raise typer.Exit(2)
    container = build(Settings.from_env())
    try:
        _rebuild(container, names, batch, workers or default_workers())
    finally:
        container.close()


def _rebuild(container: Container, names: list[str], batch: int, workers: int) -> None:
    """Drops the views ``names`` and rebuilds them from the log, with a progress bar."""
    from rich.progress import BarColumn
    from rich.progress import MofNCompleteColumn
    from rich.progress import Progress
    from rich.progress import TextColumn
    from rich.progress import TimeRemainingColumn

    from application.store import ensure_postgres_schema
    from projections.rebuild import rebuild as rebuild_views
    from projections.runner import open_views

    env = container.settings.views_env()
    ensure_postgres_schema(env)
    views = open_views(container.app, env, names)
    total = container.app.recorder.max_notification_id() or 0
    with Progress(
        TextColumn("rebuilding " + ", ".join(names)),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
    ) as progress:
        task = progress.add_task("events", total=total)
        count = rebuild_views(
            container.app, views, batch_size=batch, progress=lambda n: progress.advance(task, n), workers=workers
        )
    console.print(f"rebuilt {', '.join(names)} from {count} events")


@cli.command("restore")
def restore_export(folder: Annotated[Path, typer.Argument(help="an export folder (`zonecase export --out`)")]) -> None:
    """Loads an export into an EMPTY store after verifying it (a tampered one is refused, naming the position):
    the events exactly as exported, the signed checkpoints, then the views rebuilt. Exits 1 when refused."""
    from audit.checkpoints import key_id_of
    from audit.checkpoints import load_public_key
    from audit.checkpoints import resolve_signing_key
    from projections import VIEWS
    from zonecase.restore import RestoreError
    from zonecase.restore import restore
    from zonecase.wiring import build

    settings = Settings.from_env()
    container = build(settings)
    try:
        try:
            result = restore(container.app, folder)
        except RestoreError as e:
            console.print(str(e), style="red", markup=False, highlight=False)
            raise typer.Exit(1) from None
        console.print(f"restored {result['events']} events and {result['checkpoints']} checkpoints from {folder}")
        _rebuild(container, list(VIEWS), 2000, 1)
        exported = key_id_of(load_public_key((folder / "public-key.pem").read_bytes()))
        configured = resolve_signing_key(settings).key_id
        if configured != exported:
            console.print(
                f"[yellow]The configured signing key ({configured[:16]}…) is not the export's ({exported[:16]}…): "
                "the next checkpoints will extend the exported ones under another key; inspectors who pinned the "
                "bureau's key will refuse them. Configure ZONECASE_SIGNING_KEY before serving.[/yellow]"
            )
    finally:
        container.close()


@cli.command("export")
def export_log(out: Annotated[Path, typer.Option("--out", help="the folder to write")]) -> None:
    """Writes the event log (NDJSON), the signed checkpoints and the public key for offline verification.
    Signs a fresh checkpoint first, so that the export is covered to its last event."""
    from rich.progress import BarColumn
    from rich.progress import MofNCompleteColumn
    from rich.progress import Progress
    from rich.progress import TextColumn

    from audit.checkpoints import EmptyLogError
    from audit.checkpoints import SigningKeyMissingError
    from audit.offline import export
    from zonecase.wiring import build

    settings = Settings.from_env()
    container = build(settings)
    try:
        try:
            checkpointer = container.start_checkpoints()
        except SigningKeyMissingError as e:
            console.print(f"[red]{e}[/red]")
            raise typer.Exit(2) from None
        try:
            checkpointer.sign("export")
        except EmptyLogError:
            pass  # an empty log exports as such
        checkpoints = [c.as_dict() for c in container.app.side_tables.get_checkpoints(limit=1_000_000)]
        from audit.checkpoints import public_pem

        total = container.app.recorder.max_notification_id() or 0
        with Progress(TextColumn("exporting"), BarColumn(), MofNCompleteColumn(), console=console) as progress:
            task = progress.add_task("events", total=total)
            manifest = export(
                container.app,
                checkpoints,
                public_pem(checkpointer.key.public),
                out,
                progress=lambda n: progress.advance(task, n),
            )
    finally:
        container.close()
    console.print(f"exported {manifest['events']} events and {len(checkpoints)} checkpoints to {out}")


@cli.command("verify")
def verify_offline(
    folder: Annotated[Path, typer.Argument(help="an export folder")],
    public_key: Annotated[Path | None, typer.Option(help="the bureau's public key, obtained independently")] = None,
    tree_head: Annotated[
        str | None,
        typer.Option(
            help="a tree head you already trust: SIZE:ROOT (root in hex, as on the notice board) or a file "
            "saved from GET /checkpoints/latest; the export must equal or extend it"
        ),
    ] = None,
) -> None:
    """Verifies an export with no database and no server: every hash and link, every checkpoint (its form, its
    signature, its root), that a checkpoint signed by the key covers every event, and that the export extends
    the tree head you trust. Exits 1 and names each problem by position; 2 when your own input is unreadable."""
    from audit.heads import TreeHeadError
    from audit.heads import parse_tree_head_argument
    from audit.offline import InputError
    from audit.offline import verify_export

    if not folder.is_dir():
        console.print(f"[red]{folder} is not a folder: give the folder `zonecase export` wrote.[/red]")
        raise typer.Exit(2)
    if public_key is not None and not public_key.is_file():
        console.print(f"[red]No public key at {public_key}.[/red]")
        raise typer.Exit(2)
    try:
        trusted = parse_tree_head_argument(tree_head) if tree_head is not None else None
        report = verify_export(folder, public_key, trusted)
    except (TreeHeadError, InputError) as e:
        console.print(str(e), style="red", markup=False, highlight=False)
        raise typer.Exit(2) from None
    typer.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
    if not report.ok:
        raise typer.Exit(1)


@cli.command()
def migrate() -> None:
    """Creates the store's tables and the views' when missing — once, before the processes of a stack start with
    ZONECASE_CREATE_TABLES=off (two processes creating them at once crash one). Safe to run again."""
    from dataclasses import replace

    from zonecase.wiring import build

    container = build(replace(Settings.from_env(), create_tables=True))
    try:
        container.start_views()
    finally:
        container.close()
    console.print("the store's and the views' tables are in place")


@cli.command()
def keygen(out: Annotated[Path, typer.Option("--out", help="where to write the private key (PEM)")]) -> None:
    """Creates the Ed25519 key that signs checkpoints (set ZONECASE_SIGNING_KEY to its path)."""
    from audit.checkpoints import SigningKey
    from audit.checkpoints import public_pem

    if out.exists():
        console.print(f"[red]{out} exists; not overwriting a key.[/red]")
        raise typer.Exit(2)
    key = SigningKey.generate()
    key.save(out)
    typer.echo(public_pem(key.public), nl=False)
    console.print(f"key id {key.key_id}; private key written to {out} (mode 600)")


@store_cli.command("verify")
def store_verify() -> None:
    """Recomputes every stored event's hash and link; exits 1 and names the first bad event."""
    from audit.integrity import verify_store
    from zonecase.wiring import build

    container = build(Settings.from_env())
    try:
        result = verify_store(container.app)
    finally:
        container.close()
    typer.echo(
        json.dumps(
            {
                "ok": result.ok,
                "events_checked": result.events_checked,
                "first_bad": result.first_bad,
                "problems": [p.as_dict() for p in result.problems],
            },
            ensure_ascii=False,
            indent=2,
        )
    )
    if not result.ok:
        raise typer.Exit(1)


@cli.command()
def doctor() -> None:
    """Checks configuration, store, tables, views, signing key, the clock's offset from the database's and the
    space for documents, one line each; exits 1 on any failure."""
    from zonecase.doctor import diagnose

    checks = diagnose(Settings.from_env())
    for c in checks:
        mark = "[green]ok  [/green]" if c.ok else "[red]FAIL[/red]"
        console.print(f"{mark} {c.name:<13} ", end="")
        console.print(c.detail, markup=False, highlight=False, soft_wrap=True)
    if not all(c.ok for c in checks):
        raise typer.Exit(1)


@cli.command()
def demo() -> None:
    """Fills an empty store with sample zones at different stages (2021–2024): a first look at zonecase."""
    from application.clock import SettableClock
    from application.sample import at
    from application.sample import demo as fill
    from zonecase.wiring import build

    # The sample documents are referenced by their hash only; their files are not uploaded.
    container = build(Settings.from_env(), clock=SettableClock(at("2021-07-15")), check_documents=False)
    try:
        zones = fill(container.app, container.clock)  # type: ignore[arg-type]
    except ValueError as e:
        console.print(f"[red]{e}[/red]")
        raise typer.Exit(2) from None
    finally:
        container.close()
    table = Table("zone", "name", "organisation", "status", "events")
    for z in zones:
        table.add_row(str(z.id), z.name, z.applicant_org, z.status, str(z.version))
    console.print(table)
    console.print("Start the service on this store (`zonecase serve`) and look: GET /zones, /notices, /deadlines.")


def main() -> None:
    """Entry point of the console script (a setting it does not understand: a clear message, exit 2)."""
    from application.settings import SettingsError

    try:
        cli()
    except SettingsError as e:
        console.print(f"[red]{e}[/red]")
        raise SystemExit(2) from None
