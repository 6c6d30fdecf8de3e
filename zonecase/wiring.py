"""The one place that builds everything from settings; only entry points import it, nothing at import time."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from typing import Any

from application.clock import Clock
from application.clock import SettableClock
from application.clock import SystemClock
from application.service import ZoneApplication
from application.settings import Settings
from application.store import ensure_postgres_schema
from domain.conditions import load_batches
from domain.indicators import load_indicator_system

if TYPE_CHECKING:
    from fastapi import FastAPI

    from audit.checkpoints import Checkpointer
    from audit.checkpoints import SigningKey
    from projections.runner import ViewRunner


@dataclass
class Container:
    """What a process runs: the settings, the clock, the application and (when started) the views."""

    settings: Settings
    clock: Clock
    app: ZoneApplication
    runner: ViewRunner | None = None
    checkpoints: Checkpointer | None = None

    def start(self, key: SigningKey | None = None) -> None:
        """Starts what a serving process runs: the calls of the calls file (imported on first start), the views
        and the signed checkpoints."""
        self.app.import_calls()
        self.start_checkpoints(key)

    def start_checkpoints(self, key: SigningKey | None = None) -> Checkpointer:
        """Signs tree heads over the log with the configured key (views must be running)."""
        from audit.checkpoints import Checkpointer
        from audit.checkpoints import resolve_signing_key

        if self.checkpoints is None:
            runner = self.start_views()
            self.checkpoints = Checkpointer(self.app, runner, key or resolve_signing_key(self.settings))
        return self.checkpoints

    def start_views(self, **runner_options: Any) -> ViewRunner:
        """Opens the read models and starts keeping them current."""
        from projections.runner import ViewRunner
        from projections.runner import open_views

        if self.runner is None:
            env = self.settings.views_env()
            ensure_postgres_schema(env)
            self.runner = ViewRunner(self.app, open_views(self.app, env), **runner_options)
            self.runner.start()
        return self.runner

    def close(self) -> None:
        """Stops the views and releases connections (the views' own too)."""
        if self.runner is not None:
            self.runner.stop()
            for datastore in {id(p.view.datastore): p.view.datastore for p in self.runner.views.values()}.values():
                datastore.close()
            self.runner = None
        self.app.close()


def build(
    settings: Settings | None = None, *, clock: Clock | None = None, check_documents: bool = True, **overrides: Any
) -> Container:
    """Builds the application for ``settings`` (default: from the environment).

    With ``check_documents`` every document a command references must have been uploaded first.
    """
    settings = settings or Settings.from_env()
    if clock is None:
        clock = SettableClock() if settings.allow_time_travel else SystemClock()
    env = settings.persistence_env()
    ensure_postgres_schema(env)
    app = ZoneApplication(
        env,
        clock=clock,
        system=load_indicator_system(settings.indicator_file or None),
        batches=load_batches(settings.batches_file or None),
        policy=settings.policy,
        **overrides,
    )
    if check_documents and app.document_exists is None:
        app.document_exists = lambda sha256: app.side_tables.get_document(sha256) is not None
    return Container(settings=settings, clock=clock, app=app)


def create_app(settings: Settings | None = None, container: Container | None = None) -> FastAPI:
    """The HTTP application: over ``container`` when given, else over one built from ``settings`` (default:
    from the environment) when the server starts, and closed when it stops."""
    from api.main import create_app as http_app

    settings = settings or (container.settings if container else Settings.from_env())
    return http_app(settings, container if container is not None else lambda: build(settings))
