"""Dependencies as Annotated aliases: the running services, the caller, role checks, the read door."""

from __future__ import annotations

import re
from collections.abc import Awaitable
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from typing import Annotated
from typing import Any
from typing import Protocol

import jwt
from fastapi import Depends
from fastapi import Header
from fastapi import Request
from fastapi.security import HTTPAuthorizationCredentials
from fastapi.security import HTTPBearer
from starlette.concurrency import run_in_threadpool

from api.auth import TOKEN_ROLES
from api.auth import VerifiedTokens
from api.errors import ApiProblem
from api.positions import READ_AFTER
from application.clock import Clock
from application.service import ZoneApplication
from application.settings import Settings
from audit.checkpoints import Checkpointer
from audit.checkpoints import SigningKey
from domain.errors import NotPermittedError
from domain.intake import EARLIEST
from domain.intake import LATEST
from domain.values import Actor
from domain.values import permit
from projections.runner import ViewRunner
from projections.storage import Tx

bearer = HTTPBearer(auto_error=False, description="A JWT (HS256) with claims sub, role, org, name, exp.")


class Services(Protocol):
    """What the HTTP layer uses of its process (built by the wiring on top)."""

    settings: Settings
    clock: Clock
    app: ZoneApplication
    runner: ViewRunner | None
    checkpoints: Checkpointer | None

    def start(self, key: SigningKey | None = None) -> None:
        """Starts what a serving process runs: the views and the signed checkpoints."""
        ...

    def close(self) -> None:
        """Stops the views and releases connections."""
        ...


@dataclass(frozen=True)
class Principal:
    """Who is calling, from the bearer token."""

    sub: str
    role: str
    org: str
    name: str

    @property
    def actor(self) -> Actor:
        """As recorded in events."""
        return Actor(self.sub, self.role, self.org, self.name)


PUBLIC = Principal(sub="public", role="public", org="", name="")


# The dependencies here are ``async def``: they only read the request and memory, and FastAPI runs a plain ``def``
# dependency in the thread pool — one hand-over to a thread and back for each, on every request.


async def get_services(request: Request) -> Services:
    """The process's services (built at start-up)."""
    services: Services = request.app.state.container
    return services


READ_AFTER_TIMEOUT = 5.0


def read(c: Services, view: str) -> AbstractContextManager[Tx]:
    """The one door into the read side: a read transaction on a view (503 when the views are not running), once the
    view has processed the position the client last saw (``Zonecase-After``: read-your-writes)."""
    catch_up(c, view)
    assert c.runner is not None
    return c.runner.read(view)


def catch_up(c: Services, *views: str) -> None:
    """Waits until the views have processed the position the client last saw (``Zonecase-After``, at most the
    log's end); 503 when the views are not running."""
    if c.runner is None:
        raise ApiProblem(503, "views_unavailable", "The read models are not running in this process.")
    if behind(c, *views):
        after = READ_AFTER.get() or 0
        head = c.app.recorder.max_notification_id() or 0  # a position past the log's end waits for nothing
        c.runner.wait_for(min(after, head), READ_AFTER_TIMEOUT, views=views)


async def caught_up(c: Services, *views: str) -> None:
    """``catch_up`` from the event loop: in the thread pool only when there is something to wait for."""
    if c.runner is not None and not behind(c, *views):
        return
    await run_in_threadpool(catch_up, c, *views)


def behind(c: Services, *views: str) -> bool:
    """Whether a view has not yet processed the position the client last saw (``Zonecase-After``)."""
    after = READ_AFTER.get()
    assert c.runner is not None
    return bool(after) and any(c.runner.positions.get(v, 0) < after for v in views)


def view_positions(c: Services, *views: str) -> tuple[int, ...]:
    """How far each of the views has got in the log (what a public answer is keyed by)."""
    if c.runner is None:
        raise ApiProblem(503, "views_unavailable", "The read models are not running in this process.")
    return tuple(c.runner.positions.get(v, 0) for v in views)


def _decode(request: Request, credentials: HTTPAuthorizationCredentials | None) -> Principal | None:
    if credentials is None:
        return None
    return principal_of(request, credentials.credentials)


