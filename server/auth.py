"""JWT tokens: issuing, verifying, and finding them in headers and init payloads."""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jwt
from tortoise.exceptions import IntegrityError

from models.tables import ServerSecret
from resolvers.errors import Unauthenticated
from resolvers.validation import is_user_id

_ALGORITHM = "HS256"
_SECRET_NAME = "jwt_secret"


@dataclass(frozen=True, slots=True)
class Claims:
    user_id: str
    name: str | None
    expires_at: float | None


class TokenAuthority:
    def __init__(self, secret: str) -> None:
        self._secret = secret

    def issue(self, user_id: str, name: str | None, ttl: float) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {"sub": user_id, "iat": now, "exp": now + int(ttl)}
        if name:
            claims["name"] = name
        return jwt.encode(claims, self._secret, algorithm=_ALGORITHM)

    def verify(self, token: str) -> Claims:
        """The token's claims; UNAUTHENTICATED when it is malformed, forged or expired."""
        try:
            claims = jwt.decode(
                token, self._secret, algorithms=[_ALGORITHM], options={"require": ["sub"]}
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("The token has expired") from None
        except jwt.PyJWTError:
            raise Unauthenticated("The token is not valid") from None
        user_id = claims.get("sub")
        name = claims.get("name")
        expires = claims.get("exp")
        if not isinstance(user_id, str) or not is_user_id(user_id):
            raise Unauthenticated("The token's subject is not a user id")
        return Claims(
            user_id=user_id,
            name=name if isinstance(name, str) else None,
            expires_at=float(expires) if isinstance(expires, int | float) else None,
        )


async def load_secret(configured: str | None) -> str:
    """The configured secret, or the one generated once and kept with the database."""
    if configured:
        return configured
    stored = await ServerSecret.get_or_none(name=_SECRET_NAME)
    if stored is None:
        try:
            stored = await ServerSecret.create(name=_SECRET_NAME, value=secrets.token_urlsafe(48))
        except IntegrityError:  # another worker generated it first
            stored = await ServerSecret.get(name=_SECRET_NAME)
    return stored.value


def bearer(value: object) -> str | None:
    """The token of an `Authorization` value, with or without `Bearer `."""
    if not isinstance(value, str):
        return None
    value = value.strip()
    if value[:7].lower() == "bearer ":
        value = value[7:].strip()
    return value or None


def _get(mapping: Mapping[str, Any], key: str) -> Any:
    for candidate, value in mapping.items():
        if isinstance(candidate, str) and candidate.lower() == key:
            return value
    return None


def token_from_init(payload: Mapping[str, Any]) -> str | None:
    """The token of a `connection_init` payload, in any of the forms clients send."""
    for key in ("authtoken", "token", "authorization"):
        token = bearer(_get(payload, key))
        if token:
            return token
    headers = _get(payload, "headers")
    if isinstance(headers, Mapping):
        return bearer(_get(headers, "authorization"))
    return None
