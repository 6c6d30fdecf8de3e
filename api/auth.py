"""Bearer tokens (HS256, pyjwt): minting for local use, and the secret's resolution."""

from __future__ import annotations

import secrets
import sys
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from typing import Any

import jwt

from application.settings import Settings
from domain.values import ROLES

TOKEN_ROLES = tuple(r for r in ROLES if r not in ("public", "system"))


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


def mint_token(
    secret: str,
    *,
    sub: str,
    role: str,
    org: str = "",
    name: str = "",
    hours: float = 12,
    now: datetime | None = None,
) -> str:
    """A signed token with the contract's claims."""
    if role not in TOKEN_ROLES:
        raise ValueError(f"role must be one of {', '.join(TOKEN_ROLES)}")
    if role == "applicant" and not org:
        raise ValueError("an applicant token needs --org")
    issued = now or datetime.now(UTC)
    claims: dict[str, Any] = {"sub": sub, "role": role, "iat": issued, "exp": issued + timedelta(hours=hours)}
    if org:
        claims["org"] = org
    if name:
        claims["name"] = name
    return jwt.encode(claims, secret, algorithm="HS256")
