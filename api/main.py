"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from zonecase import __version__
from zonecase.settings import Settings
from zonecase.wiring import Container, build


def create_app(settings: Settings | None = None, container: Container | None = None) -> FastAPI:
    """Builds the HTTP application around a container (built from settings when not given)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = container is None
        app.state.container = container or build(settings)
        try:
            yield
        finally:
            if owned:
                app.state.container.close()

    app = FastAPI(
        title="zonecase",
        version=__version__,
        lifespan=lifespan,
        description="Case management for Dongguan's software and IT services industry cluster zones "
        "(软件和信息技术服务业集聚区).",
    )

    @app.get("/health", tags=["operations"])
    def health() -> dict[str, Any]:
        """Liveness: the process answers."""
        return {"status": "ok", "version": __version__}

    @app.get("/ready", tags=["operations"])
    def ready() -> JSONResponse:
        """Readiness: the event store answers."""
        c: Container = app.state.container
        try:
            c.app.recorder.max_notification_id()
        except Exception as e:  # the store is down or unreachable
            return JSONResponse({"status": "unavailable", "store": type(e).__name__}, status_code=503)
        return JSONResponse({"status": "ready", "store": "ok"})

    return app
