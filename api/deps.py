"""Dependencies as Annotated aliases: the container, the acting principal, role checks."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated

import jwt
from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.auth import TOKEN_ROLES
from api.errors import ApiProblem
from domain.values import Actor
from zonecase.wiring import Container

bearer = HTTPBearer(auto_error=False, description="A JWT (HS256) with claims sub, role, org, name, exp.")


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


def get_container(request: Request) -> Container:
    """The process's container (built at start-up)."""
    container: Container = request.app.state.container
    return container


def _decode(request: Request, credentials: HTTPAuthorizationCredentials | None) -> Principal | None:
    if credentials is None:
        return None
    secret: str = request.app.state.jwt_secret
    try:
        claims = jwt.decode(credentials.credentials, secret, algorithms=["HS256"], options={"require": ["sub"]})
    except jwt.PyJWTError as e:
        raise ApiProblem(401, "invalid_token", f"The bearer token is not valid: {e}.") from None
    role, sub, org = claims.get("role"), claims.get("sub"), claims.get("org") or ""
    if role not in TOKEN_ROLES or not isinstance(sub, str) or not sub:
        raise ApiProblem(401, "invalid_token", "The bearer token names no known role or no subject.")
    if role == "applicant" and not org:
        raise ApiProblem(401, "invalid_token", "An applicant's token must name its organisation (org).")
    return Principal(sub=sub, role=role, org=str(org), name=str(claims.get("name") or ""))


def require_principal(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> Principal:
    """The caller; 401 without a valid token."""
    principal = _decode(request, credentials)
    if principal is None:
        raise ApiProblem(401, "unauthorized", "This needs a bearer token (Authorization: Bearer <JWT>).")
    return principal


def optional_principal(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> Principal:
    """The caller if a token is sent, otherwise the public."""
    return _decode(request, credentials) or PUBLIC


def require_roles(principal: Principal, *roles: str) -> None:
    """403 unless the caller has one of ``roles``."""
    if principal.role not in roles:
        raise ApiProblem(
            403,
            "forbidden",
            f"A {principal.role.replace('_', ' ')} may not do this; it is for: "
            + ", ".join(r.replace("_", " ") for r in roles)
            + ".",
        )


VERSION = re.compile(r'^(?:W/)?"?(\d{1,9})"?$')


def expected_version(if_match: Annotated[str | None, Header(alias="If-Match")] = None) -> int | None:
    """The version an ``If-Match`` header names (``"7"``), or None."""
    if if_match is None or if_match.strip() == "*":
        return None
    m = VERSION.match(if_match.strip())
    if not m:
        raise ApiProblem(
            422,
            "validation_failed",
            'If-Match must name a zone version, e.g. "7".',
            errors=[{"loc": ["header", "If-Match"], "msg": "a version in quotes"}],
        )
    return int(m.group(1))


ContainerDep = Annotated[Container, Depends(get_container)]
PrincipalDep = Annotated[Principal, Depends(require_principal)]
MaybePrincipalDep = Annotated[Principal, Depends(optional_principal)]
IfMatchDep = Annotated[int | None, Depends(expected_version)]
IdempotencyKeyDep = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)]
