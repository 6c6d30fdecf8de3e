"""Every request measured and logged once: a request id (``X-Request-ID``, accepted or made, and returned), the
caller's subject and role, the route template, the zone, the command and its outcome, the duration.

The log line names no person and carries no token: the caller is its subject and role (an objector is the public),
the path is the route template and the zone's id, and neither the query string nor a body is logged.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import MutableMapping
from contextvars import ContextVar
from typing import Any

from api.errors import CODE_OF_STATUS
from api.metrics import Metrics

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
ASGI = Callable[[Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]]

log = logging.getLogger("zonecase.request")
REQUEST_ID: ContextVar[str | None] = ContextVar("zonecase_request_id", default=None)
GOOD_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")  # a caller's id is echoed and logged: nothing else is taken
COMMAND_MODULES = ("api.routers.zone_commands", "api.routers.calls")
MAX_PROBLEM_BYTES = 64 << 10


def command_of(route: Any, method: str) -> str | None:
    """The command a route runs (its endpoint's name), or None for a read or an operation."""
    endpoint = getattr(route, "endpoint", None)
    if method in ("GET", "HEAD") or getattr(endpoint, "__module__", None) not in COMMAND_MODULES:
        return None
    return str(endpoint.__name__)  # type: ignore[union-attr]


def problem_code(body: bytes, status: int) -> str:
    """The stable ``code`` of a problem+json answer (the status's own when the body names none)."""
    try:
        code = json.loads(body).get("code")
    except (ValueError, AttributeError):
        code = None
    return code if isinstance(code, str) else CODE_OF_STATUS.get(status, str(status))


class Observe:
    """The outermost middleware: request id, metrics and the one log line of every HTTP request."""

    def __init__(self, app: ASGI, metrics: Metrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        request_id = given if GOOD_ID.fullmatch(given) else uuid.uuid4().hex
        token = REQUEST_ID.set(request_id)
        started = time.perf_counter()
        seen: dict[str, Any] = {"status": 500, "problem": None, "location": None}

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", []) if h[0].lower() != b"x-request-id"]
                seen["status"] = message["status"]
                for name, value in headers:
                    if name.lower() == b"content-type" and value.startswith(b"application/problem+json"):
                        seen["problem"] = b""
                    elif name.lower() == b"location":
                        seen["location"] = value.decode("latin-1")
                message = {**message, "headers": [*headers, (b"x-request-id", request_id.encode())]}
            elif message["type"] == "http.response.body" and seen["problem"] is not None:
                if len(seen["problem"]) < MAX_PROBLEM_BYTES:
                    seen["problem"] += message.get("body", b"")
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            REQUEST_ID.reset(token)
            self._record(scope, request_id, seen, time.perf_counter() - started)

    def _record(self, scope: Scope, request_id: str, seen: dict[str, Any], duration: float) -> None:
        route, method, status = scope.get("route"), scope["method"], int(seen["status"])
        template = getattr(route, "path", None) or "unmatched"  # never the raw path: it would grow without end
        if seen["problem"] is not None:
            outcome = problem_code(seen["problem"], status)
        else:
            outcome = "ok" if status < 400 else CODE_OF_STATUS.get(status, str(status))
        command = command_of(route, method)
        self.metrics.requests.labels(method, template, str(status)).observe(duration)
        if command is not None:
            self.metrics.commands.labels(command, outcome).inc()
        principal = (scope.get("state") or {}).get("principal")
        zone_id = (scope.get("path_params") or {}).get("zone_id")
        if zone_id is None and command == "apply" and seen["location"]:
            zone_id = seen["location"].rpartition("/")[2]
        log.info(
            "%s %s %s %s",
            method,
            template,
            status,
            outcome,
            extra={
                "request_id": request_id,
                "method": method,
                "route": template,
                "status": status,
                "outcome": outcome,
                "command": command,
                "zone_id": None if zone_id is None else str(zone_id),
                "sub": principal.sub if principal is not None else None,
                "role": principal.role if principal is not None else None,
                "duration_ms": round(duration * 1000, 3),
            },
        )
