"""Bearer tokens (HS256, pyjwt): minting for local use, and the secret's resolution."""

from __future__ import annotations

import secrets
import sys
import threading
import time
from collections import OrderedDict
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from typing import Any

import jwt

from application.settings import Settings
from domain.values import ROLES
from domain.values import SYSTEM

TOKEN_ROLES = tuple(r for r in ROLES if r not in ("public", "system"))
# Subjects the record gives to the process itself and to anonymous callers: a token naming one would
# pass its holder off as the scheduler or the public in the history.
RESERVED_SUBJECTS = frozenset({"public", "system", SYSTEM.sub})
LEEWAY_SECONDS = 60  # clock skew between the token's issuer and this server, on the lifetime's bound


class SecretMissingError(RuntimeError):
    """Production without ``ZONECASE_JWT_SECRET``."""


def resolve_jwt_secret(settings: Settings) -> str:
    """The configured secret; in development a generated one kept under the data directory (with a warning)."""
    if settings.jwt_secret:
        return settings.jwt_secret
    if settings.env == "production":
        raise SecretMissingError("ZONECASE_JWT_SECRET is not set; zonecase will not start in production without it.")
    path = settings.data_dir / "dev-jwt-secret"
    if path.exists():
        secret = path.read_text().strip()
    else:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        secret = secrets.token_urlsafe(32)
        path.write_text(secret)
        path.chmod(0o600)
    print(f"WARNING: ZONECASE_JWT_SECRET is not set; using the development secret in {path}", file=sys.stderr)
    return secret


def reserved(sub: str) -> bool:
    """A subject no token may carry (``RESERVED_SUBJECTS``, in any case)."""
    return sub.strip().casefold() in RESERVED_SUBJECTS


def decode_token(token: str, secret: str, settings: Settings) -> dict[str, Any]:
    """The claims of a token that passes every check: the HS256 signature; ``sub`` and ``exp`` present,
    ``exp`` not past and no further ahead than ``token_max_hours``; ``iss`` and ``aud`` when configured;
    a subject that is not reserved. Raises ``jwt.PyJWTError`` saying which check failed."""
    required = ["sub", "exp", *(["iss"] if settings.jwt_issuer else []), *(["aud"] if settings.jwt_audience else [])]
    claims: dict[str, Any] = jwt.decode(
        token,
        secret,
        algorithms=["HS256"],
        options={"require": required},
        issuer=settings.jwt_issuer or None,
        audience=settings.jwt_audience or None,
    )
    if claims["exp"] - time.time() > settings.token_max_hours * 3600 + LEEWAY_SECONDS:
        raise jwt.InvalidTokenError(f"it expires more than {settings.token_max_hours:g} hours ahead")
    if isinstance(claims["sub"], str) and reserved(claims["sub"]):
        raise jwt.InvalidTokenError(f"the subject {claims['sub']!r} is reserved")
    return claims


class VerifiedTokens:
    """Tokens that passed ``decode_token`` lately, so that a client sending the same token again is not checked
    again from scratch (signature, JSON, claims: the larger part of a small request's work). Only expiry moves with
    time: it is checked on every use. Bounded (least recently used first out); per process and secret."""

    def __init__(self, secret: str, settings: Settings, size: int = 4096) -> None:
        self.secret, self.settings, self.size = secret, settings, size
        self._claims: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def claims(self, token: str) -> dict[str, Any]:
        """The token's claims if it passes every check of ``decode_token`` now; raises ``jwt.PyJWTError``."""
        with self._lock:
            known = self._claims.get(token)
            if known is not None:
                self._claims.move_to_end(token)
        if known is not None:
            if int(known["exp"]) <= time.time():  # as pyjwt judges it (a whole second, no leeway)
                with self._lock:
                    self._claims.pop(token, None)
                raise jwt.ExpiredSignatureError("Signature has expired")
            return known
        claims = decode_token(token, self.secret, self.settings)
        with self._lock:
            self._claims[token] = claims
            while len(self._claims) > self.size:
                self._claims.popitem(last=False)
        return claims


def mint_token(
    secret: str,
    *,
    sub: str,
    role: str,
    org: str = "",
    name: str = "",
    hours: float = 12,
    now: datetime | None = None,
    issuer: str = "",
    audience: str = "",
) -> str:
    """A signed token with the contract's claims (``exp`` ``hours`` after ``now``)."""
    if role not in TOKEN_ROLES:
        raise ValueError(f"role must be one of {', '.join(TOKEN_ROLES)}")
    if role == "applicant" and not org:
        raise ValueError("an applicant token needs --org")
    if reserved(sub):
        raise ValueError(f"the subject {sub!r} is reserved ({', '.join(sorted(RESERVED_SUBJECTS))})")
    issued = now or datetime.now(UTC)
    claims: dict[str, Any] = {"sub": sub, "role": role, "iat": issued, "exp": issued + timedelta(hours=hours)}
    for claim, value in (("org", org), ("name", name), ("iss", issuer), ("aud", audience)):
        if value:
            claims[claim] = value
    return jwt.encode(claims, secret, algorithm="HS256")
