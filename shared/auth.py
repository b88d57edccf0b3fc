"""Bearer-token authentication and role/municipality authorisation for the HTTP APIs.

Tokens are JWTs carrying ``sub`` (a pseudonymous person id), ``role`` and ``municipality``
(a CBS code). In development they are signed with a shared secret; everywhere else they are
verified against the identity provider's JWKS.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

import jwt
from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from shared.contracts.base import PSEUDONYMOUS_ID_MAX_LENGTH, PSEUDONYMOUS_ID_PATTERN
from shared.http import Problem
from shared.settings import ServiceSettings

MUNICIPALITY_PATTERN = r"^GM\d{4}$"


class Role(StrEnum):
    RESIDENT = "resident"
    INITIATOR = "initiator"
    COUNCIL_MEMBER = "council_member"
    CIVIL_SERVANT = "civil_servant"
    BUDGET_HOLDER = "budget_holder"
    SYSTEM = "system"


@dataclass(frozen=True)
class Principal:
    """Who is calling: a pseudonymous person (or system) acting in one role and municipality."""

    subject: str
    role: Role
    municipality: str


class TokenVerifier:
    """Verifies bearer tokens with the development secret or the production JWKS."""

    def __init__(self, settings: ServiceSettings) -> None:
        self._secret = settings.auth_jwt_secret
        self._audience = settings.auth_audience
        self._issuer = settings.auth_issuer
        self._jwks = jwt.PyJWKClient(settings.auth_jwks_url) if settings.auth_jwks_url else None

    async def verify(self, token: str) -> Principal:
        try:
            if self._jwks is not None:
                # PyJWKClient fetches (and caches) keys synchronously: keep it off the loop.
                signing_key = await asyncio.to_thread(self._jwks.get_signing_key_from_jwt, token)
                key: Any = signing_key.key
                algorithms = ["RS256", "ES256", "PS256"]
            else:
                key, algorithms = self._secret, ["HS256"]
            claims = jwt.decode(
                token,
                key,
                algorithms=algorithms,
                audience=self._audience,
                issuer=self._issuer,
                options={"require": ["sub", "exp", "aud"]},
            )
        except jwt.PyJWTError as error:
            raise Problem(401, "Invalid token", f"The bearer token was refused: {error}") from error
        subject = str(claims["sub"])
        if len(subject) > PSEUDONYMOUS_ID_MAX_LENGTH or not re.fullmatch(
            PSEUDONYMOUS_ID_PATTERN, subject
        ):
            # What a caller does is published under this id: never a name or an address.
            raise Problem(
                401,
                "Invalid token",
                "The token's subject must be a pseudonymous id (letters, digits and _ . : -, "
                "at most 64 characters), not a name or an e-mail address.",
            )
        try:
            return Principal(
                subject=subject,
                role=Role(claims["role"]),
                municipality=str(claims["municipality"]),
            )
        except (KeyError, ValueError) as error:
            raise Problem(
                401, "Invalid token", f"The token lacks a valid role or municipality: {error}"
            ) from error


def issue_development_token(
    secret: str,
    *,
    subject: str,
    role: Role,
    municipality: str,
    audience: str = "inspraak",
    lifetime_s: int = 30 * 24 * 3600,
) -> str:
    """A token signed with the development secret, for `make run`, demos and tests."""
    now = int(time.time())
    claims = {
        "sub": subject,
        "role": role.value,
        "municipality": municipality,
        "aud": audience,
        "iat": now,
        "exp": now + lifetime_s,
    }
    return jwt.encode(claims, secret, algorithm="HS256")


_bearer = HTTPBearer(auto_error=False)


async def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None:
        raise Problem(401, "Not authenticated", "This route needs a bearer token.")
    verifier: TokenVerifier = request.app.state.token_verifier
    return await verifier.verify(credentials.credentials)


class Authorize:
    """A route dependency: the caller must hold one of ``roles`` in the path's municipality.

    Tests enumerate routes by looking for this dependency, so every command route gets
    checked for 401/403 behaviour without a hand-kept list.
    """

    def __init__(self, *roles: Role) -> None:
        self.roles = frozenset(roles)

    async def __call__(
        self,
        principal: Annotated[Principal, Depends(current_principal)],
        municipality: Annotated[str, Path(pattern=MUNICIPALITY_PATTERN)],
    ) -> Principal:
        if principal.role not in self.roles:
            allowed = ", ".join(sorted(self.roles))
            raise Problem(
                403, "Forbidden", f"Role '{principal.role}' may not do this; allowed: {allowed}."
            )
        if principal.municipality != municipality:
            raise Problem(
                403,
                "Forbidden",
                f"The token is for municipality {principal.municipality}, not {municipality}.",
            )
        return principal
