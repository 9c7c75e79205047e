"""JWT bearer verification against a JWKS (file or URL): signature, issuer, audience, expiry, roles, agency."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Coroutine
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict

from hoso.problems import Problem

ALLOWED_ALGORITHMS = ["RS256", "ES256"]


class Role(StrEnum):
    APPLICANT = "applicant"
    RECEPTION_OFFICER = "reception_officer"
    SPECIALIST = "specialist"
    LEADER = "leader"
    ADMIN = "admin"
    OPS = "ops"


OFFICER_ROLES = frozenset({Role.RECEPTION_OFFICER, Role.SPECIALIST, Role.LEADER})


class Principal(BaseModel):
    """Who is calling, from the verified token's claims."""

    model_config = ConfigDict(frozen=True)

    subject: str
    roles: frozenset[Role]
    agency: str | None = None
    name: str = ""
    email: str | None = None
    phone: str | None = None

    def has_any(self, *roles: Role) -> bool:
        return bool(self.roles.intersection(roles))


class InvalidToken(Problem):
    def __init__(self, detail: str) -> None:
        super().__init__(401, "Invalid token", detail, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})


class TokenVerifier:
    def __init__(
        self, *, issuer: str, audience: str, jwks_file: Path | None = None, jwks_url: str | None = None
    ) -> None:
        if (jwks_file is None) == (jwks_url is None):
            raise ValueError("configure exactly one of a JWKS file or a JWKS URL")
        self._issuer = issuer
        self._audience = audience
        self._jwks_file = jwks_file
        self._file_keys: tuple[float, jwt.PyJWKSet] | None = None
        self._client = jwt.PyJWKClient(jwks_url, cache_keys=True, lifespan=300) if jwks_url else None

    async def verify(self, token: str) -> Principal:
        try:
            key = await self._signing_key(token)
            claims = jwt.decode(
                token,
                key=key.key,
                algorithms=ALLOWED_ALGORITHMS,
                audience=self._audience,
                issuer=self._issuer,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
                leeway=30,
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(str(exc)) from exc
        return _principal(claims)

    async def _signing_key(self, token: str) -> jwt.PyJWK:
        header = jwt.get_unverified_header(token)
        if header.get("alg") not in ALLOWED_ALGORITHMS:
            raise jwt.InvalidAlgorithmError(f"algorithm {header.get('alg')!r} is not accepted")
        if self._client is not None:
            return await asyncio.to_thread(self._client.get_signing_key_from_jwt, token)
        keys = self._load_file_keys()
        kid = header.get("kid")
        for key in keys.keys:
            if kid is None or key.key_id == kid:
                return key
        raise jwt.InvalidKeyError(f"no key with kid {kid!r} in the JWKS")

    def _load_file_keys(self) -> jwt.PyJWKSet:
        assert self._jwks_file is not None
        try:
            mtime = self._jwks_file.stat().st_mtime
        except FileNotFoundError as exc:
            raise jwt.InvalidKeyError(f"JWKS file {self._jwks_file} does not exist") from exc
        if self._file_keys is None or self._file_keys[0] != mtime:
            keys = jwt.PyJWKSet.from_dict(json.loads(self._jwks_file.read_text()))
            self._file_keys = (mtime, keys)
        return self._file_keys[1]


def _principal(claims: dict[str, Any]) -> Principal:
    raw_roles = claims.get("roles", [])
    if not isinstance(raw_roles, list) or not raw_roles:
        raise InvalidToken("the token carries no roles")
    try:
        roles = frozenset(Role(r) for r in raw_roles)
    except ValueError as exc:
        raise InvalidToken(f"unknown role in token: {exc}") from exc
    agency = claims.get("agency")
    if roles & (OFFICER_ROLES | {Role.ADMIN}) and not agency:
        raise InvalidToken("an officer's token must name an agency")
    return Principal(
        subject=str(claims["sub"]),
        roles=roles,
        agency=agency,
        name=str(claims.get("name", "")),
        email=claims.get("email"),
        phone=claims.get("phone"),
    )


_bearer = HTTPBearer(auto_error=False)


async def current_principal(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise InvalidToken("a bearer token is required")
    verifier: TokenVerifier = request.app.state.token_verifier
    return await verifier.verify(credentials.credentials)


def require_roles(*roles: Role) -> Callable[..., Coroutine[Any, Any, Principal]]:
    """A dependency that admits principals holding any of `roles`."""

    async def dependency(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        if not principal.has_any(*roles):
            raise Problem(403, "Forbidden", f"this action needs one of the roles: {', '.join(sorted(roles))}")
        return principal

    return dependency
