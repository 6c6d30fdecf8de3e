"""Public reads are cheap: their answer is keyed by what it is computed from (the views' positions, the day, the
latest signed tree head), sent with that key as its ``ETag`` — ``If-None-Match`` gets a 304 — and kept for the
next caller (a small, bounded cache)."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable

from fastapi import Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

ENTRIES = 128  # answers kept (per process); each is one page of notices, calls or the board


class PublicCache:
    """The answers of public reads, by ETag."""

    def __init__(self, entries: int = ENTRIES) -> None:
        self.entries = entries
        self._answers: OrderedDict[str, tuple[bytes, str]] = OrderedDict()
        self._lock = threading.Lock()

    async def respond(
        self,
        request: Request,
        basis: tuple[object, ...],
        render: Callable[[], tuple[bytes, str]],
        headers: dict[str, str] | None = None,
    ) -> Response:
        """The answer for ``basis`` (everything the answer depends on besides the path and the query): 304 when
        the caller holds it already, else from the cache, else ``render()`` (``(body, media type)``, in the thread
        pool: it reads the store). A hit is answered on the event loop, without a thread."""
        key = repr((request.url.path, request.url.query, basis)).encode()
        tag = '"' + hashlib.sha256(key).hexdigest()[:32] + '"'
        out = {**(headers or {}), "ETag": tag, "Cache-Control": "no-cache"}  # may be kept, always revalidated
        if _matches(request.headers.get("if-none-match"), tag):
            return Response(status_code=304, headers=out)
        with self._lock:
            found = self._answers.get(tag)
            if found is not None:
                self._answers.move_to_end(tag)
        if found is None:
            found = await run_in_threadpool(render)
            with self._lock:
                self._answers[tag] = found
                while len(self._answers) > self.entries:
                    self._answers.popitem(last=False)
        body, media_type = found
        return Response(body, media_type=media_type, headers=out)


def _matches(if_none_match: str | None, tag: str) -> bool:
    """RFC 9110 §13.1.2: ``*`` or any listed tag, compared weakly."""
    if not if_none_match:
        return False
    listed = [t.strip() for t in if_none_match.split(",")]
    return "*" in listed or any(t.removeprefix("W/") == tag for t in listed)
