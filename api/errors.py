"""One mapping from errors to ``application/problem+json`` (RFC 9457), each with a stable ``code``."""

from __future__ import annotations

import logging
from typing import Any

from eventsourcing.persistence import InterfaceError
from eventsourcing.persistence import OperationalError
from fastapi import FastAPI
from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from psycopg_pool import PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from application.core import PreconditionFailedError
from application.outage import RETRY_AFTER_SECONDS
from application.outage import StoreUnavailableError
from domain import errors
from projections.runner import ViewsUnavailableError

log = logging.getLogger("zonecase.api")

PROBLEM = "application/problem+json"

STATUS_OF: list[tuple[type[Exception], int]] = [
    (PreconditionFailedError, 412),
    (errors.NotPermittedError, 403),
    (errors.ZoneNotFoundError, 404),
    (errors.InvalidValueError, 422),
    (errors.CalendarDataMissingError, 422),
    (errors.ZoneError, 409),
]

CODE_OF_STATUS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    412: "precondition_failed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "rate_limited",
    431: "headers_too_large",
    503: "unavailable",
}

TITLES = {
    400: "Bad request",
    401: "Authentication required",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    409: "Not allowed by the zone's history",
    412: "The zone has changed",
    413: "Too large",
    415: "Unsupported media type",
    422: "Invalid input",
    429: "Too many requests",
    431: "Request header fields too large",
    500: "Internal error",
    503: "Temporarily unavailable",
    507: "Insufficient storage",
}


# How the zone routes document their errors in the OpenAPI schema.
ZONE_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "No or bad token"},
    403: {"description": "This role or organisation may not do this"},
    404: {"description": "Unknown zone"},
    409: {"description": "The zone's history does not allow this step now"},
    412: {"description": "If-Match names an older version"},
    422: {"description": "Invalid input"},
}


class ApiProblem(Exception):
    """An error raised at the HTTP edge (authentication, roles, headers, uploads)."""

    def __init__(
        self, status: int, code: str, detail: str, *, headers: dict[str, str] | None = None, **extra: Any
    ) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail, self.extra = status, code, detail, extra
        self.headers = headers


def problem(
    status: int, code: str, detail: str, *, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    """A problem+json response."""
    body = {
        "type": f"https://zonecase.example/problems/{code}",
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "code": code,
        **extra,
    }
    headers = {**({"WWW-Authenticate": "Bearer"} if status == 401 else {}), **(headers or {})} or None
    return JSONResponse(jsonable_encoder(body), status_code=status, media_type=PROBLEM, headers=headers)


def _loc(loc: Any) -> list[Any]:
    return [p for p in loc if p != "body"] or ["body"]


def allowed_methods(routes: Any, path: str) -> list[str]:
    """The methods of every route whose path matches ``path``, through included routers (a 405's ``Allow``: one
    path may be served by several routers, e.g. ``GET /zones`` by the queries and ``POST /zones`` by the
    commands)."""
    methods: set[str] = set()
    for route in routes:
        inner = getattr(route, "original_router", None)  # FastAPI's included router
        if inner is not None:
            methods.update(allowed_methods(inner.routes, path))
            continue
        regex, own = getattr(route, "path_regex", None), getattr(route, "methods", None)
        if regex is not None and own and regex.match(path):
            methods.update(own)
    return sorted(methods)


def install(app: FastAPI) -> None:
    """Registers the handlers on the FastAPI application."""

    @app.exception_handler(errors.ZoneError)
    async def zone_error(request: Request, exc: errors.ZoneError) -> JSONResponse:
        status = next(s for cls, s in STATUS_OF if isinstance(exc, cls))
        extra = {k: v for k, v in exc.details.items() if k in ("checks", "current_version", "errors", "open_case")}
        return problem(status, exc.code, exc.message, **extra)

    @app.exception_handler(ApiProblem)
    async def api_problem(request: Request, exc: ApiProblem) -> JSONResponse:
        return problem(exc.status, exc.code, exc.detail, headers=exc.headers, **exc.extra)

    @app.exception_handler(ViewsUnavailableError)
    async def views_unavailable(request: Request, exc: ViewsUnavailableError) -> JSONResponse:
        return problem(503, exc.code, str(exc))

    async def store_unavailable(request: Request, exc: Exception) -> JSONResponse:
        log.warning("the event store is unavailable on %s %s: %s", request.method, request.url.path, exc)
        return problem(
            503,
            "store_unavailable",
            "The event store does not answer; nothing was recorded. Try again shortly.",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )

    for unavailable in (StoreUnavailableError, OperationalError, InterfaceError, PoolTimeout):
        app.add_exception_handler(unavailable, store_unavailable)

    @app.exception_handler(RequestValidationError)
    async def validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errs = [{"loc": _loc(e.get("loc", ())), "msg": e.get("msg", "invalid")} for e in exc.errors()]
        if any(e.get("type") == "json_invalid" for e in exc.errors()):
            return problem(422, "malformed_json", "The request body is not valid JSON.", errors=errs)
        return problem(
            422,
            "validation_failed",
            "The request is not valid: "
            + "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in errs[:5]),
            errors=errs,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = CODE_OF_STATUS.get(exc.status_code, "error")
        headers = dict(exc.headers or {})
        if exc.status_code == 405:  # RFC 9110: the methods the resource supports, from every route serving its path
            headers["Allow"] = ", ".join(allowed_methods(request.app.router.routes, request.url.path))
        return problem(exc.status_code, code, str(exc.detail), headers=headers or None)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return problem(500, "internal_error", "Something went wrong on our side; the error was logged.")
