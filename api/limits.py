"""Abuse controls on the anonymous endpoints: per-client-address and per-zone rate limits (the ``limits`` library),
429 with ``Retry-After``."""

from __future__ import annotations

import math
import time
from typing import Any

from fastapi import Depends
from fastapi import Request
from limits import RateLimitItem
from limits import parse_many
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from api.deps import caller_or_public
from api.errors import ApiProblem
from application.settings import Settings


class RateLimits:
    """The limits of one process, counted in memory (several processes each count their own)."""

    def __init__(self, settings: Settings) -> None:
        self.enabled = settings.rate_limits
        self.limiter = MovingWindowRateLimiter(MemoryStorage())
        self.public = parse_many(settings.rate_limit_public)
        self.objections = parse_many(settings.rate_limit_objections)
        self.zone_objections = parse_many(settings.rate_limit_zone_objections)

    def hit(self, items: list[RateLimitItem], *identifiers: str, what: str) -> None:
        """Counts one request against every item; 429 ``rate_limited`` (nothing counted) when one is used up."""
        if not self.enabled:
            return
        for item in items:
            if not self.limiter.test(item, *identifiers):
                reset, _ = self.limiter.get_window_stats(item, *identifiers)
                wait = max(1, math.ceil(reset - time.time()))
                raise ApiProblem(
                    429,
                    "rate_limited",
                    f"Too many {what} ({item}); try again in {wait} s.",
                    headers={"Retry-After": str(wait)},
                    retry_after=wait,
                )
        for item in items:
            self.limiter.hit(item, *identifiers)


def client_address(request: Request) -> str:
    """The caller's address as the server sees it (behind a proxy: what the proxy headers, trusted, say)."""
    return request.client.host if request.client else "unknown"


def limits_of(request: Request) -> RateLimits:
    """The process's rate limits."""
    found: RateLimits = request.app.state.rate_limits
    return found


async def public_rate(request: Request) -> None:
    """A route dependency: a caller without a valid token is counted per address (``rate_limit_public``)."""
    try:
        anonymous = caller_or_public(request, None if "authorization" not in request.headers else _bearer(request))
    except ApiProblem:  # a bad token counts as none here; the route itself answers 401 where it needs one
        anonymous = None
    if anonymous is None or anonymous.role == "public":
        limits_of(request).hit(limits_of(request).public, "public", client_address(request), what="requests")


def _bearer(request: Request) -> Any:
    from fastapi.security import HTTPAuthorizationCredentials

    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise ApiProblem(401, "invalid_token", "Not a bearer token.")
    return HTTPAuthorizationCredentials(scheme=scheme, credentials=token.strip())


def objection_rate(request: Request, zone_id: str) -> None:
    """A public objection is counted per address and per zone (``rate_limit_objections``,
    ``rate_limit_zone_objections``)."""
    limits = limits_of(request)
    limits.hit(limits.objections, "objections", client_address(request), what="objections from this address")
    limits.hit(limits.zone_objections, "zone-objections", zone_id, what="objections on this zone")


PublicRate = Depends(public_rate)
