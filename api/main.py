"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import MutableMapping
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from api import errors
from api.auth import VerifiedTokens
from api.auth import resolve_jwt_secret
from api.console import dynamic as console_dynamic
from api.console import pages as console_pages
from api.console import session as console
from api.console import zone as console_zone
from api.deps import Services
from api.documents import DocumentStore
from api.limits import PublicRate
from api.limits import RateLimits
from api.metrics import Metrics
from api.metrics import router as metrics_router
from api.observe import Observe
from api.positions import ReadAfter
from api.public_cache import PublicCache
from api.routers import admin
from api.routers import board
from api.routers import calendar
from api.routers import calls
from api.routers import checkpoints
from api.routers import documents
from api.routers import objectors
from api.routers import queries
from api.routers import zone_commands
from api.routers import zone_queries
from application import __version__
from application.outage import FAIL_FAST
from application.settings import Settings
from audit.checkpoints import resolve_signing_key
from scheduler.service import DeadlineScheduler

MAX_JSON_BYTES = 1 << 20
MAX_DOCUMENT_BYTES = 20 << 20
MAX_HEADER_BYTES = 16 << 10  # a request's headers together (names, values); the server bounds the whole head

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class NoSniff:
    """Every answer says ``X-Content-Type-Options: nosniff``: a browser takes each file as the type it is served as.
    And the other security headers, where the route set none of its own: no framing (``X-Frame-Options`` and
    CSP ``frame-ancestors``), no referrer, a CSP that allows nothing for what is not a page (a page — the
    board, the dossier, the API docs — brings its own or gets ``frame-ancestors`` alone), and
    ``Cache-Control: no-store`` on what a token was needed for and on zones and documents (personal data)."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]]):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        private = scope["path"].startswith(PRIVATE_PATHS) or any(
            name.lower() == b"authorization" for name, _ in scope.get("headers") or []
        )

        async def with_header(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", []) if h[0].lower() != b"x-content-type-options"]
                given = {h[0].lower() for h in headers}
                html = any(n.lower() == b"content-type" and v.startswith(b"text/html") for n, v in headers)
                extra = [(b"x-content-type-options", b"nosniff")]
                extra += [(n, v) for n, v in SECURITY_HEADERS if n not in given]
                if b"content-security-policy" not in given:
                    extra.append((b"content-security-policy", PAGE_CSP if html else NOTHING_CSP))
                if private and b"cache-control" not in given:
                    extra.append((b"cache-control", b"no-store"))
                message = {**message, "headers": [*headers, *extra]}
            await send(message)

        await self.app(scope, receive, with_header)


SECURITY_HEADERS = ((b"x-frame-options", b"DENY"), (b"referrer-policy", b"no-referrer"))
NOTHING_CSP = b"default-src 'none'; frame-ancestors 'none'"  # JSON, files: nothing runs, nothing frames them
PAGE_CSP = b"frame-ancestors 'none'"  # a page without a policy of its own (the API docs load their scripts)
PRIVATE_PATHS = ("/zones", "/documents")  # zone detail, history, dossier, objections, documents


class HeaderLimit:
    """Refuses requests whose headers together exceed ``MAX_HEADER_BYTES`` (431), whatever server runs the app."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]], limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and sum(len(n) + len(v) + 4 for n, v in scope.get("headers") or []) > self.limit:
            detail = f"The request headers are larger than {self.limit} bytes together."
            await errors.problem(431, "headers_too_large", detail)(scope, receive, send)
            return
        await self.app(scope, receive, send)


