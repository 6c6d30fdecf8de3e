"""Read-your-writes without waiting in the command: a command answers once its events are committed, naming the
log position it reached (``Zonecase-Position``, and the cookie ``zonecase_position``); a read waits only until the
views it reads reach the position the same client sent back (``Zonecase-After``, or that cookie)."""

from __future__ import annotations

import re
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import MutableMapping
from contextvars import ContextVar
from typing import Any

from api import errors

POSITION_HEADER = "Zonecase-Position"  # on a command's answer: the log position its events reached
AFTER_HEADER = "Zonecase-After"  # on a read: answer from views that have processed at least this position
COOKIE = "zonecase_position"  # the same, for clients that keep cookies (browsers, httpx and requests sessions)
READ_AFTER: ContextVar[int] = ContextVar("zonecase_read_after", default=0)
_DIGITS = re.compile(r"^\d{1,18}$")
_COOKIE = re.compile(rb"(?:^|;)\s*zonecase_position=(\d{1,18})\s*(?:;|$)")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


def position_headers(position: int | None) -> dict[str, str]:
    """What a command's answer says about the log position it reached (nothing if it recorded nothing)."""
    if not position:
        return {}
    return {
        POSITION_HEADER: str(position),
        "Set-Cookie": f"{COOKIE}={position}; Path=/; HttpOnly; SameSite=Strict",
    }


class ReadAfter:
    """Reads ``Zonecase-After`` (or the cookie) into ``READ_AFTER`` for the read door (``api.deps.read``); a header
    that is not a position is 422; the larger of the two counts."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]]):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        after = 0
        for name, value in scope.get("headers") or []:
            name = name.lower()
            if name == b"zonecase-after":
                text = value.decode("latin-1").strip()
                if not _DIGITS.match(text):
                    detail = f"{AFTER_HEADER} must be a log position (the {POSITION_HEADER} a command answered)."
                    loc = {"loc": ["header", AFTER_HEADER], "msg": "a non-negative integer"}
                    await errors.problem(422, "validation_failed", detail, errors=[loc])(scope, receive, send)
                    return
                after = max(after, int(text))
            elif name == b"cookie":
                found = _COOKIE.search(value)
                if found:
                    after = max(after, int(found.group(1)))
        if not after:
            await self.app(scope, receive, send)
            return
        token = READ_AFTER.set(after)
        try:
            await self.app(scope, receive, send)
        finally:
            READ_AFTER.reset(token)