def principal_of(request: Request, token: str) -> Principal:
    """The caller a token names, once it passes every check (``decode_token``, a known role, an applicant's
    organisation); 401 otherwise. The bearer header's and the console's cookie's one rule."""
    tokens: VerifiedTokens = request.app.state.tokens
    try:
        claims = tokens.claims(token)
    except jwt.PyJWTError as e:
        raise ApiProblem(401, "invalid_token", f"The bearer token is not valid: {e}.") from None
    role, sub, org = claims.get("role"), claims.get("sub"), claims.get("org") or ""
    if role not in TOKEN_ROLES or not isinstance(sub, str) or not sub:
        raise ApiProblem(401, "invalid_token", "The bearer token names no known role or no subject.")
    if role == "applicant" and not org:
        raise ApiProblem(401, "invalid_token", "An applicant's token must name its organisation (org).")
    principal = Principal(sub=sub, role=role, org=str(org), name=str(claims.get("name") or ""))
    request.state.principal = principal  # for the request's log line (its subject and role, never the name)
    return principal


async def require_principal(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> Principal:
    """The caller; 401 without a valid token."""
    principal = _decode(request, credentials)
    if principal is None:
        raise ApiProblem(401, "unauthorized", "This needs a bearer token (Authorization: Bearer <JWT>).")
    return principal


async def optional_principal(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> Principal:
    """The caller if a token is sent, otherwise the public."""
    return caller_or_public(request, credentials)


def caller_or_public(request: Request, credentials: HTTPAuthorizationCredentials | None) -> Principal:
    """The caller a token names (401 for a bad one), or the public without one."""
    principal = _decode(request, credentials) or PUBLIC
    request.state.principal = principal
    return principal


def require_roles(principal: Principal, *roles: str) -> None:
    """403 unless the caller has one of ``roles`` (the domain's own check, made before anything is loaded)."""
    try:
        permit(principal.role, roles)
    except NotPermittedError as e:
        raise ApiProblem(403, "forbidden", e.message) from None


def Roles(*roles: str, anonymous: bool = False) -> Any:
    """A route dependency: the caller must hold one of ``roles`` (with ``anonymous``, no token means public)."""
    source: Callable[..., Awaitable[Principal]] = optional_principal if anonymous else require_principal

    async def check(principal: Principal = Depends(source)) -> Principal:  # a default: evaluated here, with ``source``
        require_roles(principal, *roles)
        return principal

    return Depends(check)


VERSION = re.compile(r'^(W/)?"?(\d{1,9})"?$')


async def expected_version(if_match: Annotated[str | None, Header(alias="If-Match")] = None) -> int | None:
    """The version an ``If-Match`` header names (``"7"``), or None. A weak tag (``W/"7"``) never matches:
    ``If-Match`` compares strongly (RFC 9110 §13.1.1), so it is 412 and nothing is recorded."""
    if if_match is None or if_match.strip() == "*":
        return None
    m = VERSION.match(if_match.strip())
    if m and m.group(1):
        raise ApiProblem(412, "precondition_failed", 'If-Match compares strongly: a weak tag (W/"…") never matches.')
    if not m:
        raise ApiProblem(
            422,
            "validation_failed",
            'If-Match must name a zone version, e.g. "7".',
            errors=[{"loc": ["header", "If-Match"], "msg": "a version in quotes"}],
        )
    return int(m.group(2))


def instant_param(value: datetime, name: str, loc: str = "query") -> datetime:
    """``value`` if it carries a time zone offset and lies within the days the service computes with; 422
    otherwise (a year 9999 or 1 would overflow the deadlines computed from it)."""
    if value.tzinfo is None:
        raise ApiProblem(
            422,
            "validation_failed",
            f"{name} needs a time zone offset, e.g. 2024-01-01T00:00:00+08:00.",
            errors=[{"loc": [loc, name], "msg": "offset required"}],
        )
    try:
        day = value.astimezone(UTC).date()
    except OverflowError:
        day = value.date()
    if not EARLIEST < day < LATEST:  # a day's margin either side: its offsets stay representable
        raise ApiProblem(
            422,
            "validation_failed",
            f"{name} must lie between {EARLIEST.isoformat()} and {LATEST.isoformat()}.",
            errors=[{"loc": [loc, name], "msg": "out of range"}],
        )
    return value


ServicesDep = Annotated[Services, Depends(get_services)]
PrincipalDep = Annotated[Principal, Depends(require_principal)]
IfMatchDep = Annotated[int | None, Depends(expected_version)]
IdempotencyKeyDep = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)]