class FailFast:
    """Marks the request so that the store answers at once when it is down (``application.outage``)."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]]):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        token = FAIL_FAST.set(True)
        try:
            await self.app(scope, receive, send)
        finally:
            FAIL_FAST.reset(token)


class BodyLimit:
    """Refuses request bodies over the limit (413) before they are read into memory."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]], json_limit: int, upload_limit: int):
        self.app, self.json_limit, self.upload_limit = app, json_limit, upload_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        uploads = scope["path"].startswith("/documents") or (  # an objection with its evidence files
            scope["path"].endswith("/objections") and headers.get(b"content-type", b"").startswith(b"multipart/")
        )
        limit = self.upload_limit + 64 * 1024 if uploads else self.json_limit
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._too_large(scope, receive, send, limit)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _TooLarge
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await self._too_large(scope, receive, send, limit)

    @staticmethod
    async def _too_large(scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        response = errors.problem(413, "payload_too_large", f"The request body is larger than {limit} bytes.")
        await response(scope, receive, send)


class _TooLarge(Exception):
    pass


def create_app(settings: Settings, services: Services | Callable[[], Services]) -> FastAPI:
    """The HTTP application over ``services`` — or, given a way to build them, over services it builds at
    start-up and owns (starting the deadline scheduler in this process when configured)."""
    secret = resolve_jwt_secret(settings)
    signing_key = resolve_signing_key(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = callable(services)
        c = services() if callable(services) else services
        c.start(signing_key)
        app.state.container = c
        deadlines = None
        if owned and settings.scheduler_interval > 0:
            deadlines = DeadlineScheduler(c, interval=settings.scheduler_interval, metrics=metrics.scheduler)
            deadlines.start()
        app.state.scheduler = deadlines
        try:
            yield
        finally:
            if deadlines is not None:
                deadlines.stop()
            if owned:
                c.close()
            metrics.close()

    app = FastAPI(
        title="zonecase",
        version=__version__,
        lifespan=lifespan,
        description=(
            "Case management for Dongguan's software and IT services industry cluster zones "
            "(软件和信息技术服务业集聚区): application, formal review, expert assessment, public notice (公示), "
            "grant, annual reports, review (复核), rectification (整改) and revocation. Every step is an "
            "immutable, hash-chained event. Errors are application/problem+json with a stable `code`."
        ),
    )
    app.state.jwt_secret = secret
    app.state.settings = settings  # the token checks (issuer, audience, lifetime)
    app.state.tokens = VerifiedTokens(secret, settings)  # tokens checked lately (api.auth)
    app.state.documents = DocumentStore(settings.data_dir / "documents")
    app.state.max_document_bytes = MAX_DOCUMENT_BYTES
    app.state.rate_limits = RateLimits(settings)
    app.state.metrics = metrics = Metrics.from_env()
    metrics.watch(app)
    app.state.public_cache = PublicCache()
    errors.install(app)
    console.install(app)  # under /console a problem is a page (or the sign-in)
    # FastAPI tries the routes in order, each at some cost (≈ 2 µs): the routers most requests go to come first —
    # the zone and its views, the public's endpoints (a caller without a valid token is rate-limited per address;
    # /notices: its route), then the commands. No method and path is served by two routers, so the order decides
    # nothing else (tests/e2e/test_edges.py checks it).
    app.include_router(zone_queries.router)
    app.include_router(queries.router)
    app.include_router(checkpoints.router, dependencies=[PublicRate])
    app.include_router(board.router, dependencies=[PublicRate])
    app.include_router(calls.router, dependencies=[PublicRate])
    app.include_router(zone_commands.router)
    app.include_router(documents.router)
    app.include_router(calendar.router)
    app.include_router(metrics_router)  # a bureau or inspector token (api.metrics)
    app.include_router(objectors.router)
    for console_router in (
        console.router,
        console_pages.router,
        console_zone.router,
        console_dynamic.router,
    ):  # the read-only console (api.console)
        app.include_router(console_router)
    app.mount("/web", StaticFiles(directory=board.WEB), name="web")  # the board's script, verifier and styles
    if settings.allow_time_travel:
        app.include_router(admin.router)

    @app.get("/health", tags=["operations"])
    def health() -> dict[str, Any]:
        """Liveness: the process answers."""
        return {"status": "ok", "version": __version__}

    @app.get("/ready", tags=["operations"])
    def ready() -> JSONResponse:
        """Readiness: the event store answers, no view has stopped and the document directory takes a file (else
        ``documents`` says why: ``storage_full``, ``storage_read_only``); shows each view's lag."""
        c: Services = app.state.container
        try:
            c.app.recorder.max_notification_id()
        except Exception as e:  # the store is down or unreachable
            return errors.problem(503, "store_unavailable", f"The event store does not answer ({type(e).__name__}).")
        status = c.runner.status() if c.runner else {"views": {}}
        failed = [v["failed"] for v in status["views"].values() if v["failed"]]
        storage = app.state.documents.check()  # full or read-only: uploads would fail
        unready = bool(failed) or storage is not None
        body = {"status": "unavailable" if unready else "ready", "store": "ok", "documents": storage or "ok", **status}
        return JSONResponse(body, status_code=503 if unready else 200)

    app.add_middleware(ReadAfter)
    app.add_middleware(BodyLimit, json_limit=MAX_JSON_BYTES, upload_limit=MAX_DOCUMENT_BYTES)
    app.add_middleware(HeaderLimit, limit=MAX_HEADER_BYTES)
    app.add_middleware(NoSniff)
    app.add_middleware(FailFast)
    app.add_middleware(Observe, metrics=metrics)  # outermost: sees every answer, the refusals of those above too
    app.openapi = lambda: _openapi_with_problems(app)  # type: ignore[method-assign]
    return app


PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details, with a stable machine-readable code.",
    "type": "object",
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string", "examples": ["illegal_transition", "validation_failed", "not_found"]},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "loc": {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]}},
                    "msg": {"type": "string"},
                },
            },
        },
        "checks": {"type": "array", "items": {"type": "object"}},
        "current_version": {"type": "integer"},
    },
}
COMMON_ERRORS = {
    "401": "No or bad token",
    "403": "This role or organisation may not do this",
    "413": "The request body is too large",
    "431": "The request headers are too large",
    "422": "Invalid input",
    "429": "Too many requests from this address (public endpoints; Retry-After)",
    "500": "Unexpected error (logged)",
    "503": "Temporarily unavailable (views lagging or stopped)",
}


def _openapi_with_problems(app: FastAPI) -> dict[str, Any]:
    """FastAPI's schema, with every error response documented as application/problem+json."""
    if app.openapi_schema:
        return app.openapi_schema
    from fastapi.openapi.utils import get_openapi

    schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["Problem"] = PROBLEM_SCHEMA
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            responses = operation.setdefault("responses", {})
            for code, text in COMMON_ERRORS.items():
                responses.setdefault(code, {"description": text})
            for code, response in responses.items():
                if code[0] in "45":
                    response["content"] = problem
    app.openapi_schema = schema
    return schema
